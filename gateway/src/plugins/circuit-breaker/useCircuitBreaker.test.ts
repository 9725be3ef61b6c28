import { startMetrics, type ServiceMetrics } from '@switchyard/service-kit';
import { parsePrometheusText } from '../../../../tests/support/prometheus';
import { PRODUCT_AND_ORDERS, twoSubgraphs } from '../../testing/resilience-fixtures';
import { startTestGateway, testClock, type TestClock, type TestGateway } from '../../testing/test-gateway';
import { FETCH_FAILURES, SubgraphFetchError } from '../../transport/subgraph-http-client';

const REJECTED = { message: "Subgraph 'orders' was not called: its circuit breaker is open", extensions: { code: 'SUBGRAPH_CIRCUIT_BREAKER_REJECTED', service: 'orders' } };
const REFUSED = { message: "HTTP fetch failed from 'orders': connection refused", extensions: { code: 'SUBREQUEST_HTTP_ERROR', service: 'orders', reason: 'connection refused' } };
const PARTIAL = { product: { name: 'Lamp' }, orders: null };
const WHOLE = { product: { name: 'Lamp' }, orders: [{ id: 'o1' }] };

describe('the circuit breaker through the whole gateway, on a test clock', () => {
  let clock: TestClock;
  let gateway: TestGateway;
  let metrics: ServiceMetrics;
  /** Whether the orders subgraph is down: its calls are refused, as by a dead process. */
  let ordersDown: boolean;
  /** While set, orders answers only when it resolves. */
  let ordersHeld: Promise<void> | undefined;

  beforeEach(async () => {
    clock = testClock();
    ordersDown = false;
    ordersHeld = undefined;
    metrics = startMetrics({ serviceName: 'gateway', env: {} });
    gateway = await startTestGateway({
      clock,
      metrics,
      subgraphs: twoSubgraphs({
        orders: () => {
          if (ordersDown) throw new SubgraphFetchError('orders', FETCH_FAILURES.connection_refused);
          return ordersHeld?.then(() => ({ data: { orders: [{ id: 'o1' }] } }));
        },
      }),
      config: {
        'telemetry.exporters.logging.level': 'info',
        // Identical overviews in flight would share one execution and one fetch; these tests count the breaker's own calls.
        'traffic_shaping.router.dedupe.enabled': false,
        'traffic_shaping.subgraphs': { orders: { deduplicate_query: false, circuit_breaker: { enabled: true, error_threshold: 0.5, volume_threshold: 4, reset_timeout: '10s', half_open_attempts: 2 } } },
      },
    });
  });
  afterEach(async () => {
    await gateway.close();
    await metrics.shutdown();
  });

  const overview = () => gateway.graphql(PRODUCT_AND_ORDERS);
  // The full report, as health_check.listen serves it (the public /readyz shows none of the plugins' details).
  const breakers = async () => ((await gateway.gateway.readiness()).body as Record<string, any>).circuit_breakers;
  const transitions = () => gateway.logs.filter((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('circuit breaker for')).map((l) => [l.level, l.msg, l.reason]);
  const gauge = async () => parsePrometheusText(await metrics.scrape()).get('switchyard_circuit_breaker_state')!.samples.map((s) => [s.labels.subgraph_name, s.value]);

  it('opens once the failed share of the last volume_threshold fetches reaches error_threshold, then answers without calling the subgraph', async () => {
    expect((await breakers()).orders.state).toBe('closed');
    // Two successes, then failures: 1 of 3 is under the threshold, and 3 outcomes are under the volume.
    expect((await overview()).body.data).toEqual(WHOLE);
    expect((await overview()).body.data).toEqual(WHOLE);
    ordersDown = true;
    expect((await overview()).body).toMatchObject({ data: PARTIAL, errors: [REFUSED] });
    expect((await breakers()).orders.state).toBe('closed');
    // 2 of the last 4 failed: 0.5 reaches error_threshold.
    expect((await overview()).body).toMatchObject({ data: PARTIAL, errors: [REFUSED] });
    expect((await breakers()).orders).toEqual({ state: 'open', since: new Date(clock.now()).toISOString() });
    expect(gateway.received.orders).toHaveLength(4);

    // Open: the fetch is rejected before it is sent; the rest of the operation is answered.
    const rejected = await overview();
    expect([rejected.status, rejected.body]).toEqual([200, { data: PARTIAL, errors: [REJECTED], extensions: { degraded: ['orders'] } }]);
    expect(gateway.received.orders).toHaveLength(4);
    expect(gateway.received.products).toHaveLength(5);
    expect(transitions()).toEqual([['warn', 'circuit breaker for orders: open', '2 of the last 4 fetches failed']]);
    expect(await gauge()).toEqual([['orders', 2]]);
    // Only the subgraph with a breaker configured has one.
    expect(Object.keys(await breakers())).toEqual(['orders']);
  });

  it('half-opens after reset_timeout, lets half_open_attempts trials through, and closes when they succeed', async () => {
    ordersDown = true;
    for (let i = 0; i < 4; i++) await overview();
    expect((await breakers()).orders.state).toBe('open');
    clock.advance(9_999);
    expect((await overview()).body.errors).toEqual([REJECTED]);
    clock.advance(1);
    expect((await breakers()).orders.state).toBe('half_open');
    expect(await gauge()).toEqual([['orders', 1]]);

    ordersDown = false;
    expect((await overview()).body).toEqual({ data: WHOLE });
    expect((await breakers()).orders.state).toBe('half_open');
    expect((await overview()).body).toEqual({ data: WHOLE });
    expect((await breakers()).orders.state).toBe('closed');
    expect(gateway.received.orders).toHaveLength(6);
    expect(transitions()).toEqual([
      ['warn', 'circuit breaker for orders: open', '4 of the last 4 fetches failed'],
      ['info', 'circuit breaker for orders: half-open', 'reset_timeout (10000 ms) passed'],
      ['info', 'circuit breaker for orders: closed', '2 trial fetches succeeded'],
    ]);
    const counted = parsePrometheusText(await metrics.scrape()).get('switchyard_circuit_breaker_transitions_total')!.samples;
    expect(counted.map((s) => [s.labels.from, s.labels.to, s.value])).toEqual([
      ['closed', 'open', 1],
      ['open', 'half_open', 1],
      ['half_open', 'closed', 1],
    ]);
  });

  it('a trial that fails opens it again for another reset_timeout', async () => {
    ordersDown = true;
    for (let i = 0; i < 4; i++) await overview();
    clock.advance(10_000);
    expect((await overview()).body.errors).toEqual([REFUSED]);
    expect((await breakers()).orders.state).toBe('open');
    expect(gateway.received.orders).toHaveLength(5);
    ordersDown = false;
    clock.advance(5_000);
    expect((await overview()).body.errors).toEqual([REJECTED]);
    clock.advance(5_000);
    expect((await overview()).body).toEqual({ data: WHOLE });
    expect(transitions().map(([, msg]) => msg)).toEqual([
      'circuit breaker for orders: open',
      'circuit breaker for orders: half-open',
      'circuit breaker for orders: open',
      'circuit breaker for orders: half-open',
    ]);
  });

  it('while half-open, no more than half_open_attempts trials are in flight at once', async () => {
    ordersDown = true;
    for (let i = 0; i < 4; i++) await overview();
    clock.advance(10_000);
    ordersDown = false;
    let release!: () => void;
    ordersHeld = new Promise((resolve) => (release = resolve));
    const settled: string[] = [];
    const answers = [overview(), overview(), overview()].map((answer) => answer.then((a) => (settled.push(a.body.errors?.[0]?.extensions.code ?? 'answered'), a)));
    // Two trials are held at the subgraph; the third is turned away without waiting for them.
    while (settled.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toEqual(['SUBGRAPH_CIRCUIT_BREAKER_REJECTED']);
    expect(gateway.received.orders).toHaveLength(6);
    release();
    await Promise.all(answers);
    expect(settled).toEqual(['SUBGRAPH_CIRCUIT_BREAKER_REJECTED', 'answered', 'answered']);
    expect((await breakers()).orders.state).toBe('closed');
  });
});

describe('what counts as a failure', () => {
  it('statuses in error_status_codes and no answer count; a 4xx answer or a cancelled fetch does not', async () => {
    let answer: () => unknown = () => undefined;
    const gateway = await startTestGateway({
      subgraphs: twoSubgraphs({ orders: () => answer() }),
      config: { 'traffic_shaping.all.circuit_breaker': { enabled: true, volume_threshold: 2, error_threshold: 1, error_status_codes: [503] } },
    });
    const state = async () => ((await gateway.gateway.readiness()).body as Record<string, any>).circuit_breakers.orders.state;
    try {
      answer = () => {
        throw new SubgraphFetchError('orders', { type: '400', reason: 'HTTP 400', status: 400 });
      };
      await gateway.graphql(PRODUCT_AND_ORDERS);
      answer = () => {
        throw new SubgraphFetchError('orders', FETCH_FAILURES.cancelled);
      };
      await gateway.graphql(PRODUCT_AND_ORDERS);
      answer = () => {
        throw new SubgraphFetchError('orders', { type: '503', reason: 'HTTP 503', status: 503 });
      };
      await gateway.graphql(PRODUCT_AND_ORDERS);
      // A success (the 400), nothing (cancelled), a failure: 1 of 2, under error_threshold 1.
      expect(await state()).toBe('closed');
      answer = () => {
        throw new SubgraphFetchError('orders', FETCH_FAILURES.timeout);
      };
      await gateway.graphql(PRODUCT_AND_ORDERS);
      expect(await state()).toBe('open');
    } finally {
      await gateway.close();
    }
  });
});
