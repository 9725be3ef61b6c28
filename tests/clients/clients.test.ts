import { createHash, randomUUID } from 'node:crypto';
// Apollo Client 3's CommonJS build, named by file: its package entry points type as ES modules only.
import { ApolloClient, HttpLink, InMemoryCache, gql, type ApolloError, type ApolloLink } from '@apollo/client/core/core.cjs';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/persisted-queries.cjs';
import { Client, cacheExchange, fetchExchange } from '@urql/core';
import { GraphQLClient, ClientError } from 'graphql-request';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startTestGateway, type TestGateway } from '../../gateway/src/testing/test-gateway';

/**
 * Real GraphQL clients against a whole gateway in this process (fake subgraphs, a real port): each one's
 * default way of sending queries, persisted queries, a mutation with a token, an error, compared whole.
 * The same runs against the development defaults and the production configuration.
 */
const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated"])
  type Query { product(id: ID!): Product products: [Product!]! }
  type Mutation { rate(id: ID!, stars: Int!): Product! @authenticated }
  type Product @key(fields: "id") { id: ID! name: String! stars: Int }
`;
const ISSUER = 'https://issuer.clients.test/';
const AUDIENCE = 'switchyard';
const PRODUCT = { __typename: 'Product', id: 'p1', name: 'Desk lamp' };

async function signer() {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'clients', alg: 'ES256' };
  const token = () =>
    new SignJWT({ scope: 'products:rate' }).setProtectedHeader({ alg: 'ES256', kid: 'clients' }).setSubject('usr_7').setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m').sign(privateKey);
  return { jwk, token };
}

/** Development defaults, and production: NODE_ENV=production (introspection and suggestions off) with rate limits on. */
const CONFIGS: [string, { env: NodeJS.ProcessEnv; config: Record<string, unknown> }][] = [
  ['development defaults', { env: {}, config: {} }],
  ['production configuration', { env: { NODE_ENV: 'production' }, config: { 'sandbox.enabled': false, 'rate_limit.enabled': true } }],
];

describe.each(CONFIGS)('GraphQL clients against the gateway (%s)', (_name, { env, config }) => {
  let gateway: TestGateway;
  let url: string;
  let token: () => Promise<string>;
  const ratings: Record<string, number> = {};

  beforeAll(async () => {
    const keys = await signer();
    token = keys.token;
    gateway = await startTestGateway({
      listen: true,
      env,
      subgraphs: {
        products: {
          sdl: SDL,
          resolvers: {
            Query: { product: (_: unknown, { id }: { id: string }) => (id === 'p1' ? { id, name: 'Desk lamp' } : null), products: () => [{ id: 'p1', name: 'Desk lamp' }] },
            Mutation: { rate: (_: unknown, { id, stars }: { id: string; stars: number }) => ((ratings[id] = stars), { id, name: 'Desk lamp', stars }) },
            Product: { stars: ({ id }: { id: string }) => ratings[id] ?? null },
          },
        },
      },
      config: { ...config, 'authentication.router.jwt': { jwks: [{ keys: [keys.jwk], issuers: [ISSUER], audiences: [AUDIENCE] }] } },
    });
    url = gateway.url!;
  });
  afterAll(() => gateway.close());

  const PRODUCT_QUERY = 'query Product($id: ID!) { product(id: $id) { id name } }';

  describe('Apollo Client 3', () => {
    const client = (link: ApolloLink) =>
      new ApolloClient({ link, cache: new InMemoryCache(), defaultOptions: { query: { fetchPolicy: 'no-cache' } }, clientAwareness: { name: 'web', version: '1.0.0' } });

    it('queries over POST and with useGETForQueries, with client awareness', async () => {
      for (const useGETForQueries of [false, true]) {
        const apollo = client(new HttpLink({ uri: url, useGETForQueries }));
        const result = await apollo.query({ query: gql(PRODUCT_QUERY), variables: { id: 'p1' } });
        expect({ useGETForQueries, data: result.data, errors: result.errors }).toEqual({ useGETForQueries, data: { product: PRODUCT }, errors: undefined });
      }
      const sent = gateway.contexts.slice(-2);
      expect(sent.map((c) => [c.http.method, c.client])).toEqual([
        ['POST', { name: 'web', version: '1.0.0' }],
        ['GET', { name: 'web', version: '1.0.0' }],
      ]);
    });

    it('automatic persisted queries over GET and POST: the hash first, the text once', async () => {
      for (const useGETForHashedQueries of [false, true]) {
        const apollo = client(createPersistedQueryLink({ sha256: (text: string) => createHash('sha256').update(text).digest('hex'), useGETForHashedQueries }).concat(new HttpLink({ uri: url })));
        const query = gql(`query Products${useGETForHashedQueries ? 'Get' : 'Post'}${randomUUID().slice(0, 8)} { products { id name } }`);
        const first = await apollo.query({ query });
        const second = await apollo.query({ query });
        expect([first.data, second.data]).toEqual([{ products: [PRODUCT] }, { products: [PRODUCT] }]);
      }
    });

    it('a mutation with a token, and the same without one refused with UNAUTHORIZED_FIELD_OR_TYPE', async () => {
      const bearer = await token();
      const apollo = client(new HttpLink({ uri: url, headers: { authorization: `Bearer ${bearer}` } }));
      const rated = await apollo.mutate({ mutation: gql('mutation Rate { rate(id: "p1", stars: 5) { id stars } }') });
      expect(rated.data).toEqual({ rate: { __typename: 'Product', id: 'p1', stars: 5 } });
      const anonymous = client(new HttpLink({ uri: url }));
      // A developer is told what is missing; production says only that the field is unauthorized.
      const refusal =
        env.NODE_ENV === 'production'
          ? { message: 'Unauthorized field or type', extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } }
          : { message: 'Unauthorized field or type: the request has no credential (a bearer token or an API key)', extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE', missingCredential: true } };
      const refused = await anonymous.mutate({ mutation: gql('mutation Rate { rate(id: "p1", stars: 1) { id stars } }') }).catch((err: ApolloError) => err);
      expect((refused as ApolloError).graphQLErrors.map(({ message, path, extensions }) => ({ message, path, extensions }))).toEqual([{ ...refusal, path: ['rate'] }]);
    });
  });

  describe('urql', () => {
    const client = (fetchOptions?: RequestInit) => new Client({ url, exchanges: [cacheExchange, fetchExchange], requestPolicy: 'network-only', fetchOptions });

    it('its default, short queries as GET without a preflight header, works', async () => {
      const result = await client().query(PRODUCT_QUERY, { id: 'p1' }).toPromise();
      expect({ data: result.data, error: result.error }).toEqual({ data: { product: PRODUCT }, error: undefined });
      expect(gateway.contexts.at(-1)!.http.method).toBe('GET');
    });

    it('a mutation with a token over POST, and an invalid query as a CombinedError with the gateway code', async () => {
      const rated = await client({ headers: { authorization: `Bearer ${await token()}` } }).mutation('mutation { rate(id: "p1", stars: 4) { id stars } }', {}).toPromise();
      expect(rated.data).toEqual({ rate: { __typename: 'Product', id: 'p1', stars: 4 } });
      const invalid = await client().query('{ product(id: "p1") { price } }', {}).toPromise();
      expect(invalid.data).toBeUndefined();
      expect(invalid.error?.graphQLErrors.map((e) => e.extensions.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    });
  });

  describe('graphql-request', () => {
    it('queries and a mutation with a token; an error response is a ClientError carrying the whole response', async () => {
      const client = new GraphQLClient(url);
      // graphql-request sends the query as written: no __typename is added.
      expect(await client.request(PRODUCT_QUERY, { id: 'p1' })).toEqual({ product: { id: 'p1', name: 'Desk lamp' } });
      const signedIn = new GraphQLClient(url, { headers: { authorization: `Bearer ${await token()}` } });
      expect(await signedIn.request('mutation { rate(id: "p1", stars: 3) { stars } }')).toEqual({ rate: { stars: 3 } });
      const error = await client.request('{ product(id: "p1") { price } }').catch((err: unknown) => err);
      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).response.status).toBe(400);
      expect((error as ClientError).response.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    });
  });
});
