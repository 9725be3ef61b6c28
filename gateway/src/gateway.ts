import type { Logger, ServiceMetrics } from '@switchyard/service-kit';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from './config';
import type { GatewayPlugin, SubgraphRequest } from './core/plugin';
import { Pipeline } from './core/pipeline';
import { createExecution, type Execution } from './execution/gateway';
import { gatewayReadiness, watchSubgraphHealth, type Readiness } from './http/readiness';
import { checkAuthorizationSupergraph } from './plugins/authorization/check';
import { useAuthorization } from './plugins/authorization/useAuthorization';
import { useCacheInvalidation } from './plugins/cache-invalidation/useCacheInvalidation';
import { useCircuitBreaker } from './plugins/circuit-breaker/useCircuitBreaker';
import { useCsrfPrevention } from './plugins/csrf/useCsrfPrevention';
import { useDemandControl } from './plugins/demand-control/useDemandControl';
import { useEntityCache } from './plugins/entity-cache/useEntityCache';
import { clientValuesSent, useHeaders } from './plugins/headers/useHeaders';
import { useResponseCache } from './plugins/response-cache/useResponseCache';
import { useIdentity } from './plugins/identity/useIdentity';
import { useLimits } from './plugins/limits/useLimits';
import { GatewayMetrics } from './plugins/metrics/gateway-metrics';
import { useMetrics } from './plugins/metrics/useMetrics';
import { usePersistedOperations } from './plugins/persisted-operations/usePersistedOperations';
import { usePrincipalSigning } from './plugins/principal-signing/usePrincipalSigning';
import { useRateLimit } from './plugins/rate-limit/useRateLimit';
import { useSubgraphErrors } from './plugins/subgraph-errors/useSubgraphErrors';
import { useTracing } from './plugins/tracing/useTracing';
import { trafficSettingsFor } from './transport/config';
import { deduplicateInflight } from './transport/inflight-dedup';
import { RetryBudget, RetryPolicy, retryCounter } from './transport/retry';
import { requestIdOf, sleep, SubgraphDataSource, type Sleep } from './transport/subgraph-data-source';
import { createSubgraphHttpClient, type SubgraphFetched, type SubgraphHttpClient } from './transport/subgraph-http-client';

export interface Gateway {
  pipeline: Pipeline;
  execution: Execution;
  readiness: Readiness;
  /** Registers the plugins' operator routes (cache invalidation) on the health_check.listen server. */
  adminRoutes(app: FastifyInstance): void;
  /** Stops everything that was started, last started first. */
  close(): Promise<void>;
}

export interface GatewayServices {
  logger: Logger;
  /** Metrics are recorded only when an exporter wants them. */
  metrics?: ServiceMetrics;
  /** Epoch milliseconds; tests inject their own clock. */
  now?: () => number;
  /** Waits between retries, on the same clock as `now`. */
  sleep?: Sleep;
  /** A number in [0, 1), for the retries' jitter and progressive override's percent(N) labels. */
  random?: () => number;
  /** How subgraphs are called; HTTP with undici unless a test hands in subgraphs of its own. */
  transport?: (fetched: SubgraphFetched) => SubgraphHttpClient;
}

/** Subgraph health is probed in the background at this interval, each probe cut off after the timeout. */
const PROBE_INTERVAL_MS = 5_000;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * The gateway's plugins, in the order the core calls them within each hook. Adding a concern is one
 * folder under plugins/ and one line here.
 */
async function plugins(config: GatewayConfig, services: Required<Pick<GatewayServices, 'logger' | 'now'>> & GatewayServices, metrics: GatewayMetrics | undefined, started: GatewayPlugin[]): Promise<void> {
  const { logger, now } = services;
  const meter = services.metrics?.meter;
  const add = async (plugin: GatewayPlugin | Promise<GatewayPlugin | undefined> | undefined | false) => {
    const ready = await plugin;
    if (ready) started.push(ready);
  };
  await add(metrics && useMetrics(metrics, now));
  await add(useTracing());
  await add(useCsrfPrevention(config.csrf));
  await add(useIdentity(config.authentication, { rateLimitClasses: Object.keys(config.rate_limit.classes), logger, meter }));
  await add(usePersistedOperations(config.persisted_queries, config.apq, logger));
  await add(useLimits(config.limits));
  await add(useAuthorization(config.authorization, meter));
  await add(useDemandControl(config.demand_control));
  // After identity (whom to charge) and demand control (what the operation costs).
  await add(config.rate_limit.enabled && useRateLimit(config.rate_limit, { logger, meter, now }));
  await add(useSubgraphErrors(config.include_subgraph_errors, config.traffic_shaping));
  // Before signing: the signature is written last, over headers no rule may touch anyway.
  await add(useHeaders(config.headers, config.cache_control));
  // After headers: a hit's Age and Cache-Control replace the merged ones.
  await add(useResponseCache(config.response_cache, { logger, meter, now, varyBy: clientValuesSent(config.headers) }));
  await add(useEntityCache(config.entity_cache, { logger, meter, now, varyBy: clientValuesSent(config.headers) }));
  // After the caches: one endpoint invalidates what each of them keeps.
  await add(useCacheInvalidation(config.response_cache.invalidation, { logger, caches: [...started] }));
  // Before signing, so a fetch the breaker rejects is not signed for nothing.
  await add(useCircuitBreaker(config.traffic_shaping, { logger, meter, now }));
  await add(usePrincipalSigning(config.subgraph_identity, logger, now));
}

/**
 * Builds the request path: the plugins, Apollo Gateway's planning and execution on the supergraph file,
 * and the subgraph transport. Whatever was started is stopped again if a later part fails to start.
 */
export async function buildGateway(config: GatewayConfig, services: GatewayServices): Promise<Gateway> {
  const { logger } = services;
  const now = services.now ?? Date.now;
  const metrics = services.metrics && new GatewayMetrics(services.metrics.meter);
  const started: GatewayPlugin[] = [];
  const disposals: (() => void | Promise<void>)[] = [];
  const close = async () => {
    for (const dispose of disposals.reverse()) {
      try {
        await dispose();
      } catch (err) {
        logger.warn({ err }, 'stopping part of the gateway failed');
      }
    }
  };
  try {
    let pipeline: Pipeline | undefined;
    const fetched: SubgraphFetched = (context, response) => pipeline?.subgraphResponse(context, response);
    const transport = deduplicateInflight(services.transport?.(fetched) ?? createSubgraphHttpClient(config.traffic_shaping.all, fetched), fetched);
    disposals.push(() => transport.close());
    const shaping = config.traffic_shaping;
    const retries = retryPolicies(config, services, now);
    const execution = createExecution(
      {
        supergraphPath: config.supergraph.schema_path,
        subgraphUrls: config.override_subgraph_url,
        hotReload: config.supergraph.hot_reload,
        executor: config.supergraph.executor,
        anonymousTelemetry: config.telemetry.apollo.anonymous_telemetry,
        contracts: Object.entries(config.contracts).map(([name, contract]) => ({ name, supergraphPath: contract.schema_path })),
        checkSupergraph: (supergraph) => checkAuthorizationSupergraph(supergraph, config.authorization),
      },
      (subgraph, url) =>
        new SubgraphDataSource(
          subgraph,
          url,
          transport,
          trafficSettingsFor(shaping, subgraph),
          (context, request) => pipeline!.subgraphRequest(context, request),
          now,
          retries(subgraph),
          services.sleep ?? sleep,
          (context, fetch, send) => pipeline!.subgraphFetch(context, fetch, send),
        ),
      logger,
      metrics?.queryPlanCache(() => execution.gateway.planCacheSize()),
      { random: services.random ?? Math.random, resolved: metrics?.recordOverride },
    );
    disposals.push(async () => {
      for (const plugin of [...started].reverse()) await plugin.dispose?.();
    });
    await plugins(config, { ...services, now }, metrics, started);
    pipeline = new Pipeline({ plugins: started, execution, logger, introspection: config.supergraph.introspection, dedupe: shaping.router.dedupe.enabled });
    for (const served of [execution.gateway, ...[...execution.contracts.values()].map((c) => c.gateway)]) {
      await served.start();
      disposals.push(() => served.stop());
    }
    // Checked at start, so a misspelt name does not quietly leave a subgraph optional, masked or unchecked.
    const known = (name: string) => execution.subgraphs.some((s) => s.name === name);
    for (const [i, name] of config.health_check.required_subgraphs.entries()) {
      if (!known(name)) throw new Error(`health_check.required_subgraphs.${i}: no subgraph "${name}" in the supergraph`);
    }
    for (const section of ['traffic_shaping', 'include_subgraph_errors', 'headers', 'entity_cache'] as const) {
      for (const name of Object.keys(config[section].subgraphs)) {
        if (!known(name)) throw new Error(`${section}.subgraphs.${name}: no subgraph "${name}" in the supergraph`);
      }
    }
    for (const plugin of started) await plugin.start?.({ execution, logger, meter: services.metrics?.meter });
    // The active supergraph's subgraphs, read on every round: a reload may add, drop or move one.
    const subgraphHealth = watchSubgraphHealth(
      () => execution.subgraphs.map((s) => ({ name: s.name, probe: () => probeSubgraph(transport, pipeline!, s.name, s.url) })),
      PROBE_INTERVAL_MS,
    );
    disposals.push(() => subgraphHealth.stop());
    const readiness = gatewayReadiness({
      supergraph: () => ({ loaded: true, ...execution.supergraph.status() }),
      subgraphs: subgraphHealth,
      required: config.health_check.required_subgraphs,
    });
    return {
      pipeline,
      execution,
      // What plugins report (the identity provider's keys, the rate limiter's store) is reported, not
      // required: an outage of either hits every replica alike, and their own policies decide what it means.
      readiness: async () => {
        const report = await readiness();
        // Each contract's file, hash and last refused reload, as for the supergraph: reported, not required.
        const contracts = execution.contracts.size > 0 && { contracts: Object.fromEntries([...execution.contracts].map(([name, c]) => [name, c.supergraph.status()])) };
        return { ...report, body: { ...report.body, ...contracts, ...Object.assign({}, ...started.map((p) => p.readiness?.() ?? {})) } };
      },
      adminRoutes: (app) => {
        for (const plugin of started) plugin.adminRoutes?.(app);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Each subgraph's retry policy, made once: its budget counts across supergraph reloads. */
function retryPolicies(config: GatewayConfig, services: GatewayServices, now: () => number): (subgraph: string) => RetryPolicy | undefined {
  const policies = new Map<string, RetryPolicy | undefined>();
  const counted = services.metrics && retryCounter(services.metrics.meter);
  const clock = { now, random: services.random ?? Math.random };
  return (subgraph) => {
    if (policies.has(subgraph)) return policies.get(subgraph);
    const { retry } = trafficSettingsFor(config.traffic_shaping, subgraph);
    const policy = retry.enabled ? new RetryPolicy(subgraph, retry, new RetryBudget(retry.budget, now), clock, counted) : undefined;
    policies.set(subgraph, policy);
    return policy;
  };
}

/** A subgraph is up when it answers the smallest valid GraphQL query, sent as the plugins prepare any other (signed). */
async function probeSubgraph(client: SubgraphHttpClient, pipeline: Pipeline, subgraph: string, url: string): Promise<void> {
  const request: SubgraphRequest = {
    subgraph,
    url,
    body: JSON.stringify({ query: 'query SwitchyardReadiness { __typename }' }),
    headers: { 'content-type': 'application/json', 'x-request-id': requestIdOf(undefined) },
  };
  pipeline.subgraphRequest(undefined, request);
  const answer = (await client.post({ ...request, timeoutMs: PROBE_TIMEOUT_MS, probe: true })) as { data?: { __typename?: string } };
  if (!answer.data?.__typename) throw new Error(`${subgraph} answered without data`);
}
