import { createLogger } from '@switchyard/service-kit';
import { startTestGateway, type TestGateway } from '../testing/test-gateway';
import type { RequestContext } from './context';
import { Pipeline } from './pipeline';
import type { GatewayPlugin } from './plugin';

const PRODUCTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@authenticated"])
  type Query { products(first: Int = 2): [Product!]! product(id: ID!): Product me: User @authenticated }
  type Product @key(fields: "id") { id: ID! name: String! }
  type User { id: ID! }
`;
const products = [{ id: 'p1', name: 'Lamp' }, { id: 'p2', name: 'Desk' }, { id: 'p3', name: 'Chair' }];

describe('the core request path', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({
      subgraphs: {
        products: {
          sdl: PRODUCTS,
          resolvers: {
            Query: { products: (_: unknown, { first }: { first: number }) => products.slice(0, first), product: (_: unknown, { id }: { id: string }) => products.find((p) => p.id === id) ?? null, me: () => ({ id: 'u1' }) },
          },
        },
      },
    });
  });
  afterAll(() => gateway.close());

  it('runs a query with the defaults of its variables applied once, and forwards the coerced values', async () => {
    const res = await gateway.graphql('query List($first: Int = 1) { products(first: $first) { name } }');
    expect(res).toMatchObject({ status: 200, body: { data: { products: [{ name: 'Lamp' }] } } });
    expect(JSON.parse(gateway.received.products.at(-1)!.body).variables).toEqual({ first: 1 });
  });

  it('drops variables the operation does not declare before anything reads them', async () => {
    const res = await gateway.graphql('query One($id: ID!) { product(id: $id) { name } }', { variables: { id: 'p2', extra: 'x'.repeat(10_000) } });
    expect(res.body).toEqual({ data: { product: { name: 'Desk' } } });
    expect(JSON.parse(gateway.received.products.at(-1)!.body).variables).toEqual({ id: 'p2' });
  });

  it('a GET with a parameter given twice, in any spelling, is refused, not read one way here and another there', async () => {
    for (const url of ['/graphql?query=%7Bproducts%7Bname%7D%7D&query=%7B__typename%7D', '/graphql?query=%7B__typename%7D&%71uery=x', '/graphql?operationName=A&operationName=B&query=query%20A%7B__typename%7D']) {
      const res = await gateway.inject({ method: 'GET', url, headers: { 'apollo-require-preflight': 'true' } });
      expect({ url, status: res.statusCode, code: JSON.parse(res.body).errors[0].extensions.code }).toEqual({ url, status: 400, code: 'BAD_REQUEST' });
    }
  });

  it('variables nested deeper than 64 levels are a 400, however deep', async () => {
    for (const depth of [65, 1000, 300_000]) {
      const payload = `{"query":"query One($id: ID!) { product(id: $id) { name } }","variables":{"id":"p1","deep":${'['.repeat(depth)}1${']'.repeat(depth)}}}`;
      const answer = await gateway.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload });
      const res = { status: answer.statusCode, body: JSON.parse(answer.body) };
      expect({ depth, status: res.status, code: res.body.errors[0].extensions.code }).toEqual({ depth, status: 400, code: 'BAD_REQUEST' });
    }
  });

  it('an anonymous @skip with a default variable skips the protected field and still answers the rest', async () => {
    const res = await gateway.graphql('query($v: Boolean = true) { me @skip(if: $v) { id } product(id: "p1") { name } }');
    expect(res).toMatchObject({ status: 200, body: { data: { product: { name: 'Lamp' } } } });
    expect(res.body.errors).toBeUndefined();
  });

  it('a mutation or subscription over GET, a parse error and an unknown operation name get their 4xx', async () => {
    expect((await gateway.graphql('{ products { name } }', { method: 'GET' })).body).toEqual({ data: { products: [{ name: 'Lamp' }, { name: 'Desk' }] } });
    const parse = await gateway.graphql('{ products { ');
    expect([parse.status, parse.body.errors[0].extensions.code]).toEqual([400, 'GRAPHQL_PARSE_FAILED']);
    const unknown = await gateway.graphql('query A { __typename }', { operationName: 'B' });
    expect([unknown.status, unknown.body.errors[0].extensions.code]).toEqual([400, 'OPERATION_RESOLUTION_FAILURE']);
  });
});

describe('plugins that wrap a subgraph fetch', () => {
  it('nest in the order they are listed, each sending on what it chose and answering the one before it', async () => {
    const seen: string[] = [];
    const wrapper = (name: string): GatewayPlugin => ({
      name,
      stage: 'transport',
      async aroundSubgraphFetch(_context, fetch, send) {
        seen.push(`${name} got ${fetch.query}`);
        const answer = await send({ ...fetch, query: `${fetch.query} ${name}` });
        seen.push(`${name} answered`);
        return answer;
      },
    });
    const pipeline = new Pipeline({ plugins: [wrapper('outer'), wrapper('inner')], execution: {} as never, logger: createLogger('gateway', 'silent'), introspection: false });
    const answer = await pipeline.subgraphFetch({} as RequestContext, { subgraph: 'products', query: 'q' }, async (fetch) => {
      seen.push(`sent ${fetch.query}`);
      return { body: { data: { sent: fetch.query } } };
    });
    expect([answer, seen]).toEqual([{ body: { data: { sent: 'q outer inner' } } }, ['outer got q', 'inner got q outer', 'sent q outer inner', 'inner answered', 'outer answered']]);
  });
});
