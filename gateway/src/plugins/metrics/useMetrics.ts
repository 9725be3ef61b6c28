import type { GatewayPlugin } from '../../core/plugin';
import { deprecatedUsesOf } from './deprecated-usage';
import type { GatewayMetrics, Outcome } from './gateway-metrics';

/**
 * The gateway's metrics from what the core hands every plugin: each operation once it is answered (by
 * name, type and outcome), every decision a plugin made, each estimate, each subgraph fetch, each
 * deprecated coordinate an operation uses. It reads the
 * context's shared fields only, so it depends on no other plugin.
 */
export function useMetrics(metrics: GatewayMetrics, now: () => number = Date.now): GatewayPlugin {
  return {
    name: 'metrics',
    stage: 'execution',
    start({ execution }) {
      metrics.observeSupergraph(() => execution.supergraph.active.hash);
    },
    onSubgraphResponse(_context, fetch) {
      if (fetch.shared) metrics.countSharedFetch(fetch.subgraph);
      else metrics.recordSubgraphFetch(fetch.subgraph, fetch.seconds, fetch.status, fetch.errorType);
    },
    onEnd(context, response) {
      const { operation } = context;
      const errors = response.body.errors?.length ?? 0;
      const outcome: Outcome = errors === 0 ? 'success' : response.body.data ? 'partial' : 'error';
      const name = operation ? (operation.operationName ?? 'anonymous') : 'unknown';
      metrics.countOperation(name, operation?.type ?? 'unknown', outcome, (now() - context.receivedAt) / 1000, context.client);
      if (Array.isArray(response.body.extensions?.degraded)) metrics.countDegraded(name);
      if (context.answeredBy === 'shared_execution') metrics.countSharedExecution(name);
      metrics.countDecisions(context.decisions);
      if (context.cost) metrics.recordCostEstimate(context.cost.estimated, context.cost.result);
      // Whatever the answer: a client that sends a deprecated field still depends on it.
      if (operation) metrics.countDeprecatedUses(deprecatedUsesOf(operation), context.client);
    },
  };
}
