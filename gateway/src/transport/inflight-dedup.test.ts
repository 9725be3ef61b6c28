import { startMetrics, verifySubgraphRequest, type ServiceMetrics } from '@switchyard/service-kit';
import { parsePrometheusText } from '../../../tests/support/prometheus';
import type { RequestContext } from '../core/context';
import { hashApiKey } from '../plugins/identity/api-keys';
import { startTestGateway, type FakeSubgraphContext, type TestGateway } from '../testing/test-gateway';
import { deduplicateInflight, fetchIdentity } from './inflight-dedup';
import { FETCH_FAILURES, SubgraphFetchError, type SubgraphCall, type SubgraphHttpClient } from './subgraph-http-client';

/** A subgraph client whose answers the test releases one by one. */
function heldClient() {
  const sent: { call: SubgraphCall; answer(body: unknown): void; fail(err: unknown): void }[] = [];
  const client: SubgraphHttpClient = {
    post: (call) => new Promise((resolve, reject) => sent.push({ call, answer: resolve, fail: reject })),
    close: async () => undefined,
  };
  return { client, sent };
}

const BODY = '{"query":"{ products { id name } }"}';

function call(overrides: { requestId?: string; principal?: string; body?: string; signal?: AbortSignal; shareable?: boolean } = {}): SubgraphCall {
  return {
    subgraph: 'products',
    url: 'http://products.test/graphql',
    body: overrides.body ?? BODY,
    headers: {
      'content-type': 'application/json',
      'x-request-id': overrides.requestId ?? 'req-1',
      'x-switchyard-principal-kind': 'user',
      'x-switchyard-principal-id': overrides.principal ?? 'usr_001',
      'x-switchyard-identity-signature': `t=${Date.now()},v2=${overrides.requestId ?? 'req-1'}`,
    },
    timeoutMs: 1000,
    signal: overrides.signal,
    context: { requestId: overrides.requestId ?? 'req-1' } as RequestContext,
    shareable: overrides.shareable ?? true,
  };
}

const ANSWER = { data: { products: [{ id: 'p1', name: 'Lamp' }] } };

describe('identical subgraph queries in flight share one fetch', () => {
  it('two requests of one principal that differ only in request id and signature send one fetch and each get their own copy of its answer', async () => {
    const { client, sent } = heldClient();
    const shared = deduplicateInflight(client);
    const first = shared.post(call({ requestId: 'req-1' }));
    const second = shared.post(call({ requestId: 'req-2' }));
    expect(sent.map((s) => s.call.headers['x-request-id'])).toEqual(['req-1']);
    sent[0]!.answer(structuredClone(ANSWER));
    const [a, b] = (await Promise.all([first, second])) as (typeof ANSWER)[];
    expect([a, b]).toEqual([ANSWER, ANSWER]);
    // Apollo's executor merges entities into what it is given: one execution must not see another's.
    a!.data.products[0]!.name = 'changed by the first execution';
    expect(b!.data.products[0]!.name).toBe('Lamp');
  });

  it('another principal, another body or another forwarded header is another fetch', async () => {
    const { client, sent } = heldClient();
    const shared = deduplicateInflight(client);
    void shared.post(call());
    void shared.post(call({ principal: 'usr_002' }));
    void shared.post(call({ body: '{"query":"{ products { id } }"}' }));
    const withHeader = call();
    withHeader.headers['accept-language'] = 'de';
    void shared.post(withHeader);
    expect(sent).toHaveLength(4);
    expect(new Set(sent.map((s) => fetchIdentity(s.call))).size).toBe(4);
  });

  it('a fetch not marked shareable (a mutation, or deduplication off) is always sent', async () => {
    const { client, sent } = heldClient();
    const shared = deduplicateInflight(client);
    void shared.post(call({ shareable: false }));
    void shared.post(call({ shareable: false }));
    expect(sent).toHaveLength(2);
  });

  it('once the answer is in, the next identical query is sent again: nothing is cached', async () => {
    const { client, sent } = heldClient();
    const shared = deduplicateInflight(client);
    const first = shared.post(call());
    sent[0]!.answer(ANSWER);
    await first;
    void shared.post(call());
    expect(sent).toHaveLength(2);
  });

  it('the fetch sent is reported by the client that sent it, and each request that shared it is reported once as shared', async () => {
    const { client, sent } = heldClient();
    const reported: [string | undefined, { subgraph: string; shared?: boolean }][] = [];
    const shared = deduplicateInflight(client, (context, response) => reported.push([context?.requestId, { subgraph: response.subgraph, shared: response.shared }]));
    const leaving = new AbortController();
    const waits = [shared.post(call({ requestId: 'req-1' })), shared.post(call({ requestId: 'req-2' })), shared.post(call({ requestId: 'req-3', signal: leaving.signal }))];
    leaving.abort();
    sent[0]!.answer(ANSWER);
    await Promise.allSettled(waits);
    // req-1's own report is the HTTP client's (held here); req-3 left early and is still reported, once.
    expect(reported).toEqual([
      ['req-3', { subgraph: 'products', shared: true }],
      ['req-2', { subgraph: 'products', shared: true }],
    ]);
  });

  it('a failed fetch fails every request waiting on it, with the same error', async () => {
    const { client, sent } = heldClient();
    const shared = deduplicateInflight(client);
    const first = shared.post(call({ requestId: 'req-1' }));
    const second = shared.post(call({ requestId: 'req-2' }));
    const refused = new SubgraphFetchError('products', FETCH_FAILURES.connection_refused);
    sent[0]!.fail(refused);
    await expect(first).rejects.toBe(refused);
    await expect(second).rejects.toBe(refused);
  });

  it('when the first client goes away the others still get the answer, and the fetch is not cancelled', async () => {
    const { client, sent } = heldClient();
    const shared = deduplicateInflight(client);
    const leaving = new AbortController();
    const first = shared.post(call({ requestId: 'req-1', signal: leaving.signal }));
    const second = shared.post(call({ requestId: 'req-2', signal: new AbortController().signal }));
    leaving.abort();
    await expect(first).rejects.toMatchObject({ failure: FETCH_FAILURES.cancelled });
    expect(sent[0]!.call.signal!.aborted).toBe(false);
    sent[0]!.answer(ANSWER);
    expect(await second).toEqual(ANSWER);
  });

  it('when every waiting client has gone the fetch is cancelled, and an identical query after that is sent afresh', async () => {
    const { client, sent } = heldClient();
    const shared = deduplicateInflight(client);
    const a = new AbortController();
    const b = new AbortController();
    const first = shared.post(call({ requestId: 'req-1', signal: a.signal }));
    const second = shared.post(call({ requestId: 'req-2', signal: b.signal }));
    a.abort();
    b.abort();
    await expect(Promise.allSettled([first, second])).resolves.toEqual([
      { status: 'rejected', reason: expect.objectContaining({ failure: FETCH_FAILURES.cancelled }) },
      { status: 'rejected', reason: expect.objectContaining({ failure: FETCH_FAILURES.cancelled }) },
    ]);
    expect(sent[0]!.call.signal!.aborted).toBe(true);
    const third = shared.post(call({ requestId: 'req-3' }));
    expect(sent.map((s) => s.call.headers['x-request-id'])).toEqual(['req-1', 'req-3']);
    sent[1]!.answer(ANSWER);
    expect(await third).toEqual(ANSWER);
  });
});

describe('in-flight deduplication through the whole gateway', () => {
  const SECRET = 'a-test-secret-of-at-least-32-characters';
  const KEYS = { alice: 'sy_test_key_alice', bob: 'sy_test_key_bob' };
  let gateway: TestGateway;
  let metrics: ServiceMetrics;
  /** products answers only once released, so requests overlap. */
  let release: () => void;
  let held: Promise<void>;

  async function start(config: Record<string, unknown> = {}) {
    held = new Promise((resolve) => (release = resolve));
    metrics = startMetrics({ serviceName: 'gateway', env: {} });
    gateway = await startTestGateway({
      metrics,
      subgraphs: {
        products: {
          sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
            type Query { products: [Product!]! whoami: String! }
            type Mutation { touch: Int! }
            type Product @key(fields: "id") { id: ID! name: String! }`,
          resolvers: {
            Query: {
              products: () => [{ id: 'p1', name: 'Lamp' }],
              // Who the subgraph was told is asking, as it verifies it.
              whoami: (_: unknown, __: unknown, { headers, body }: FakeSubgraphContext) => verifySubgraphRequest(headers, Buffer.from(body), { secret: SECRET, subgraph: 'products' }).id,
            },
            Mutation: { touch: () => 1 },
          },
          answer: (c) => (c.probe ? undefined : held.then(() => undefined)),
          headers: () => ({ 'cache-control': 'public, max-age=60' }),
        },
      },
      config: {
        'cache_control.enabled': true,
        'subgraph_identity.signing_secret': SECRET,
        // Identical operations would share one execution before any fetch: here each executes, and the fetches are shared.
        'traffic_shaping.router.dedupe.enabled': false,
        'authentication.api_keys.keys': Object.entries(KEYS).map(([name, key]) => ({ name, sha256: hashApiKey(key), scopes: [] })),
        ...config,
      },
    });
  }
  afterEach(async () => {
    await gateway.close();
    await metrics.shutdown();
  });

  // Lets every request started run up to its fetch: the gateway is in process, so this takes a few turns of the event loop.
  const allInFlight = async () => {
    for (let i = 0; i < 50; i++) await new Promise(setImmediate);
  };
  const as = (who: keyof typeof KEYS) => ({ headers: { 'x-api-key': KEYS[who] } });

  it('three identical queries of one client in flight reach the subgraph once, and each gets the whole answer', async () => {
    await start();
    const answers = [gateway.graphql('{ products { id name } whoami }', as('alice')), gateway.graphql('{ products { id name } whoami }', as('alice')), gateway.graphql('{ products { id name } whoami }', as('alice'))];
    await allInFlight();
    release();
    const expected = { data: { products: [{ id: 'p1', name: 'Lamp' }], whoami: 'alice' } };
    // The requests that shared the fetch are told its headers, so their Cache-Control is merged from it too.
    expect((await Promise.all(answers)).map((a) => [a.status, a.headers['cache-control'], a.body])).toEqual([
      [200, 'public, max-age=60', expected],
      [200, 'public, max-age=60', expected],
      [200, 'public, max-age=60', expected],
    ]);
    expect(gateway.received.products).toHaveLength(1);
    const scraped = parsePrometheusText(await metrics.scrape());
    expect(scraped.get('switchyard_subgraph_fetches_shared_total')!.samples.map((s) => [s.labels.subgraph_name, s.value])).toEqual([['products', 2]]);
    expect(scraped.get('http_client_request_duration_seconds')!.samples.find((s) => s.name.endsWith('_count'))!.value).toBe(1);
  });

  it('two clients asking the same query at once are never given each other’s answer', async () => {
    await start();
    const alice = gateway.graphql('{ whoami }', as('alice'));
    const bob = gateway.graphql('{ whoami }', as('bob'));
    await allInFlight();
    release();
    expect([(await alice).body, (await bob).body]).toEqual([{ data: { whoami: 'alice' } }, { data: { whoami: 'bob' } }]);
    expect(gateway.received.products).toHaveLength(2);
  });

  it('identical mutations are each sent', async () => {
    await start();
    const answers = [gateway.graphql('mutation { touch }', as('alice')), gateway.graphql('mutation { touch }', as('alice'))];
    await allInFlight();
    release();
    expect((await Promise.all(answers)).map((a) => a.body)).toEqual([{ data: { touch: 1 } }, { data: { touch: 1 } }]);
    expect(gateway.received.products).toHaveLength(2);
  });

  it('with traffic_shaping.subgraphs.<name>.deduplicate_query false, every query is sent', async () => {
    await start({ 'traffic_shaping.subgraphs': { products: { deduplicate_query: false } } });
    const answers = [gateway.graphql('{ products { id } }', as('alice')), gateway.graphql('{ products { id } }', as('alice'))];
    await allInFlight();
    release();
    await Promise.all(answers);
    expect(gateway.received.products).toHaveLength(2);
  });
});
