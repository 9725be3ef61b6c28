import { startTraceStore, type TraceStore } from './trace-store';

const ms = (n: number) => String(BigInt(1_800_000_000_000 + n) * 1_000_000n);
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
const id = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');

/** One service's export of spans, as the OTLP/HTTP JSON exporter posts it. */
function exportOf(service: string, spans: { trace: number; span: number; parent?: number; name: string; kind: number; attributes?: ReturnType<typeof str>[] }[]) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', service)] },
        scopeSpans: [
          {
            spans: spans.map((s) => ({
              traceId: id(s.trace, 16),
              spanId: id(s.span, 8),
              ...(s.parent ? { parentSpanId: id(s.parent, 8) } : {}),
              name: s.name,
              kind: s.kind,
              startTimeUnixNano: ms(0),
              endTimeUnixNano: ms(10),
              attributes: s.attributes ?? [],
            })),
          },
        ],
      },
    ],
  };
}

describe('the development trace store', () => {
  let store: TraceStore;
  beforeAll(async () => {
    store = await startTraceStore({ port: 0 });
  });
  afterAll(() => store?.close());

  const post = (body: unknown) => fetch(`${store.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const list = async () => ((await (await fetch(`${store.url}/traces`)).json()) as { traceId: string; root: string }[]).map((t) => [t.traceId, t.root]);

  it('keeps GraphQL requests only: a GraphiQL asset, the favicon and the landing page leave no trace', async () => {
    await post(exportOf('gateway', [{ trace: 1, span: 1, name: 'GET', kind: 2, attributes: [str('url.path', '/graphiql/graphiql.min.js')] }]));
    await post(exportOf('gateway', [{ trace: 2, span: 2, name: 'GET', kind: 2, attributes: [str('url.path', '/favicon.ico')] }]));
    await post(exportOf('gateway', [{ trace: 3, span: 3, name: 'GET', kind: 2, attributes: [str('url.path', '/graphql')] }]));
    // A query: the subgraph's spans come first (they end first), then the gateway's request span.
    await post(
      exportOf('products', [
        { trace: 4, span: 43, parent: 42, name: 'graphql.execute', kind: 0 },
        { trace: 4, span: 42, parent: 41, name: 'POST', kind: 2, attributes: [str('url.path', '/graphql')] },
      ]),
    );
    await post(
      exportOf('gateway', [
        { trace: 4, span: 41, parent: 40, name: 'POST', kind: 3, attributes: [str('url.full', 'http://127.0.0.1:4002/graphql')] },
        { trace: 4, span: 40, name: 'POST', kind: 2, attributes: [str('url.path', '/graphql'), str('graphql.operation.type', 'query')] },
      ]),
    );
    await post(exportOf('gateway', [{ trace: 5, span: 50, name: 'POST', kind: 2, attributes: [str('url.path', '/graphql'), str('graphql.operation.type', 'mutation'), str('graphql.operation.name', 'PlaceOrder')] }]));
    expect(await list()).toEqual([
      [id(5, 16), 'POST /graphql PlaceOrder'],
      [id(4, 16), 'POST /graphql query'],
    ]);
  });

  it('judges an export as a whole: a request span listed before its children still drops them, and a subgraph called directly is kept', async () => {
    await post(
      exportOf('gateway', [
        { trace: 7, span: 70, name: 'POST', kind: 2, attributes: [str('url.path', '/graphql')] },
        { trace: 7, span: 71, parent: 70, name: 'identity', kind: 1 },
      ]),
    );
    // A straggler of the dropped request, in a later export.
    await post(exportOf('gateway', [{ trace: 7, span: 72, parent: 70, name: 'http csrf', kind: 1 }]));
    await post(
      exportOf('products', [
        { trace: 8, span: 80, name: 'POST', kind: 2, attributes: [str('url.path', '/graphql')] },
        { trace: 8, span: 81, parent: 80, name: 'graphql.execute', kind: 0 },
      ]),
    );
    expect((await list()).map(([traceId]) => traceId).filter((traceId) => [id(7, 16), id(8, 16)].includes(traceId!))).toEqual([id(8, 16)]);
  });

  it('keeps a request whose span has a parent elsewhere (npm run trace sends a traceparent) and names it by type when unnamed', async () => {
    await post(exportOf('gateway', [{ trace: 6, span: 60, parent: 99, name: 'POST', kind: 2, attributes: [str('url.path', '/graphql'), str('graphql.operation.type', 'mutation')] }]));
    expect((await list())[0]).toEqual([id(6, 16), 'POST /graphql mutation']);
  });
});
