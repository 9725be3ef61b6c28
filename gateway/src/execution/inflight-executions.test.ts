import { ANONYMOUS, startMetrics, type ServiceMetrics } from '@switchyard/service-kit';
import type { ExecutionResult } from 'graphql';
import { parsePrometheusText } from '../../../tests/support/prometheus';
import { DeadlinePassed, type RequestContext } from '../core/context';
import { hashApiKey } from '../plugins/identity/api-keys';
import { startTestGateway, type TestGateway } from '../testing/test-gateway';
import { InflightExecutions } from './inflight-executions';
import type { PlannedOperation } from './supergraph-gateway';

const PLANNED = { operation: { type: 'query', served: { supergraph: { hash: 'h' } }, operationName: null, variables: {} }, queryHash: 'q' } as unknown as PlannedOperation;

function requestOf(controller: AbortController): RequestContext {
  return { signal: controller.signal, fetches: [], principal: ANONYMOUS, http: { method: 'POST', headers: {}, clientAddress: '127.0.0.1' } } as unknown as RequestContext;
}

/** An execution the test finishes, and the signal it ran under. */
function heldExecution() {
  const runs: { signal: AbortSignal; finish(result: ExecutionResult): void }[] = [];
  const run = (context: RequestContext) => new Promise<ExecutionResult>((finish) => runs.push({ signal: context.signal, finish }));
  return { runs, run };
}

describe('the shared execution and its waiters', () => {
  it('when the first client goes away the others still get the answer, and the execution goes on', async () => {
    const executions = new InflightExecutions();
    const { runs, run } = heldExecution();
    const leaving = new AbortController();
    const first = executions.execute(requestOf(leaving), PLANNED, run);
    const joining = requestOf(new AbortController());
    const second = executions.execute(joining, PLANNED, run);
    expect(joining.answeredBy).toBe('shared_execution');
    leaving.abort(new Error('client disconnected'));
    expect((await first).errors![0]!.extensions!.code).toBe('CLIENT_CLOSED_REQUEST');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.signal.aborted).toBe(false);
    runs[0]!.finish({ data: { visits: 1 } });
    expect(await second).toEqual({ data: { visits: 1 } });
  });

  it('when every client has gone the execution is cancelled, and the next identical request executes afresh', async () => {
    const executions = new InflightExecutions();
    const { runs, run } = heldExecution();
    const a = new AbortController();
    const b = new AbortController();
    const first = executions.execute(requestOf(a), PLANNED, run);
    const second = executions.execute(requestOf(b), PLANNED, run);
    a.abort(new Error('client disconnected'));
    b.abort(new Error('client disconnected'));
    await Promise.all([first, second]);
    expect(runs[0]!.signal.aborted).toBe(true);
    const third = executions.execute(requestOf(new AbortController()), PLANNED, run);
    expect(runs).toHaveLength(2);
    runs[1]!.finish({ data: { visits: 2 } });
    expect(await third).toEqual({ data: { visits: 2 } });
  });

  it('at the first request’s deadline the execution is stopped and every waiter gets what it came to', async () => {
    const executions = new InflightExecutions();
    const { runs, run } = heldExecution();
    const timed = new AbortController();
    const first = executions.execute(requestOf(timed), PLANNED, run);
    const second = executions.execute(requestOf(new AbortController()), PLANNED, run);
    timed.abort(new DeadlinePassed());
    expect(runs[0]!.signal.reason).toBeInstanceOf(DeadlinePassed);
    // The executor answers a stopped execution with what was fetched and the fetches' errors.
    const partial = { data: { visits: null }, errors: [] };
    runs[0]!.finish(partial);
    expect(await first).toEqual(partial);
    expect(await second).toEqual(partial);
  });
});

/**
 * Execution dedupe through the whole gateway. Subgraph fetch sharing is off here, so every execution
 * is seen as its own fetch at the subgraph and the count is the count of executions.
 */
describe('identical operations of one caller in flight share one execution', () => {
  const KEYS = { alice: 'sy_test_key_alice', bob: 'sy_test_key_bob' };
  let gateway: TestGateway;
  let metrics: ServiceMetrics;
  /** products answers only once released, so requests overlap. */
  let release: () => void;
  let visits: number;

  async function start(config: Record<string, unknown> = {}) {
    const held = new Promise<void>((resolve) => (release = resolve));
    visits = 0;
    metrics = startMetrics({ serviceName: 'gateway', env: {} });
    gateway = await startTestGateway({
      metrics,
      subgraphs: {
        products: {
          sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@requiresScopes"])
            type Query { products(first: Int = 2): [Product!]! visits: Int! secret: String @requiresScopes(scopes: [["admin"]]) }
            type Mutation { touch: Int! }
            type Product @key(fields: "id") { id: ID! name: String! }`,
          resolvers: {
            Query: {
              products: (_: unknown, { first }: { first: number }) => [{ id: 'p1', name: 'Lamp' }, { id: 'p2', name: 'Desk' }].slice(0, first),
              visits: () => ++visits,
              secret: () => 's3cret',
            },
            Mutation: { touch: () => ++visits },
          },
          answer: (c) => (c.probe ? undefined : held.then(() => undefined)),
          headers: () => ({ 'cache-control': 'public, max-age=60' }),
        },
      },
      config: {
        'cache_control.enabled': true,
        'authentication.api_keys.keys': [
          { name: 'alice', sha256: hashApiKey(KEYS.alice), scopes: [] },
          { name: 'bob', sha256: hashApiKey(KEYS.bob), scopes: [] },
        ],
        'traffic_shaping.all.deduplicate_query': false,
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
  const as = (who: keyof typeof KEYS, headers: Record<string, string> = {}) => ({ headers: { 'x-api-key': KEYS[who], ...headers } });
  const QUERY = '{ products { id name } visits }';

  it('three identical queries of one client are executed once and each gets the whole answer', async () => {
    await start();
    const answers = [gateway.graphql(QUERY, as('alice', { 'x-request-id': 'a' })), gateway.graphql(QUERY, as('alice', { 'x-request-id': 'b' })), gateway.graphql(QUERY, as('alice'))];
    await allInFlight();
    release();
    const expected = { data: { products: [{ id: 'p1', name: 'Lamp' }, { id: 'p2', name: 'Desk' }], visits: 1 } };
    // Each answer's headers are made from the shared execution's subgraph answers, as if it had been its own.
    expect((await Promise.all(answers)).map((a) => [a.status, a.headers['cache-control'], a.body])).toEqual([
      [200, 'public, max-age=60', expected],
      [200, 'public, max-age=60', expected],
      [200, 'public, max-age=60', expected],
    ]);
    expect(gateway.received.products).toHaveLength(1);
    // Two of the three were answered by the first one's execution, and say so.
    const scraped = parsePrometheusText(await metrics.scrape());
    expect(scraped.get('switchyard_graphql_operations_shared_total')!.samples.map((s) => [s.labels.graphql_operation_name, s.value])).toEqual([['anonymous', 2]]);
  });

  it('another caller, other variables or another header value is another execution', async () => {
    await start();
    const answers = [
      gateway.graphql('query ($n: Int) { products(first: $n) { id } visits }', { ...as('alice'), variables: { n: 1 } }),
      gateway.graphql('query ($n: Int) { products(first: $n) { id } visits }', { ...as('bob'), variables: { n: 1 } }),
      gateway.graphql('query ($n: Int) { products(first: $n) { id } visits }', { ...as('alice'), variables: { n: 2 } }),
      gateway.graphql('query ($n: Int) { products(first: $n) { id } visits }', { ...as('alice', { 'accept-language': 'de' }), variables: { n: 1 } }),
    ];
    await allInFlight();
    release();
    expect((await Promise.all(answers)).map((a) => a.body.data.products.length)).toEqual([1, 1, 2, 1]);
    expect(gateway.received.products).toHaveLength(4);
  });

  it('a request whose fields authorization removes shares with an identical one, and each gets its own completed copy', async () => {
    await start();
    const query = '{ visits secret }';
    const answers = [gateway.graphql(query, as('alice')), gateway.graphql(query, as('alice'))];
    await allInFlight();
    release();
    const [first, second] = await Promise.all(answers);
    // Authorization put the removed field back as null with its error, once in each answer, not twice in one.
    const denied = { data: { visits: 1, secret: null }, errors: [expect.objectContaining({ path: ['secret'], extensions: expect.objectContaining({ code: 'UNAUTHORIZED_FIELD_OR_TYPE' }) })] };
    expect(first!.body).toEqual(denied);
    expect(second!.body).toEqual(denied);
    expect(first!.body.errors).toHaveLength(1);
    expect(second!.body.errors).toHaveLength(1);
    expect(gateway.received.products).toHaveLength(1);
  });

  it('identical mutations are each executed', async () => {
    await start();
    const answers = [gateway.graphql('mutation { touch }', as('alice')), gateway.graphql('mutation { touch }', as('alice'))];
    await allInFlight();
    release();
    expect((await Promise.all(answers)).map((a) => a.body.data.touch).sort()).toEqual([1, 2]);
  });

  it('with traffic_shaping.router.dedupe.enabled false, every query is executed', async () => {
    await start({ 'traffic_shaping.router.dedupe.enabled': false });
    const answers = [gateway.graphql(QUERY, as('alice')), gateway.graphql(QUERY, as('alice'))];
    await allInFlight();
    release();
    expect((await Promise.all(answers)).map((a) => a.body.data.visits).sort()).toEqual([1, 2]);
    expect(gateway.received.products).toHaveLength(2);
  });
});
