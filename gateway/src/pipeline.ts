import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { maskUnexpectedErrors, type Logger } from '@switchyard/service-kit';
import { operationLimitsPlugin, operationLimitsServerOptions } from './admission/plugin';
import type { GatewayConfig } from './config';
import type { RequestContext } from './context';
import { createExecution, type SubgraphEndpoint } from './execution/gateway';
import { operationResolutionPlugin } from './http/operation-resolution';
import { gatewayReadiness, watchSubgraphHealth, type Readiness } from './http/readiness';
import { createAuthenticator, type Authenticate } from './identity/verify-access-token';
import { SubgraphDataSource } from './transport/subgraph-data-source';
import { createSubgraphHttpClient, type SubgraphHttpClient } from './transport/subgraph-http-client';

export interface Pipeline {
  apollo: ApolloServer<RequestContext>;
  authenticate: Authenticate;
  readiness: Readiness;
  subgraphs: SubgraphEndpoint[];
  close(): Promise<void>;
}

/** Subgraph health is probed in the background at this interval, each probe cut off after the timeout. */
const PROBE_INTERVAL_MS = 5_000;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * The request path, in order: HTTP (CORS, body limit, CSRF) -> identity (JWT -> principal) ->
 * admission (operation checks) -> planning and execution (Apollo Gateway) -> subgraph transport.
 * Built from the inside out, since each stage hands requests to the next.
 */
export async function buildPipeline(config: GatewayConfig, logger: Logger): Promise<Pipeline> {
  const shaping = config.traffic_shaping;
  const transport = createSubgraphHttpClient(shaping.all);
  const execution = createExecution(
    {
      supergraphPath: config.supergraph.schema_path,
      subgraphUrls: config.override_subgraph_url,
      hotReload: config.supergraph.hot_reload,
      anonymousTelemetry: config.telemetry.apollo.anonymous_telemetry,
    },
    (subgraph, url) => new SubgraphDataSource(subgraph, url, transport, shaping.subgraphs[subgraph]?.timeout ?? shaping.all.timeout),
    logger,
  );
  for (const [i, name] of config.health_check.required_subgraphs.entries()) {
    if (!execution.subgraphs.some((s) => s.name === name)) {
      throw new Error(`health_check.required_subgraphs.${i}: no subgraph "${name}" in the supergraph`);
    }
  }
  const apollo = new ApolloServer<RequestContext>({
    gateway: execution.gateway,
    csrfPrevention: config.csrf.unsafe_disabled ? false : { requestHeaders: config.csrf.required_headers },
    introspection: config.supergraph.introspection,
    includeStacktraceInErrorResponses: false,
    // main.ts owns shutdown (drain HTTP first, then stop); Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
    formatError: maskUnexpectedErrors(logger),
    ...operationLimitsServerOptions(config.limits),
    plugins: [
      operationResolutionPlugin(),
      operationLimitsPlugin(config.limits),
      config.sandbox.enabled ? ApolloServerPluginLandingPageLocalDefault({ embed: true }) : ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();
  // The active supergraph's subgraphs, read on every round: a reload may add, drop or move one.
  const subgraphHealth = watchSubgraphHealth(
    () => execution.subgraphs.map((s) => ({ name: s.name, probe: () => probeSubgraph(transport, s.name, s.url) })),
    PROBE_INTERVAL_MS,
  );
  return {
    apollo,
    authenticate: createAuthenticator(config.authentication.router.jwt),
    readiness: gatewayReadiness({
      // apollo.start() above loaded the supergraph; the pipeline exists only after it succeeded.
      supergraph: () => ({ loaded: true, ...execution.supergraph.status() }),
      subgraphs: subgraphHealth,
      required: config.health_check.required_subgraphs,
    }),
    subgraphs: execution.subgraphs,
    async close() {
      subgraphHealth.stop();
      await apollo.stop();
      await transport.close();
    },
  };
}

/** A subgraph is up when it answers the smallest valid GraphQL query. */
async function probeSubgraph(client: SubgraphHttpClient, subgraph: string, url: string): Promise<void> {
  const answer = (await client.post({
    subgraph,
    url,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query SwitchyardReadiness { __typename }' }),
    timeoutMs: PROBE_TIMEOUT_MS,
  })) as { data?: { __typename?: string } };
  if (!answer.data?.__typename) throw new Error(`${subgraph} answered without data`);
}
