import { readFileSync } from 'node:fs';
import pino from 'pino';
import type { FastifyRequest } from 'fastify';
import { HttpError } from '@switchyard/service-kit';
import { sha256Hex, type PersistedQueryManifest } from '../gateway/src/plugins/persisted-operations/manifest';
import { PersistedOperations } from '../gateway/src/plugins/persisted-operations/usePersistedOperations';
import { startGateway, type RunningGateway } from '../gateway/src/main';
import { buildManifest, manifestPath } from '../scripts/persisted-manifest';
import { gatewayConfig, startPlatform, type Platform } from './support/platform';

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

  it('without the safelist, listed ids are served and APQ still registers and serves any operation', async () => {
    expect(await post(open.graphqlUrl, { extensions: persisted(op('Product').id), variables: { id: 'prd_0001' } })).toEqual({ status: 200, body: { data: PRODUCT_1 } });
    const hash = sha256Hex(UNLISTED);
    const unknown = await post(open.graphqlUrl, { extensions: persisted(hash) });
    expect(unknown.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await post(open.graphqlUrl, { query: UNLISTED, extensions: persisted(hash) })).toEqual({ status: 200, body: { data: { product: { id: 'prd_0002', name: expect.any(String) } } } });
    expect(await post(open.graphqlUrl, { extensions: persisted(hash) })).toEqual({ status: 200, body: { data: { product: { id: 'prd_0002', name: expect.any(String) } } } });
  });
});

describe('log_unknown without the safelist', () => {
  it('reports what the safelist would refuse, and lets it through', () => {
    const lines: any[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const operations = new PersistedOperations(
      { enabled: true, log_unknown: true, safelist: { enabled: false, require_id: false }, local_manifests: [manifestPath] },
      log,
    );
    const request = (body: unknown) => ({ method: 'POST', body, log, ctx: { decisions: [] as any[] } }) as unknown as FastifyRequest & { ctx: { decisions: any[] } };

    const listed = request({ query: op('Product').body });
    operations.admit(listed);
    expect(listed.ctx.decisions).toEqual([]);

    const unlisted = request({ query: UNLISTED });
    operations.admit(unlisted);
    expect(unlisted.ctx.decisions).toEqual([{ stage: 'admission', code: 'PERSISTED_QUERY_NOT_IN_LIST', enforced: false, message: 'operation not in the persisted query list' }]);
    expect(lines.map((l) => [l.msg, l.code, l.enforced, l.query])).toEqual([['operation not in the persisted query list', 'PERSISTED_QUERY_NOT_IN_LIST', false, UNLISTED]]);
  });

  it('require_id refuses even a listed body with PERSISTED_QUERY_ID_REQUIRED', () => {
    const operations = new PersistedOperations(
      { enabled: true, log_unknown: false, safelist: { enabled: true, require_id: true }, local_manifests: [manifestPath] },
      pino({ level: 'silent' }),
    );
    const request = { method: 'POST', body: { query: op('Product').body }, ctx: { decisions: [] } } as unknown as FastifyRequest;
    expect(() => operations.admit(request)).toThrow(new HttpError(400, 'Send the persisted query id alone (extensions.persistedQuery.sha256Hash), not the operation body.', 'PERSISTED_QUERY_ID_REQUIRED'));
    operations.admit({ method: 'POST', body: { extensions: persisted(op('Product').id) }, ctx: { decisions: [] } } as unknown as FastifyRequest);
  });
});
