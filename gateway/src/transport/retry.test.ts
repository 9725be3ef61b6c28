import { startMetrics } from '@switchyard/service-kit';
import { parsePrometheusText } from '../../../tests/support/prometheus';
import { PRODUCT_AND_ORDERS, twoSubgraphs } from '../testing/resilience-fixtures';
import { startTestGateway, testClock, type TestClock } from '../testing/test-gateway';
import type { RetryConfig } from './config';
import { RetryBudget, retryAfterMs } from './retry';
import { FETCH_FAILURES, statusFailure, SubgraphFetchError, type FetchFailure, type SubgraphCall } from './subgraph-http-client';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const ORDERS = 'query Orders { orders { id } }';

/**
 * A gateway whose orders subgraph fails its first `failures.length` calls with those failures, then
 * answers; every call is kept with the clock's time when it arrived.
 */
async function gatewayWithFlakyOrders(failures: (FetchFailure | ((call: SubgraphCall, clock: TestClock) => FetchFailure))[], config: Record<string, unknown> = {}, random = () => 0.5) {
  const clock = testClock();
  const calls: { at: number; timeoutMs: number; signature: string | undefined }[] = [];
  const gateway = await startTestGateway({
    clock,
    random,
    subgraphs: twoSubgraphs({
      orders: (call) => {
        calls.push({ at: clock.now(), timeoutMs: call.timeoutMs, signature: call.headers['x-switchyard-identity-signature'] });
        const failure = failures[calls.length - 1];
        if (failure) throw new SubgraphFetchError('orders', typeof failure === 'function' ? failure(call, clock) : failure);
      },
    }),
    config: {
      'subgraph_identity.signing_secret': SECRET,
      'traffic_shaping.all.retry': { enabled: true, max_attempts: 3, min_delay: '100ms', max_delay: '2s' },
      ...config,
    },
  });
  return { gateway, clock, calls, start: clock.now() };
}

describe('subgraph retries, on a test clock', () => {
  it.each([
    ['a 503', statusFailure(503)],
    ['a 502', statusFailure(502)],
    ['a 504', statusFailure(504)],
    ['a refused connection', FETCH_FAILURES.connection_refused],
    ['a reset connection', FETCH_FAILURES.connection_reset],
  ])('a query that gets %s is sent again after the backoff, and the client gets the answer', async (_name, failure) => {
    const { gateway, calls, start } = await gatewayWithFlakyOrders([failure]);
    try {
      expect((await gateway.graphql(ORDERS)).body).toEqual({ data: { orders: [{ id: 'o1' }] } });
      // random 0.5 of the first backoff's cap (min_delay, 100 ms).
      expect(calls.map((c) => c.at - start)).toEqual([0, 50]);
    } finally {
      await gateway.close();
    }
  });

  it('a query that times out is sent again with what is left of the deadline, and each attempt is signed afresh', async () => {
    // The first attempt uses up its whole 10 s timeout.
    const { gateway, calls, start } = await gatewayWithFlakyOrders([(call, clock) => (clock.advance(call.timeoutMs), FETCH_FAILURES.timeout)], {
      'traffic_shaping.router.timeout': '15s',
      'traffic_shaping.all.retry.min_delay': '2s',
    });
    try {
      expect((await gateway.graphql(ORDERS)).body).toEqual({ data: { orders: [{ id: 'o1' }] } });
      expect(calls.map((c) => [c.at - start, c.timeoutMs])).toEqual([
        [0, 10_000],
        [11_000, 4_000],
      ]);
      // The signature covers its time (t=, in ms): the retry is not the first request replayed.
      const [first, second] = calls.map((c) => /^t=(\d+),/.exec(c.signature!)![1]);
      expect(Number(second) - Number(first)).toBe(11_000);
    } finally {
      await gateway.close();
    }
  });

  it('backs off exponentially with full jitter, capped at max_delay, up to max_attempts in all', async () => {
    const failures = Array.from({ length: 10 }, () => statusFailure(503));
    const { gateway, calls, start } = await gatewayWithFlakyOrders(failures, {
      'traffic_shaping.all.retry': { enabled: true, max_attempts: 5, min_delay: '100ms', max_delay: '300ms' },
    });
    try {
      const res = await gateway.graphql(ORDERS);
      expect(res.body).toEqual({
        data: { orders: null },
        errors: [{ message: "HTTP fetch failed from 'orders': HTTP 503", extensions: { code: 'SUBREQUEST_HTTP_ERROR', service: 'orders', reason: 'HTTP 503' } }],
        extensions: { degraded: ['orders'] },
      });
      // Caps 100, 200, 300 (not 400), 300 ms; the jitter takes half of each.
      expect(calls.map((c) => c.at - start)).toEqual([0, 50, 150, 300, 450]);
    } finally {
      await gateway.close();
    }
  });

  it.each([
    ['a 500', statusFailure(500)],
    ['a 400', statusFailure(400)],
    ['an answer that is not JSON', { type: 'invalid_json', reason: 'HTTP 200 without a JSON body', status: 200 }],
    ['an unknown host', FETCH_FAILURES.host_not_found],
    ['a cancelled request', FETCH_FAILURES.cancelled],
  ])('%s is not retried: the subgraph answered, or a retry cannot help', async (_name, failure) => {
    const { gateway, calls } = await gatewayWithFlakyOrders([failure]);
    try {
      expect((await gateway.graphql(ORDERS)).body.errors[0].extensions.code).toBe('SUBREQUEST_HTTP_ERROR');
      expect(calls).toHaveLength(1);
    } finally {
      await gateway.close();
    }
  });

  it('a mutation is never retried, whatever the failure', async () => {
    for (const failure of [statusFailure(503), FETCH_FAILURES.timeout, FETCH_FAILURES.connection_reset]) {
      const { gateway, calls } = await gatewayWithFlakyOrders([failure]);
      try {
        const res = await gateway.graphql('mutation Place { placeOrder { id } }');
        expect(res.body.data).toEqual({ placeOrder: null });
        expect(calls).toHaveLength(1);
      } finally {
        await gateway.close();
      }
    }
  });

  it('Retry-After is honoured: in seconds or as a date, the retry waits that long; asking for more than max_delay means no retry', async () => {
    const { gateway, calls, start } = await gatewayWithFlakyOrders([statusFailure(503, '1'), (_call, clock) => statusFailure(503, new Date(clock.now() + 1_500).toUTCString())]);
    try {
      expect((await gateway.graphql(ORDERS)).body.data).toEqual({ orders: [{ id: 'o1' }] });
      expect(calls.map((c) => c.at - start)).toEqual([0, 1_000, 2_000]);
    } finally {
      await gateway.close();
    }
    const tooLong = await gatewayWithFlakyOrders([statusFailure(503, '3')]);
    try {
      expect((await tooLong.gateway.graphql(ORDERS)).body.errors[0].extensions.reason).toBe('HTTP 503');
      expect(tooLong.calls).toHaveLength(1);
    } finally {
      await tooLong.gateway.close();
    }
  });

  it('never waits past the request deadline: no retry whose backoff would reach it', async () => {
    // Each attempt takes 600 ms of a 1 s deadline before its connection is reset.
    const slowReset = (_call: SubgraphCall, clock: TestClock) => (clock.advance(600), FETCH_FAILURES.connection_reset);
    const { gateway, calls, clock, start } = await gatewayWithFlakyOrders([slowReset, slowReset, slowReset], {
      'traffic_shaping.router.timeout': '1s',
      'server.http.header_read_timeout': '1s',
      'traffic_shaping.all.retry': { enabled: true, max_attempts: 5, min_delay: '100ms', max_delay: '1s' },
    });
    try {
      expect((await gateway.graphql(ORDERS)).body.errors[0].extensions.reason).toBe('connection reset');
      // The retry after 650 ms gets the 350 ms left; after it, a backoff would end past the deadline.
      expect(calls.map((c) => [c.at - start, c.timeoutMs])).toEqual([
        [0, 1_000],
        [650, 350],
      ]);
      expect(clock.now() - start).toBe(1_250);
    } finally {
      await gateway.close();
    }
  });

  it('a subgraph override replaces only the keys it sets; retries stay off where they are not enabled', async () => {
    const { gateway, calls } = await gatewayWithFlakyOrders([statusFailure(503), statusFailure(503)], {
      'traffic_shaping.all.retry': { enabled: false, max_attempts: 3 },
      'traffic_shaping.subgraphs': { orders: { retry: { enabled: true } } },
    });
    try {
      expect((await gateway.graphql(ORDERS)).body.data).toEqual({ orders: [{ id: 'o1' }] });
      expect(calls).toHaveLength(3);
    } finally {
      await gateway.close();
    }
    const off = await gatewayWithFlakyOrders([statusFailure(503)], { 'traffic_shaping.subgraphs': { orders: { retry: { enabled: false } } } });
    try {
      await off.gateway.graphql(ORDERS);
      expect(off.calls).toHaveLength(1);
    } finally {
      await off.gateway.close();
    }
  });
});

describe('the retry budget', () => {
  it('under a full outage, retries never exceed ratio x requests: 50 failed requests send 10 retries, not 100', async () => {
    const metrics = startMetrics({ serviceName: 'gateway', env: {} });
    const outage = Array.from({ length: 1000 }, () => FETCH_FAILURES.connection_refused);
    const { gateway, calls } = await gatewayWithFlakyOrders(outage, {
      'traffic_shaping.all.retry': { enabled: true, max_attempts: 3, budget: { ratio: 0.2, window: '10s', min_per_second: 0 } },
    });
    try {
      for (let i = 0; i < 50; i++) {
        expect((await gateway.graphql(PRODUCT_AND_ORDERS)).body.extensions).toEqual({ degraded: ['orders'] });
        expect(calls.length - (i + 1)).toBeLessThanOrEqual(0.2 * (i + 1));
      }
      expect(calls).toHaveLength(60);
    } finally {
      await gateway.close();
      await metrics.shutdown();
    }
  });

  it('min_per_second lets a quiet gateway retry: with 3 requests, 10 s x 1/s allows each its retries', async () => {
    const { gateway, calls } = await gatewayWithFlakyOrders(Array.from({ length: 100 }, () => statusFailure(503)), {}, () => 0);
    try {
      for (let i = 0; i < 3; i++) await gateway.graphql(ORDERS);
      // 3 requests x 3 attempts: 6 retries, within 0.2 x 3 + 10.
      expect(calls).toHaveLength(9);
      for (let i = 0; i < 3; i++) await gateway.graphql(ORDERS);
      // Then the floor is spent: 10 retries in the window, 0.2 x 6 + 10 = 11.2 at most.
      expect(calls.length - 6).toBe(11);
    } finally {
      await gateway.close();
    }
  });

  it('counts retries sent and refused in switchyard.subgraph.retries', async () => {
    const metrics = startMetrics({ serviceName: 'gateway', env: {} });
    const clock = testClock();
    const gateway = await startTestGateway({
      clock,
      metrics,
      random: () => 0,
      subgraphs: twoSubgraphs({ orders: () => { throw new SubgraphFetchError('orders', statusFailure(503)); } }),
      config: { 'traffic_shaping.all.retry': { enabled: true, max_attempts: 2, budget: { ratio: 0.5, min_per_second: 0 } } },
    });
    try {
      for (let i = 0; i < 4; i++) await gateway.graphql(ORDERS);
      const samples = parsePrometheusText(await metrics.scrape()).get('switchyard_subgraph_retries_total')!.samples;
      expect(Object.fromEntries(samples.map((s) => [`${s.labels.subgraph_name}/${s.labels.outcome}`, s.value]))).toEqual({ 'orders/budget_exhausted': 2, 'orders/sent': 2 });
    } finally {
      await gateway.close();
      await metrics.shutdown();
    }
  });

  it('slides: requests and retries older than the window are forgotten', () => {
    let now = 0;
    const config: RetryConfig['budget'] = { ratio: 0.5, window: 10_000, min_per_second: 0 };
    const budget = new RetryBudget(config, () => now);
    for (let i = 0; i < 4; i++) budget.recordRequest();
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([true, true, false]);
    now = 9_999;
    expect(budget.tryRetry()).toBe(false);
    // The requests that earned the retries slid out with the retries themselves.
    now = 10_000;
    expect(budget.tryRetry()).toBe(false);
    budget.recordRequest();
    budget.recordRequest();
    expect([budget.tryRetry(), budget.tryRetry()]).toEqual([true, false]);
  });
});

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP dates; anything else is no Retry-After', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(retryAfterMs('2', now)).toBe(2_000);
    expect(retryAfterMs(new Date(now + 1_500).toUTCString(), now)).toBe(1_000);
    expect(retryAfterMs(new Date(now - 5_000).toUTCString(), now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-1', now)).toBeUndefined();
  });
});
