import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse } from 'graphql';
import { createHttpServer, createLogger, listen, type Logger } from '@switchyard/service-kit';
import { loadGatewayConfig } from '../../gateway/src/config';
import type { GatewayPlugin } from '../../gateway/src/core/plugin';
import { Pipeline } from '../../gateway/src/core/pipeline';
import type { ExecutionConfig } from '../../gateway/src/execution/config';
import { registerHttpEdge } from '../../gateway/src/http/edge';
import { createExecution, type Execution } from '../../gateway/src/execution/gateway';
import { trafficShapingConfigSchema } from '../../gateway/src/transport/config';
import { SubgraphDataSource } from '../../gateway/src/transport/subgraph-data-source';
import { createSubgraphHttpClient } from '../../gateway/src/transport/subgraph-http-client';
import { composeSupergraph } from '@switchyard/schema-tools';

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
 * The execution stage behind the core pipeline, with the given plugins and none of the gateway's own: the
 * caller's identity comes from an x-test-user header instead of a token.
 */
export async function startTestGateway(options: {
  supergraphPath: string;
  hotReload?: boolean;
  plugins?: GatewayPlugin[];
  /** Refuses a supergraph version, as the gateway's authorization check does. */
  checkSupergraph?: ExecutionConfig['checkSupergraph'];
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
    (subgraph, url) => new SubgraphDataSource(subgraph, url, transport, { timeout: shaping.all.timeout, deduplicateQuery: false }, () => undefined),
    logger,
  );
  const testIdentity: GatewayPlugin = {
    name: 'test_identity',
    stage: 'identity',
    onRequest(context) {
      const user = context.http.headers['x-test-user'];
      if (typeof user === 'string') context.principal = { kind: 'user', id: user, scopes: [], claims: {} };
    },
  };
  const pipeline = new Pipeline({ plugins: [testIdentity, ...(options.plugins ?? [])], execution, logger, introspection: true });
  await execution.gateway.start();
  const app = createHttpServer({ logger, bodyLimitBytes: 1_048_576 });
  const config = loadGatewayConfig({ env: {}, overrides: { 'supergraph.schema_path': options.supergraphPath } });
  await registerHttpEdge(app, { config, pipeline, readiness: async () => ({ ready: true, body: { status: 'ready', supergraph: { loaded: true }, subgraphs: {} } }), now: Date.now });
  const server = await listen(app, { host: '127.0.0.1', port: 0 });
  return {
    execution,
    async graphql(query, { as, operationName } = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (as) headers['x-test-user'] = as;
      const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, operationName }) });
      return { status: res.status, body: await res.json() };
    },
    async close() {
      await server.close();
      await execution.gateway.stop();
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
