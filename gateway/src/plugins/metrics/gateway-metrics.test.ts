import { startMetrics, type ServiceMetrics } from '@switchyard/service-kit';
import { parsePrometheusText } from '../../../../tests/support/prometheus';
import { startTestGateway, testClock } from '../../testing/test-gateway';
import { CLIENT_LIMIT, GatewayMetrics, OPERATION_NAME_LIMIT } from './gateway-metrics';

const PRODUCTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { products: [Product!]! flaky: Int }
  type Mutation { placeOrder: Order! }
  type Product @key(fields: "id") { id: ID! }
  type Order { id: ID! }
`;
const resolvers = {
  Query: {
    products: () => [{ id: 'p1' }],
    flaky: () => {
      throw new Error('flaky failed');
    },
  },
  Mutation: {
    placeOrder: () => {
      throw new Error('out of stock');
    },
  },
};

/** Operation counts by `name/type/outcome`, as /metrics shows them. */
async function operationsByName(service: ServiceMetrics): Promise<Record<string, number>> {
  const family = parsePrometheusText(await service.scrape()).get('switchyard_graphql_operations_total');
  const counts: Record<string, number> = {};
  for (const sample of family?.samples ?? []) {
    const key = `${sample.labels.graphql_operation_name}/${sample.labels.graphql_operation_type}/${sample.labels.outcome}`;
    counts[key] = (counts[key] ?? 0) + sample.value;
  }
  return counts;
}

describe('operation metrics through the gateway', () => {
  it('label operations by name, type and outcome: success, partial (data and errors), error, anonymous and unresolved; time them on the gateway clock; count decisions', async () => {
    const service = startMetrics({ serviceName: 'gateway', env: {} });
    const clock = testClock();
    const gateway = await startTestGateway({
      // Each fetch takes 250 ms of the gateway's clock.
      subgraphs: { products: { sdl: PRODUCTS, resolvers, answer: () => void clock.advance(250) } },
      config: { 'limits.max_depth': 2 },
      clock,
      metrics: service,
    });
    try {
      const answers = [
        await gateway.graphql('query TopProducts { products { id } }'),
        await gateway.graphql('query TopProducts { products { id } flaky }'),
        await gateway.graphql('mutation PlaceOrder { placeOrder { id } }'),
        await gateway.graphql('{ products { id } }'),
        await gateway.graphql('{ products {'),
        await gateway.graphql('query Deep { __schema { types { name } } }'),
      ];
      expect(answers.map((a) => [a.status, a.body.data === undefined ? 'no data' : a.body.data === null ? 'null' : 'data', a.body.errors?.length ?? 0])).toEqual([
        [200, 'data', 0],
        [200, 'data', 1],
        [200, 'null', 1],
        [200, 'data', 0],
        [400, 'no data', 1],
        [400, 'no data', 1],
      ]);
      expect(await operationsByName(service)).toEqual({
        'TopProducts/query/success': 1,
        'TopProducts/query/partial': 1,
        'PlaceOrder/mutation/error': 1,
        'anonymous/query/success': 1,
        'unknown/unknown/error': 2,
      });
      const scrape = parsePrometheusText(await service.scrape());
      const durations = scrape.get('switchyard_graphql_operation_duration_seconds')!.samples.filter((s) => s.name.endsWith('_sum'));
      expect(durations.map((s) => [s.labels.graphql_operation_name, s.labels.outcome, s.value])).toEqual([
        ['TopProducts', 'success', 0.25],
        ['TopProducts', 'partial', 0.25],
        ['PlaceOrder', 'error', 0.25],
        ['anonymous', 'success', 0.25],
        ['unknown', 'error', 0],
      ]);
      // Deep is refused before it resolves (depth 3, over max_depth 2): an unknown operation, and one enforced decision.
      const decisions = scrape.get('switchyard_decisions_total')!.samples;
      expect(decisions.map(({ labels: { stage, code, reason, enforced }, value }) => ({ stage, code, reason, enforced, value }))).toEqual([
        { stage: 'admission', code: 'MAX_DEPTH_LIMIT', reason: 'limit', enforced: 'true', value: 1 },
      ]);
    } finally {
      await gateway.close();
      await service.shutdown();
    }
  });
});

describe('operation and decision labels', () => {
  it(`past ${OPERATION_NAME_LIMIT} distinct names, and for any name over 64 characters, operations count as \`other\``, async () => {
    const service = startMetrics({ serviceName: 'gateway', env: {} });
    const metrics = new GatewayMetrics(service.meter);
    for (let i = 0; i < OPERATION_NAME_LIMIT + 5; i++) metrics.countOperation(`Op${i}`, 'query', 'success', 0.01);
    metrics.countOperation('Op0', 'query', 'success', 0.01);
    metrics.countOperation('L'.repeat(65), 'query', 'success', 0.01);
    const counts = await operationsByName(service);
    expect(Object.keys(counts)).toHaveLength(OPERATION_NAME_LIMIT + 1);
    expect(counts['Op0/query/success']).toBe(2);
    expect(counts[`Op${OPERATION_NAME_LIMIT - 1}/query/success`]).toBe(1);
    expect(counts[`Op${OPERATION_NAME_LIMIT}/query/success`]).toBeUndefined();
    expect(counts['other/query/success']).toBe(6);
    await service.shutdown();
  });

  it(`label operations by the client's name and version from its headers, past ${CLIENT_LIMIT} distinct clients as \`other\`, and overlong or repeated values as unknown`, async () => {
    const service = startMetrics({ serviceName: 'gateway', env: {} });
    const gateway = await startTestGateway({ subgraphs: { products: { sdl: PRODUCTS, resolvers } }, metrics: service });
    try {
      const send = (headers: Record<string, string>) => gateway.graphql('query TopProducts { products { id } }', { headers });
      await send({ 'apollographql-client-name': 'web', 'apollographql-client-version': '1.2.0' });
      await send({ 'apollographql-client-name': 'web', 'apollographql-client-version': '1.2.0' });
      await send({ 'apollographql-client-name': 'ios' });
      await send({ 'apollographql-client-name': 'x'.repeat(65), 'apollographql-client-version': '1' });
      for (let i = 0; i < CLIENT_LIMIT; i++) await send({ 'apollographql-client-name': `bot-${i}` });
      const samples = parsePrometheusText(await service.scrape()).get('switchyard_graphql_operations_total')!.samples;
      const byClient: Record<string, number> = {};
      for (const { labels, value } of samples) byClient[`${labels.client_name}@${labels.client_version}`] = (byClient[`${labels.client_name}@${labels.client_version}`] ?? 0) + value;
      expect(Object.keys(byClient)).toHaveLength(CLIENT_LIMIT + 1);
      expect(byClient['web@1.2.0']).toBe(2);
      expect(byClient['ios@unknown']).toBe(1);
      expect(byClient['unknown@1']).toBe(1);
      // web, ios and unknown@1 took 3 of the 50 places: bot-0 to bot-46 have their own, the last three are `other`.
      expect(byClient['bot-46@unknown']).toBe(1);
      expect(byClient['bot-47@unknown']).toBeUndefined();
      expect(byClient['other@other']).toBe(3);
    } finally {
      await gateway.close();
      await service.shutdown();
    }
  });

  it('count each decision by stage, code, reason and enforced', async () => {
    const service = startMetrics({ serviceName: 'gateway', env: {} });
    const metrics = new GatewayMetrics(service.meter);
    metrics.countDecisions([
      { stage: 'admission', code: 'RATE_LIMITED', enforced: true, message: '' },
      { stage: 'admission', code: 'MAX_DEPTH_LIMIT', enforced: false, message: '' },
      { stage: 'authorization', code: 'UNAUTHORIZED_FIELD_OR_TYPE', enforced: true, message: '' },
      { stage: 'admission', code: 'COST_ESTIMATED_TOO_EXPENSIVE', enforced: false, message: '' },
      { stage: 'admission', code: 'PERSISTED_QUERY_NOT_IN_LIST', enforced: true, message: '' },
      { stage: 'identity', code: 'UNAUTHENTICATED', enforced: true, message: '' },
    ]);
    metrics.countDecisions([{ stage: 'admission', code: 'RATE_LIMITED', enforced: true, message: '' }]);
    const samples = parsePrometheusText(await service.scrape()).get('switchyard_decisions_total')!.samples;
    expect(samples.map(({ labels: { stage, code, reason, enforced }, value }) => ({ stage, code, reason, enforced, value }))).toEqual([
      { stage: 'admission', code: 'RATE_LIMITED', reason: 'rate', enforced: 'true', value: 2 },
      { stage: 'admission', code: 'MAX_DEPTH_LIMIT', reason: 'limit', enforced: 'false', value: 1 },
      { stage: 'authorization', code: 'UNAUTHORIZED_FIELD_OR_TYPE', reason: 'authorization', enforced: 'true', value: 1 },
      { stage: 'admission', code: 'COST_ESTIMATED_TOO_EXPENSIVE', reason: 'cost', enforced: 'false', value: 1 },
      { stage: 'admission', code: 'PERSISTED_QUERY_NOT_IN_LIST', reason: 'persisted_query', enforced: 'true', value: 1 },
      { stage: 'identity', code: 'UNAUTHENTICATED', reason: 'authentication', enforced: 'true', value: 1 },
    ]);
    await service.shutdown();
  });
});
