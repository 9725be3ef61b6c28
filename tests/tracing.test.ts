import { startDevIssuer, type DevIssuer } from '@switchyard/dev-tools/dev-issuer';
import { startTraceStore, type TraceStore } from '@switchyard/dev-tools/trace-store';
import type { StoredSpan } from '@switchyard/service-kit';
import { spawnPlatform, type SpawnedPlatform } from './support/spawned-platform';

const PLACE = `mutation PlaceOrder($items: [OrderLineInput!]!) {
  placeOrder(input: { items: $items }) { id status user { id } items { quantity product { id name } } }
}`;

/**
 * Each service its own process, as in production, exporting OTLP to an in-test receiver (the
 * development trace store): the trace must cross process boundaries through traceparent alone.
 */
describe('one placeOrder through the gateway is one trace', () => {
  let store: TraceStore;
  let issuer: DevIssuer;
  let platform: SpawnedPlatform;
  beforeAll(async () => {
    store = await startTraceStore({ port: 0 });
    issuer = await startDevIssuer({ port: 0 });
    platform = await spawnPlatform({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: store.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50' },
      gatewayEnv: { JWT_ISSUER: issuer.issuer, JWT_AUDIENCE: issuer.audience, JWT_JWKS_URL: issuer.jwksUrl },
    });
    // Four processes starting on a shared machine.
  }, 300_000);
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([store?.close(), issuer?.close()]);
  });

  /** Waits for the exporters' batches: until the trace holds a span matching each predicate. */
  async function traceWith(traceId: string, wanted: ((s: StoredSpan) => boolean)[]): Promise<StoredSpan[]> {
    for (let waited = 0; waited < 15_000; waited += 100) {
      const spans = store.spans(traceId);
      if (wanted.every((want) => spans.some(want))) return spans;
      await new Promise((r) => setTimeout(r, 100));
    }
    return store.spans(traceId);
  }

  it('holds the gateway stages, the orders subgraph, the products reservation and SQL, correctly nested', async () => {
    const token = await issuer.issue('usr_002', { scopes: ['orders:read', 'orders:write'] });
    const res = await fetch(`${platform.services.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: PLACE, variables: { items: [{ productId: 'prd_0003', quantity: 1 }] } }),
    });
    const body = (await res.json()) as { data?: { placeOrder: { status: string; user: { id: string } } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(body.data!.placeOrder).toMatchObject({ status: 'PLACED', user: { id: 'usr_002' } });

    // The gateway's server span is the root; find its trace through the request's operation name.
    const gatewayRoot = async () => {
      for (let waited = 0; waited < 15_000; waited += 100) {
        for (const { traceId } of (await (await fetch(`${store.url}/traces`)).json()) as { traceId: string }[]) {
          const root = store.spans(traceId).find((s) => s.service === 'gateway' && s.kind === 2 && s.attributes['graphql.operation.name'] === 'PlaceOrder');
          if (root) return root;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('no gateway span for PlaceOrder reached the store');
    };
    const root = await gatewayRoot();
    expect(root.parentSpanId).toBeUndefined();
    expect(root.attributes['graphql.operation.type']).toBe('mutation');
    expect(root.attributes['switchyard.answered_by']).toBe('execution');

    const isOrdersServer = (s: StoredSpan) => s.service === 'orders' && s.kind === 2 && s.name.startsWith('POST');
    const isReservationServer = (s: StoredSpan) => s.service === 'products' && s.kind === 2 && String(s.attributes['http.route'] ?? s.attributes['url.path'] ?? s.name).includes('/internal/reservations');
    const isOrdersSql = (s: StoredSpan) => s.service === 'orders' && String(s.attributes['db.query.text'] ?? '').includes('INSERT INTO orders');
    const isProductsSql = (s: StoredSpan) => s.service === 'products' && s.kind === 3 && !!s.attributes['db.query.text'];
    const spans = await traceWith(root.traceId, [isOrdersServer, isReservationServer, isOrdersSql, isProductsSql]);

    // One trace id across all four processes' spans, each span's parent within the trace.
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([root.traceId]));
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: StoredSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const ancestors = (s: StoredSpan) => {
      const chain: StoredSpan[] = [];
      for (let p = parentOf(s); p; p = parentOf(p)) chain.push(p);
      return chain;
    };
    for (const span of spans) if (span !== root) expect(ancestors(span).at(-1)).toBe(root);

    // The gateway's own stages sit under its server span.
    const identity = spans.find((s) => s.service === 'gateway' && s.name === 'identity');
    expect(identity?.attributes['switchyard.principal.kind']).toBe('user');
    expect(ancestors(identity!)).toContain(root);
    expect(spans.some((s) => s.service === 'gateway' && s.name === 'admission limits')).toBe(true);
    expect(spans.some((s) => s.service === 'gateway' && s.name === 'authorization' && ancestors(s).includes(root))).toBe(true);
    // Apollo Gateway's plan and fetch spans, once a provider is registered.
    expect(spans.some((s) => s.service === 'gateway' && s.name === 'gateway.plan')).toBe(true);
    const fetchToOrders = spans.find((s) => s.service === 'gateway' && s.kind === 3 && String(s.attributes['url.full'] ?? '').includes(platform.services.orders.url));
    expect(fetchToOrders).toBeDefined();

    // The orders subgraph's server span is the child of the gateway's undici client span to it.
    const ordersServer = spans.find(isOrdersServer)!;
    expect(parentOf(ordersServer)!.service).toBe('gateway');
    expect(parentOf(ordersServer)!.kind).toBe(3);
    // Its resolvers (graphql instrumentation), its SQL and its reservation call nest under it.
    expect(spans.some((s) => s.service === 'orders' && s.name.startsWith('graphql.') && ancestors(s).includes(ordersServer))).toBe(true);
    expect(ancestors(spans.find(isOrdersSql)!)).toContain(ordersServer);
    const reservation = spans.find(isReservationServer)!;
    expect(parentOf(reservation)!.service).toBe('orders');
    expect(ancestors(reservation)).toContain(ordersServer);
    expect(ancestors(spans.find(isProductsSql)!)).toContain(reservation);

    // No span carries the token or the variables' values.
    expect(JSON.stringify(spans)).not.toContain(token);
    expect(JSON.stringify(spans)).not.toContain('prd_0003');
  });
});
