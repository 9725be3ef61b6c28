import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { maskUnexpectedErrors, type Logger, type ServiceMetrics } from '@switchyard/service-kit';
import type { FastifyRequest } from 'fastify';
import { DemandControl } from './admission/demand-control/plugin';
import { PersistedOperations } from './admission/persisted-operations/persisted-operations';
import { operationLimitsPlugin, operationLimitsServerOptions } from './admission/plugin';
import { RateLimiter } from './admission/rate-limit/limiter';
import { rateLimitPlugin } from './admission/rate-limit/plugin';
import { directivesAuthorization } from './authorization/stage';
import type { GatewayConfig } from './config';
import type { RequestContext } from './context';
import { createExecution, type SubgraphEndpoint } from './execution/gateway';
import { operationResolutionPlugin } from './http/operation-resolution';
import { gatewayReadiness, watchSubgraphHealth, type Readiness } from './http/readiness';
import { createIdentity, type Authenticate } from './identity/identity';
import { operationAttributesPlugin, tracedPlugin } from './telemetry/tracing';
import { GatewayMetrics } from './telemetry/gateway-metrics';
import { SubgraphDataSource, subgraphHeaders } from './transport/subgraph-data-source';
import { createSubgraphHttpClient, type SubgraphHttpClient } from './transport/subgraph-http-client';

export interface Pipeline {
  apollo: ApolloServer<RequestContext>;
  authenticate: Authenticate;
  /** The safelist, at the HTTP stage after identity: throws an HttpError for an operation it refuses. */
  admitOperation(request: FastifyRequest): void;
  readiness: Readiness;
  subgraphs: SubgraphEndpoint[];
  /** At the end of each GraphQL request, when metrics are on: counts every decision the stages made. */
  requestEnded?(context: RequestContext): void;
  close(): Promise<void>;
}

/** Subgraph health is probed in the background at this interval, each probe cut off after the timeout. */
const PROBE_INTERVAL_MS = 5_000;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * The request path, in order: HTTP (CORS, body limit, CSRF) -> identity (JWT -> principal) ->
 * admission (operation checks) -> authorization (before planning) -> planning and execution (Apollo
 * Gateway) -> subgraph transport.
 * Built from the inside out, since each stage hands requests to the next.
 */
export async function buildPipeline(config: GatewayConfig, logger: Logger, serviceMetrics?: ServiceMetrics): Promise<Pipeline> {
  const shaping = config.traffic_shaping;
  // Switchyard's subgraphs trust only a signed principal. In front of subgraphs that read no identity
  // headers the secret means nothing, so it is not required; without it no principal is forwarded.
  const signingSecret = config.subgraph_identity.signing_secret ?? undefined;
  if (!signingSecret) logger.warn('subgraph_identity.signing_secret is not set (env IDENTITY_SIGNING_SECRET): subgraph requests are unsigned, which Switchyard subgraphs refuse');
  const metrics = serviceMetrics && new GatewayMetrics(serviceMetrics.meter);
  const transport = createSubgraphHttpClient(shaping.all, metrics?.recordSubgraphFetch);
  const execution = createExecution(
    {
      supergraphPath: config.supergraph.schema_path,
      subgraphUrls: config.override_subgraph_url,
      hotReload: config.supergraph.hot_reload,
      anonymousTelemetry: config.telemetry.apollo.anonymous_telemetry,
    },
    (subgraph, url) =>
      new SubgraphDataSource(subgraph, url, transport, shaping.subgraphs[subgraph]?.timeout ?? shaping.all.timeout, signingSecret),
    logger,
    config.authorization.directives.enabled ? [directivesAuthorization(config.authorization.directives, serviceMetrics?.meter)] : [],
    metrics?.queryPlanCache(() => execution.gateway.planCacheSize()),
  );
  for (const [i, name] of config.health_check.required_subgraphs.entries()) {
    if (!execution.subgraphs.some((s) => s.name === name)) {
      throw new Error(`health_check.required_subgraphs.${i}: no subgraph "${name}" in the supergraph`);
    }
  }
  const persisted = new PersistedOperations(config.persisted_queries, logger);
  const demandControl = new DemandControl(config.demand_control, () => execution.supergraph.active, metrics?.recordCostEstimate);
  const identity = await createIdentity(config.authentication, Object.keys(config.rate_limit.classes), logger, serviceMetrics?.meter);
  const rateLimiter = config.rate_limit.enabled ? await RateLimiter.create(config.rate_limit, logger) : undefined;
  if (metrics) {
    metrics.observeSupergraph(() => execution.supergraph.active.hash);
    if (rateLimiter) metrics.observeRateLimitStore(() => rateLimiter.status());
  }
  const apollo = new ApolloServer<RequestContext>({
    gateway: execution.gateway,
    csrfPrevention: config.csrf.unsafe_disabled ? false : { requestHeaders: config.csrf.required_headers },
    introspection: config.supergraph.introspection,
    // Without introspection, "Did you mean ...?" suggestions would still spell out the schema.
    hideSchemaDetailsFromClientErrors: !config.supergraph.introspection,
    includeStacktraceInErrorResponses: false,
    // main.ts owns shutdown (drain HTTP first, then stop); Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
    formatError: maskUnexpectedErrors(logger),
    ...operationLimitsServerOptions(config.limits),
    plugins: [
      ...(metrics ? [metrics.operationsPlugin()] : []),
      operationAttributesPlugin(),
      persisted.plugin(),
      operationResolutionPlugin(),
      tracedPlugin('admission', 'limits', operationLimitsPlugin(config.limits)),
      tracedPlugin('admission', 'demand_control', demandControl.plugin()),
      ...(rateLimiter ? [tracedPlugin('admission', 'rate_limit', rateLimitPlugin(rateLimiter, (request) => demandControl.chargeableCost(request)))] : []),
      config.sandbox.enabled ? ApolloServerPluginLandingPageLocalDefault({ embed: true }) : ApolloServerPluginLandingPageDisabled(),
    ],
  });
  try {
    await apollo.start();
  } catch (err) {
    identity.close();
    await rateLimiter?.close();
    throw err;
  }
  // The active supergraph's subgraphs, read on every round: a reload may add, drop or move one.
  const subgraphHealth = watchSubgraphHealth(
    () => execution.subgraphs.map((s) => ({ name: s.name, probe: () => probeSubgraph(transport, s.name, s.url, signingSecret) })),
    PROBE_INTERVAL_MS,
  );
  const readiness = gatewayReadiness({
    // apollo.start() above loaded the supergraph; the pipeline exists only after it succeeded.
    supergraph: () => ({ loaded: true, ...execution.supergraph.status() }),
    subgraphs: subgraphHealth,
    required: config.health_check.required_subgraphs,
  });
  return {
    apollo,
    authenticate: identity.authenticate,
    admitOperation: (request) => persisted.admit(request),
    // The rate limiter's store and the identity provider's keys are reported, not required: an outage of
    // either hits every replica alike, and the on_unavailable policy and max_stale decide what it means.
    readiness: async () => {
      const report = await readiness();
      return { ...report, body: { ...report.body, identity: identity.status(), ...(rateLimiter && { rate_limit: rateLimiter.status() }) } };
    },
    subgraphs: execution.subgraphs,
    ...(metrics && { requestEnded: (context: RequestContext) => metrics.countDecisions(context.decisions) }),
    async close() {
      subgraphHealth.stop();
      identity.close();
      await apollo.stop();
      await Promise.all([transport.close(), rateLimiter?.close()]);
    },
  };
}

/** A subgraph is up when it answers the smallest valid GraphQL query. */
async function probeSubgraph(client: SubgraphHttpClient, subgraph: string, url: string, signingSecret: string | undefined): Promise<void> {
  const body = JSON.stringify({ query: 'query SwitchyardReadiness { __typename }' });
  const answer = (await client.post({
    subgraph,
    url,
    headers: subgraphHeaders(undefined, signingSecret, subgraph, body),
    body,
    timeoutMs: PROBE_TIMEOUT_MS,
    probe: true,
  })) as { data?: { __typename?: string } };
  if (!answer.data?.__typename) throw new Error(`${subgraph} answered without data`);
}
