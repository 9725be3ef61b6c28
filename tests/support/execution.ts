import { randomUUID } from 'node:crypto';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse } from 'graphql';
import { ANONYMOUS, createLogger, maskUnexpectedErrors, type Logger } from '@switchyard/service-kit';
import type { RequestContext } from '../../gateway/src/context';
import type { ExecutionConfig } from '../../gateway/src/execution/config';
import { createExecution, type Execution } from '../../gateway/src/execution/gateway';
import type { PrePlanningStage } from '../../gateway/src/execution/pre-planning';
import { trafficShapingConfigSchema } from '../../gateway/src/transport/config';
import { SubgraphDataSource } from '../../gateway/src/transport/subgraph-data-source';
import { createSubgraphHttpClient } from '../../gateway/src/transport/subgraph-http-client';
import { composeSupergraph } from '../../scripts/schema/supergraph';

export interface TestSubgraph {
  name: string;
  url: string;
  sdl: string;
  /** The operation text of every request it received, in order. */
  received: string[];
  close(): Promise<void>;
}

/** A federation subgraph on a free port that records what the gateway sends it. */
export async function startTestSubgraph(name: string, sdl: string, resolvers: GraphQLResolverMap<unknown>): Promise<TestSubgraph> {
  const received: string[] = [];
  const server = new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers }]),
    plugins: [ApolloServerPluginInlineTraceDisabled(), { requestDidStart: async ({ request }) => void received.push(request.query ?? '') }],
  });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { name, url, sdl, received, close: () => server.stop() };
}

/** The supergraph SDL that `rover supergraph compose` would write for these subgraphs. */
export function composeTestSupergraph(subgraphs: Pick<TestSubgraph, 'name' | 'url' | 'sdl'>[]): string {
  const composed = composeSupergraph(subgraphs);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  return composed.supergraphSdl;
}

export interface TestGateway {
  execution: Execution;
  /** POSTs a GraphQL request; `as` makes the caller that user, else anonymous. */
  graphql(query: string, options?: { as?: string; operationName?: string }): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/**
 * The execution stage behind Apollo Server as pipeline.ts wires it, without the HTTP, identity and
 * admission stages: the caller's identity comes from an x-test-user header instead of a token.
 */
export async function startTestGateway(options: {
  supergraphPath: string;
  hotReload?: boolean;
  stages?: PrePlanningStage[];
  /** Refuses a supergraph version, as pipeline.ts's authorization check does. */
  checkSupergraph?: ExecutionConfig['checkSupergraph'];
  /** Run between Apollo Server's validation and the gateway, as the admission stage does. */
  plugins?: ApolloServerPlugin<RequestContext>[];
  logger?: Logger;
}): Promise<TestGateway> {
  const logger = options.logger ?? createLogger('gateway', 'silent');
  const shaping = trafficShapingConfigSchema.parse(undefined);
  const transport = createSubgraphHttpClient(shaping.all);
  const execution = createExecution(
    {
      supergraphPath: options.supergraphPath,
      subgraphUrls: {},
      hotReload: options.hotReload ?? false,
      anonymousTelemetry: false,
      checkSupergraph: options.checkSupergraph,
    },
    (subgraph, url) => new SubgraphDataSource(subgraph, url, transport, shaping.all.timeout, process.env.IDENTITY_SIGNING_SECRET!),
    logger,
    options.stages,
  );
  const apollo = new ApolloServer<RequestContext>({
    gateway: execution.gateway,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    formatError: maskUnexpectedErrors(logger),
    plugins: options.plugins,
  });
  const { url } = await startStandaloneServer(apollo, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }): Promise<RequestContext> => {
      const user = req.headers['x-test-user'];
      return {
        requestId: randomUUID(),
        logger,
        deadline: Date.now() + 30_000,
        signal: new AbortController().signal,
        clientAddress: req.socket.remoteAddress ?? '',
        principal: typeof user === 'string' ? { kind: 'user', id: user, scopes: [], claims: {} } : ANONYMOUS,
        decisions: [],
      };
    },
  });
  return {
    execution,
    async graphql(query, { as, operationName } = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (as) headers['x-test-user'] = as;
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, operationName }) });
      return { status: res.status, body: await res.json() };
    },
    async close() {
      await apollo.stop();
      await transport.close();
    },
  };
}

/** Polls until `condition` holds; a bound on waiting, not a timing assertion. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
