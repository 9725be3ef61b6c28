import { ApolloServer } from '@apollo/server';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { maskUnexpectedErrors, type Logger, type Route } from '@switchyard/service-kit';
import pino from 'pino';
import { operationLimitsPlugin, operationLimitsServerOptions } from './admission/plugin';
import type { GatewayConfig } from './config';
import type { RequestContext } from './context';
import { createExecution, type SubgraphEndpoint } from './execution/gateway';
import { gatewayRoutes } from './http/routes';
import { createAuthenticator } from './identity/verify-access-token';
import { createSubgraphHttpClient, type Fetcher } from './transport/undici-fetcher';

export interface Pipeline {
  routes: Route[];
  subgraphs: SubgraphEndpoint[];
  close(): Promise<void>;
}

/**
 * The request path, in order: HTTP (CORS, body limit, CSRF) -> identity (JWT -> principal) ->
 * admission (operation checks) -> planning and execution (Apollo Gateway) -> subgraph transport.
 * Built from the inside out, since each stage hands requests to the next.
 */
export async function buildPipeline(config: GatewayConfig, logger: Logger): Promise<Pipeline> {
  const transport = createSubgraphHttpClient(config.transport);
  const execution = createExecution(config.execution, transport.fetcher, logger);
  const apollo = new ApolloServer<RequestContext>({
    // ApolloGateway implements the gateway interface Apollo Server 5 calls; the two packages pin different majors of its types.
    gateway: execution.gateway as unknown as GatewayInterface,
    csrfPrevention: true,
    introspection: config.http.introspection,
    includeStacktraceInErrorResponses: false,
    // main.ts owns shutdown (drain HTTP first, then stop); Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
    formatError: maskUnexpectedErrors(logger),
    ...operationLimitsServerOptions(config.limits),
    plugins: [
      operationLimitsPlugin(config.limits),
      config.http.landingPage === 'sandbox'
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true })
        : ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();
  const readinessChecks: Record<string, () => Promise<void>> = {
    // apollo.start() above loaded and planned the supergraph; routes exist only after it succeeded.
    supergraph: async () => undefined,
  };
  for (const subgraph of execution.subgraphs) {
    readinessChecks[`subgraph:${subgraph.name}`] = () => probeSubgraph(transport.fetcher, subgraph.url);
  }
  return {
    routes: gatewayRoutes({
      config: config.http,
      apollo,
      authenticate: createAuthenticator(config.identity),
      readinessChecks,
      // Stand-in until the Fastify rewrite gives every request a pino child logger.
      requestLogger: pino({ level: config.logLevel, base: { service: 'gateway' } }, process.stderr),
    }),
    subgraphs: execution.subgraphs,
    async close() {
      await apollo.stop();
      await transport.close();
    },
  };
}

/** A subgraph is ready when it answers the smallest valid GraphQL query. */
async function probeSubgraph(fetcher: Fetcher, url: string): Promise<void> {
  const res = await fetcher(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query SwitchyardReadiness { __typename }' }),
  });
  if (!res.ok) throw new Error(`answered HTTP ${res.status}`);
  const body = (await res.json()) as { data?: { __typename?: string } };
  if (!body.data?.__typename) throw new Error('answered without data');
}
