import type { Attributes, Meter } from '@opentelemetry/api';
import type { Logger } from '@switchyard/service-kit';
import { GraphQLError } from 'graphql';
import type { GatewayPlugin, SubgraphResponse } from '../../core/plugin';
import { trafficSettingsFor, type TrafficShapingConfig } from '../../transport/config';
import { CircuitBreaker, type BreakerState, type BreakerTransition } from './breaker';

/** The gauge's value per state: 0 is healthy, anything above it is not. */
const STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * A circuit breaker per subgraph (traffic_shaping.all|subgraphs.<name>.circuit_breaker). Before a fetch
 * is sent (listed before principal signing, so a rejected fetch costs nothing), an open breaker throws
 * SUBGRAPH_CIRCUIT_BREAKER_REJECTED, which Apollo Gateway turns into an error for that subgraph's fields
 * without a call; each fetch's outcome is recorded when it ends. Every attempt counts, retries included:
 * each is a call the subgraph sees. Health probes (no request context) bypass it, so /readyz still shows
 * whether the subgraph answers. Each breaker keeps its state across supergraph reloads.
 */
export function useCircuitBreaker(config: TrafficShapingConfig, options: { logger: Logger; meter?: Meter; now?: () => number }): GatewayPlugin | undefined {
  const enabledFor = (subgraph: string) => trafficSettingsFor(config, subgraph).circuitBreaker.enabled;
  if (!config.all.circuit_breaker.enabled && !Object.keys(config.subgraphs).some(enabledFor)) return undefined;
  const now = options.now ?? Date.now;
  const breakers = new Map<string, CircuitBreaker | undefined>();
  const transitions = options.meter && transitionCounter(options.meter);

  const breakerOf = (subgraph: string): CircuitBreaker | undefined => {
    if (breakers.has(subgraph)) return breakers.get(subgraph);
    const settings = trafficSettingsFor(config, subgraph).circuitBreaker;
    const breaker = settings.enabled
      ? new CircuitBreaker(settings, now, (transition: BreakerTransition) => {
          const log = transition.to === 'open' ? options.logger.warn.bind(options.logger) : options.logger.info.bind(options.logger);
          log({ subgraph, from: transition.from, to: transition.to, reason: transition.reason }, `circuit breaker for ${subgraph}: ${transition.to.replace('_', '-')}`);
          transitions?.(subgraph, transition);
        })
      : undefined;
    breakers.set(subgraph, breaker);
    return breaker;
  };
  const errorCodesOf = new Map<string, ReadonlySet<number>>();
  const failed = (response: SubgraphResponse): boolean | undefined => {
    if (response.errorType === 'cancelled') return undefined;
    // error.type is the status for an answer that was not a success; anything else got no usable answer.
    if (response.errorType !== undefined && !/^\d+$/.test(response.errorType)) return true;
    let codes = errorCodesOf.get(response.subgraph);
    if (!codes) errorCodesOf.set(response.subgraph, (codes = new Set(trafficSettingsFor(config, response.subgraph).circuitBreaker.error_status_codes)));
    return response.status !== undefined && codes.has(response.status);
  };

  return {
    name: 'circuit_breaker',
    stage: 'transport',
    start({ execution }) {
      for (const { name } of execution.subgraphs) breakerOf(name);
      options.meter
        ?.createObservableGauge('switchyard.circuit_breaker.state', { description: 'Each subgraph\'s circuit breaker: 0 closed, 1 half-open, 2 open.' })
        .addCallback((result) => {
          for (const [subgraph, breaker] of breakers) if (breaker) result.observe(STATE_VALUE[breaker.state], { 'subgraph.name': subgraph });
        });
    },
    onSubgraphRequest(context, request) {
      if (!context) return;
      if (breakerOf(request.subgraph)?.admit() === false) {
        throw new GraphQLError(`Subgraph '${request.subgraph}' was not called: its circuit breaker is open`, {
          extensions: { code: 'SUBGRAPH_CIRCUIT_BREAKER_REJECTED', service: request.subgraph },
        });
      }
    },
    onSubgraphResponse(context, response) {
      // A shared fetch frees its admission (a half-open trial) but is no outcome: the subgraph saw one call.
      if (context) breakerOf(response.subgraph)?.record(response.shared ? undefined : failed(response));
    },
    readiness() {
      const states: Record<string, { state: BreakerState; since: string }> = {};
      for (const [subgraph, breaker] of breakers) if (breaker) states[subgraph] = { state: breaker.state, since: new Date(breaker.since).toISOString() };
      return { circuit_breakers: states };
    },
  };
}

/** switchyard.circuit_breaker.transitions{subgraph.name, from, to}. */
function transitionCounter(meter: Meter): (subgraph: string, transition: BreakerTransition) => void {
  const counter = meter.createCounter('switchyard.circuit_breaker.transitions', { unit: '{transition}', description: 'Circuit breaker state changes, by subgraph, from and to.' });
  const attributes = new Map<string, Attributes>();
  return (subgraph, { from, to }) => {
    const key = `${subgraph}\u0000${from}\u0000${to}`;
    let found = attributes.get(key);
    if (!found) attributes.set(key, (found = { 'subgraph.name': subgraph, from, to }));
    counter.add(1, found);
  };
}
