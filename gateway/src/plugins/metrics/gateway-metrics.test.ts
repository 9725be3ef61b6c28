import type { GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { startMetrics } from '@switchyard/service-kit';
import { parse, type OperationDefinitionNode } from 'graphql';
import { parsePrometheusText } from '../../../../tests/support/prometheus';
import type { RequestContext } from '../../core/context';
import { GatewayMetrics, OPERATION_NAME_LIMIT } from './gateway-metrics';

type Sent = GraphQLRequestContextWillSendResponse<RequestContext>;

/** Runs the operations plugin over one request as Apollo Server would, with what willSendResponse reads. */
async function send(metrics: GatewayMetrics, query: string | undefined, result: { data?: unknown; errors?: unknown[] }): Promise<void> {
  const operation = query ? (parse(query).definitions[0] as OperationDefinitionNode) : undefined;
  const listener = await metrics.operationsPlugin().requestDidStart!({} as never);
  await listener!.willSendResponse!({ operation, response: { body: { kind: 'single', singleResult: result } } } as unknown as Sent);
}

async function operationsByName(service: ReturnType<typeof startMetrics>): Promise<Record<string, number>> {
  const family = parsePrometheusText(await service.scrape()).get('switchyard_graphql_operations_total');
  const counts: Record<string, number> = {};
  for (const sample of family?.samples ?? []) {
    const key = `${sample.labels.graphql_operation_name}/${sample.labels.graphql_operation_type}/${sample.labels.outcome}`;
    counts[key] = (counts[key] ?? 0) + sample.value;
  }
  return counts;
}

describe('operation metrics', () => {
  it('label operations by name, type and outcome: success, partial (data and errors), error, anonymous and unresolved', async () => {
    const service = startMetrics({ serviceName: 'gateway', env: {} });
    const metrics = new GatewayMetrics(service.meter);
    await send(metrics, 'query TopProducts { products { id } }', { data: {} });
    await send(metrics, 'query TopProducts { products { id } }', { data: {}, errors: [{}] });
    await send(metrics, 'mutation PlaceOrder { placeOrder { id } }', { errors: [{}] });
    await send(metrics, '{ products { id } }', { data: {} });
    await send(metrics, undefined, { errors: [{}] });
    expect(await operationsByName(service)).toEqual({
      'TopProducts/query/success': 1,
      'TopProducts/query/partial': 1,
      'PlaceOrder/mutation/error': 1,
      'anonymous/query/success': 1,
      'unknown/unknown/error': 1,
    });
    await service.shutdown();
  });

  it(`past ${OPERATION_NAME_LIMIT} distinct names, and for any name over 64 characters, operations count as \`other\``, async () => {
    const service = startMetrics({ serviceName: 'gateway', env: {} });
    const metrics = new GatewayMetrics(service.meter);
    for (let i = 0; i < OPERATION_NAME_LIMIT + 5; i++) await send(metrics, `query Op${i} { a }`, { data: {} });
    await send(metrics, 'query Op0 { a }', { data: {} });
    await send(metrics, `query ${'L'.repeat(65)} { a }`, { data: {} });
    const counts = await operationsByName(service);
    expect(Object.keys(counts)).toHaveLength(OPERATION_NAME_LIMIT + 1);
    expect(counts['Op0/query/success']).toBe(2);
    expect(counts[`Op${OPERATION_NAME_LIMIT - 1}/query/success`]).toBe(1);
    expect(counts[`Op${OPERATION_NAME_LIMIT}/query/success`]).toBeUndefined();
    expect(counts['other/query/success']).toBe(6);
    await service.shutdown();
  });

  it('count each decision by stage, code, reason and enforced', async () => {
    const service = startMetrics({ serviceName: 'gateway', env: {} });
    const metrics = new GatewayMetrics(service.meter);
    metrics.countDecisions([
      { stage: 'admission', code: 'RATE_LIMITED', enforced: true, message: '' },
      { stage: 'admission', code: 'MAX_DEPTH_LIMIT', enforced: false, message: '' },
    ]);
    metrics.countDecisions([{ stage: 'admission', code: 'RATE_LIMITED', enforced: true, message: '' }]);
    const samples = parsePrometheusText(await service.scrape()).get('switchyard_decisions_total')!.samples;
    expect(samples.map(({ labels: { stage, code, reason, enforced }, value }) => ({ stage, code, reason, enforced, value }))).toEqual([
      { stage: 'admission', code: 'RATE_LIMITED', reason: 'rate', enforced: 'true', value: 2 },
      { stage: 'admission', code: 'MAX_DEPTH_LIMIT', reason: 'limit', enforced: 'false', value: 1 },
    ]);
    await service.shutdown();
  });
});
