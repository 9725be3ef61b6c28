import { readFileSync } from 'node:fs';
import { sha256Hex, type PersistedQueryManifest } from '../gateway/src/plugins/persisted-operations/manifest';
import { startGateway, type RunningGateway } from '../gateway/src/main';
import { startTestGateway, type TestGateway } from '../gateway/src/testing/test-gateway';
import { buildManifest, manifestPath } from '../scripts/persisted-manifest';
import { gatewayConfig, startPlatform, type Platform } from './support/platform';
import { exchange } from './support/raw-http';

const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as PersistedQueryManifest;
const op = (name: string) => manifest.operations.find((o) => o.name === name)!;
const UNLISTED = '{ product(id: "prd_0002") { id name } }';
const persisted = (id: string) => ({ persistedQuery: { version: 1, sha256Hash: id } });

describe('the persisted query manifest', () => {
  it('operations/manifest.json is what npm run persisted:manifest makes of operations/*.graphql', () => {
    expect(readFileSync(manifestPath, 'utf8')).toBe(buildManifest());
  });

  it('is an Apollo manifest, version 1, each id the sha256 of its body, fragments included', () => {
    expect(manifest.format).toBe('apollo-persisted-query-manifest');
    expect(manifest.version).toBe(1);
    expect(manifest.operations.map((o) => [o.name, o.type])).toEqual([
      ['MyOrders', 'query'],
      ['PlaceOrder', 'mutation'],
      ['CancelOrder', 'mutation'],
      ['ProductPage', 'query'],
      ['Product', 'query'],
    ]);
    for (const o of manifest.operations) expect(o.id).toBe(sha256Hex(o.body));
    expect(op('Product').body).toMatch(/^query Product\(\$id: ID!\) \{[\s\S]*\n\nfragment ProductCard on Product \{/);
  });
});

describe('persisted operations through the gateway', () => {
  let safelisted: Platform;
  /** Manifests on, safelist off: listed ids served, APQ and free-form operations as before. */
  let open: RunningGateway;

  beforeAll(async () => {
    safelisted = await startPlatform('pglite', {
      'persisted_queries.enabled': true,
      'persisted_queries.safelist.enabled': true,
      'persisted_queries.local_manifests': [manifestPath],
    });
    open = await startGateway(
      gatewayConfig({
        override_subgraph_url: Object.fromEntries(safelisted.gateway.subgraphs.map((s) => [s.name, s.url])),
        'persisted_queries.enabled': true,
        'persisted_queries.local_manifests': [manifestPath],
      }),
    );
  }, 180_000);
  afterAll(async () => {
    await open?.close();
    await safelisted?.close();
  });

  const post = async (url: string, body: unknown) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const PRODUCT_1 = { product: { id: 'prd_0001', name: expect.any(String), priceCents: expect.any(Number), currency: 'USD', stock: expect.any(Number), description: expect.any(String) } };

  it('safelist: a listed operation sent by id alone runs', async () => {
    const res = await post(safelisted.gateway.graphqlUrl, { extensions: persisted(op('Product').id), variables: { id: 'prd_0001' } });
    expect(res).toEqual({ status: 200, body: { data: PRODUCT_1 } });
  });

  it('safelist: a listed operation by id over GET runs', async () => {
    const params = new URLSearchParams({ extensions: JSON.stringify(persisted(op('Product').id)), variables: JSON.stringify({ id: 'prd_0001' }) });
    const res = await fetch(`${safelisted.gateway.graphqlUrl}?${params}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: PRODUCT_1 });
  });

  it('safelist: a listed operation sent by its body runs', async () => {
    const res = await post(safelisted.gateway.graphqlUrl, { query: op('Product').body, variables: { id: 'prd_0001' } });
    expect(res).toEqual({ status: 200, body: { data: PRODUCT_1 } });
  });

  it('safelist: an unlisted operation, by body, by APQ registration or by an unknown id, gets 400 PERSISTED_QUERY_NOT_IN_LIST', async () => {
    const refused = { status: 400, body: { errors: [{ message: 'The operation is not in the persisted query list.', extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } }] } };
    expect(await post(safelisted.gateway.graphqlUrl, { query: UNLISTED })).toEqual(refused);
    expect(await post(safelisted.gateway.graphqlUrl, { query: UNLISTED, extensions: persisted(sha256Hex(UNLISTED)) })).toEqual(refused);
    expect(await post(safelisted.gateway.graphqlUrl, { extensions: persisted(sha256Hex(UNLISTED)) })).toEqual(refused);
  });

  it('safelist: a raw GET whose target hides a second query behind # or repeats query never runs the unlisted one', async () => {
    const unlisted = encodeURIComponent(UNLISTED);
    const listed = encodeURIComponent(op('Product').body);
    const targets = [
      `/graphql?query=${unlisted}#&query=x`,
      `/graphql?query=${unlisted}#`,
      `/graphql?query=${listed}&variables=%7B%22id%22%3A%22prd_0001%22%7D&query=${unlisted}`,
      `/graphql?query=${unlisted}&query=${listed}`,
      `/graphql?%71uery=${unlisted}&query=${listed}`,
    ];
    for (const target of targets) {
      const raw = `GET ${target} HTTP/1.1\r\nHost: localhost\r\napollo-require-preflight: true\r\nConnection: close\r\n\r\n`;
      const result = await exchange(safelisted.gateway.port, raw, { timeoutMs: 5_000, responses: 1 });
      const response = result.responses[0]!;
      expect({ target, status: response.status, code: JSON.parse(response.body.toString()).errors[0].extensions.code }).toEqual({ target, status: 400, code: 'BAD_REQUEST' });
    }
  });

  it('without the safelist, listed ids are served and APQ still registers and serves any operation', async () => {
    expect(await post(open.graphqlUrl, { extensions: persisted(op('Product').id), variables: { id: 'prd_0001' } })).toEqual({ status: 200, body: { data: PRODUCT_1 } });
    const hash = sha256Hex(UNLISTED);
    const unknown = await post(open.graphqlUrl, { extensions: persisted(hash) });
    expect(unknown.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await post(open.graphqlUrl, { query: UNLISTED, extensions: persisted(hash) })).toEqual({ status: 200, body: { data: { product: { id: 'prd_0002', name: expect.any(String) } } } });
    expect(await post(open.graphqlUrl, { extensions: persisted(hash) })).toEqual({ status: 200, body: { data: { product: { id: 'prd_0002', name: expect.any(String) } } } });
  });
});

describe('log_unknown and require_id, through the gateway', () => {
  const PRODUCTS = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
    type Query { product(id: ID!): Product }
    type Product @key(fields: "id") { id: ID! name: String! priceCents: Int! currency: String! stock: Int! description: String! }
  `;
  const products = [
    { id: 'prd_0001', name: 'Desk lamp', priceCents: 2900, currency: 'USD', stock: 12, description: 'Warm light' },
    { id: 'prd_0002', name: 'Standing desk', priceCents: 39900, currency: 'USD', stock: 3, description: 'Oak top' },
  ];
  const resolvers = { Query: { product: (_: unknown, { id }: { id: string }) => products.find((p) => p.id === id) ?? null } };
  const PRODUCT_1 = { product: products[0] };
  const UNLISTED_DATA = { product: { id: 'prd_0002', name: 'Standing desk' } };
  const NOT_IN_LIST = 'PERSISTED_QUERY_NOT_IN_LIST';

  const gateways: TestGateway[] = [];
  afterAll(() => Promise.all(gateways.map((g) => g.close())));
  async function gatewayWith(config: Record<string, unknown>) {
    const gateway = await startTestGateway({
      subgraphs: { products: { sdl: PRODUCTS, resolvers } },
      config: { 'persisted_queries.enabled': true, 'persisted_queries.local_manifests': [manifestPath], 'telemetry.exporters.logging.level': 'warn', ...config },
    });
    gateways.push(gateway);
    return async (body: { query?: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown> }) => {
      const logged = gateway.logs.length;
      const answer = await gateway.graphql(body.query, body);
      const unlisted = gateway.logs.slice(logged).filter((line) => line.code === NOT_IN_LIST);
      return { status: answer.status, body: answer.body, decisions: gateway.contexts.at(-1)!.decisions, logged: unlisted.map((l) => [l.msg, l.code, l.enforced, l.query]) };
    };
  }

  it('without the safelist, log_unknown reports what the safelist would refuse, and lets it through', async () => {
    const send = await gatewayWith({ 'persisted_queries.log_unknown': true });
    expect(await send({ query: op('Product').body, variables: { id: 'prd_0001' } })).toEqual({ status: 200, body: { data: PRODUCT_1 }, decisions: [], logged: [] });
    expect(await send({ query: UNLISTED })).toEqual({
      status: 200,
      body: { data: UNLISTED_DATA },
      decisions: [{ stage: 'admission', code: NOT_IN_LIST, enforced: false, message: 'operation not in the persisted query list' }],
      logged: [['operation not in the persisted query list', NOT_IN_LIST, false, UNLISTED]],
    });
  });

  it('with the safelist, log_unknown logs the refused operation, and the refusal is one enforced decision', async () => {
    const send = await gatewayWith({ 'persisted_queries.log_unknown': true, 'persisted_queries.safelist.enabled': true });
    const refused = await send({ query: UNLISTED });
    expect([refused.status, refused.body, refused.logged]).toEqual([
      400,
      { errors: [{ message: 'The operation is not in the persisted query list.', extensions: { code: NOT_IN_LIST } }] },
      [['operation not in the persisted query list', NOT_IN_LIST, true, UNLISTED]],
    ]);
    // One refusal, one decision: switchyard.decisions counts it once.
    expect(refused.decisions.map((d) => [d.stage, d.code, d.enforced])).toEqual([['admission', NOT_IN_LIST, true]]);
  });

  it('require_id refuses even a listed body with PERSISTED_QUERY_ID_REQUIRED, and serves the id alone', async () => {
    const send = await gatewayWith({ 'persisted_queries.safelist.enabled': true, 'persisted_queries.safelist.require_id': true });
    const refusal = {
      status: 400,
      body: { errors: [{ message: 'Send the persisted query id alone (extensions.persistedQuery.sha256Hash), not the operation body.', extensions: { code: 'PERSISTED_QUERY_ID_REQUIRED' } }] },
    };
    // The listed text, alone or with its id, and an unlisted text alike.
    for (const body of [{ query: op('Product').body }, { query: op('Product').body, extensions: persisted(op('Product').id) }, { query: UNLISTED }]) {
      const res = await send({ ...body, variables: { id: 'prd_0001' } });
      expect({ status: res.status, body: res.body }).toEqual(refusal);
      expect(res.decisions.map((d) => [d.stage, d.code, d.enforced])).toEqual([['admission', 'PERSISTED_QUERY_ID_REQUIRED', true]]);
    }
    expect(await send({ extensions: persisted(op('Product').id), variables: { id: 'prd_0001' } })).toEqual({ status: 200, body: { data: PRODUCT_1 }, decisions: [], logged: [] });
  });
});
