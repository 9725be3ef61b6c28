import { mkdtempSync, writeFileSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { createHttpServer, createLogger, listen, type ServiceMetrics } from '@switchyard/service-kit';
import type { FastifyInstance } from 'fastify';
import { execute, GraphQLError, parse, type GraphQLSchema } from 'graphql';
import { composeSupergraph, filterSupergraph } from '@switchyard/schema-tools';
import { loadGatewayConfig } from '../config';
import type { RequestContext } from '../core/context';
import { buildGateway, type Gateway } from '../gateway';
import { registerHttpEdge } from '../http/edge';
import { SubgraphFetchError, type SubgraphCall, type SubgraphFetched, type SubgraphHttpClient } from '../transport/subgraph-http-client';

/** A subgraph that runs in the test's process: its schema, resolvers, and every request it was sent. */
export interface FakeSubgraph {
  sdl: string;
  resolvers: GraphQLResolverMap<FakeSubgraphContext>;
  /** Makes the subgraph fail the way a real one can: throw to fail the fetch, return a body to answer with it, undefined (or a promise of it) to let the resolvers answer. */
  answer?: (call: SubgraphCall) => unknown;
  /** The headers it answers with (Cache-Control, Set-Cookie), names in lower case. */
  headers?: (call: SubgraphCall) => Record<string, string | string[]>;
}

export interface FakeSubgraphContext {
  /** The headers the gateway sent (the signed principal, the request id). */
  headers: Record<string, string>;
  /** The request body exactly as sent, which the signature covers. */
  body: string;
}

export interface TestClock {
  now(): number;
  advance(ms: number): void;
  /** What the gateway waits on (retry backoff): moves the clock on by `ms` and resolves at once. */
  sleep(ms: number): Promise<void>;
}

/** A clock that moves only when told to, or when the gateway waits on it. */
export function testClock(start = Date.UTC(2026, 0, 1)): TestClock {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => void (time += ms),
    sleep: async (ms) => void (time += ms),
  };
}

export interface TestAnswer {
  status: number;
  headers: OutgoingHttpHeaders;
  body: any;
}

export interface TestGateway {
  /** The GraphQL endpoint's URL, when started with listen: true. */
  url?: string;
  /** POSTs an operation (or GETs it, with method: 'GET') through the whole gateway, in process. */
  graphql(query: string | undefined, options?: { variables?: Record<string, unknown>; operationName?: string; extensions?: Record<string, unknown>; headers?: Record<string, string>; method?: 'GET' | 'POST'; path?: string }): Promise<TestAnswer>;
  /** Any HTTP request, as Fastify's inject() takes it. */
  inject: FastifyInstance['inject'];
  /** What each subgraph was sent, by name. */
  received: Record<string, SubgraphCall[]>;
  /** Every GraphQL request's context, in the order they were answered: the principal, cost and decisions the plugins recorded. */
  contexts: RequestContext[];
  /** Every log line, parsed, at telemetry.exporters.logging.level (silent unless a test or LOG_LEVEL sets it). */
  logs: Record<string, unknown>[];
  gateway: Gateway;
  close(): Promise<void>;
}

/**
 * A whole gateway (the real core, plugins and HTTP edge) in front of subgraphs that run in the test's own
 * process, without ports: a plugin's behaviour through the whole request path in milliseconds. Config is
 * given as dotted overrides, as the CLI and env take it.
 */
export async function startTestGateway(options: {
  subgraphs: Record<string, FakeSubgraph>;
  config?: Record<string, unknown>;
  clock?: TestClock;
  /** Records the gateway's metrics there (they are off otherwise, as without an exporter). */
  metrics?: ServiceMetrics;
  /** Also listen on a free loopback port, for clients that speak real HTTP (url). */
  listen?: boolean;
  /** The environment the config is read from (NODE_ENV, INTROSPECTION, ...); none by default. */
  env?: NodeJS.ProcessEnv;
  /** The retries' jitter: a number in [0, 1). */
  random?: () => number;
  /** Contracts of the fake subgraphs' supergraph, each filtered by its tags and served on its path. */
  contracts?: Record<string, { path: string; include?: string[]; exclude?: string[] }>;
}): Promise<TestGateway> {
  const composed = composeSupergraph(Object.entries(options.subgraphs).map(([name, s]) => ({ name, url: `http://${name}.test/graphql`, sdl: s.sdl })));
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  const path = join(mkdtempSync(join(tmpdir(), 'switchyard-test-')), 'supergraph.graphql');
  writeFileSync(path, composed.supergraphSdl);
  const contracts = Object.fromEntries(
    Object.entries(options.contracts ?? {}).map(([name, { path: served, include = [], exclude = [] }]) => {
      const filtered = filterSupergraph(composed.supergraphSdl, { name, include, exclude, hideUnreachableTypes: true });
      if (!filtered.ok) throw new Error(filtered.errors.join('\n'));
      const schemaPath = join(dirname(path), `${name}.graphql`);
      writeFileSync(schemaPath, filtered.supergraphSdl);
      return [name, { path: served, schema_path: schemaPath }];
    }),
  );
  const config = loadGatewayConfig({
    env: options.env ?? {},
    overrides: {
      'supergraph.schema_path': path,
      'supergraph.hot_reload': false,
      ...(options.contracts && { contracts }),
      'telemetry.exporters.logging.level': process.env.LOG_LEVEL ?? 'silent',
      'telemetry.exporters.metrics.prometheus.enabled': false,
      ...options.config,
    },
  });
  const now = options.clock?.now ?? Date.now;
  const schemas = new Map<string, GraphQLSchema>(
    Object.entries(options.subgraphs).map(([name, s]) => [name, buildSubgraphSchema([{ typeDefs: parse(s.sdl), resolvers: s.resolvers as GraphQLResolverMap<unknown> }])]),
  );
  const received: Record<string, SubgraphCall[]> = Object.fromEntries(Object.keys(options.subgraphs).map((name) => [name, []]));
  const answer = async (call: SubgraphCall): Promise<unknown> => {
    const fake = options.subgraphs[call.subgraph]!;
    if (fake.answer) {
      // A held answer (a promise) that comes to undefined is answered by the resolvers, once released.
      const answered = await fake.answer(call);
      if (answered !== undefined) return answered;
    }
    const { query, variables, operationName } = JSON.parse(call.body);
    const result = await execute({ schema: schemas.get(call.subgraph)!, document: parse(query), variableValues: variables, operationName, contextValue: { headers: call.headers, body: call.body } });
    // What a subgraph would put on the wire.
    return JSON.parse(JSON.stringify({ ...result, errors: result.errors?.map((e: GraphQLError) => e.toJSON()) }));
  };
  // Tells the plugins what each fetch came to, as the HTTP client does: a status, or why there was none.
  const transport = (fetched: SubgraphFetched): SubgraphHttpClient => ({
    async post(call) {
      if (call.probe) return answer(call);
      received[call.subgraph]!.push(call);
      const outcome = (status: number | undefined, errorType: string | undefined, headers?: Record<string, string | string[]>) => {
        const response = { subgraph: call.subgraph, seconds: 0, status, errorType, headers };
        call.observe?.(response);
        fetched(call.context, response);
      };
      try {
        const body = await answer(call);
        outcome(200, undefined, options.subgraphs[call.subgraph]!.headers?.(call) ?? {});
        return body;
      } catch (err) {
        if (err instanceof SubgraphFetchError) outcome(err.failure.status, err.failure.type);
        else outcome(undefined, '_OTHER');
        throw err;
      }
    },
    close: async () => undefined,
  });
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger('gateway', config.telemetry.exporters.logging.level, {
    write(line: string) {
      logs.push(JSON.parse(line));
      if (process.env.LOG_LEVEL && process.env.LOG_LEVEL !== 'silent') process.stderr.write(line);
    },
  });
  const gateway = await buildGateway(config, { logger, now, sleep: options.clock?.sleep, random: options.random, transport, metrics: options.metrics });
  const app = createHttpServer({ logger, bodyLimitBytes: config.limits.http_max_request_bytes });
  const contexts: RequestContext[] = [];
  app.addHook('onSend', async (request) => {
    if (request.ctx) contexts.push(request.ctx);
  });
  await registerHttpEdge(app, { config, pipeline: gateway.pipeline, readiness: gateway.readiness, now });
  await app.ready();
  const server = options.listen ? await listen(app, { host: '127.0.0.1', port: 0 }) : undefined;
  return {
    url: server && `${server.url}${config.supergraph.path}`,
    async graphql(query, { variables, operationName, extensions, headers = {}, method = 'POST', path = config.supergraph.path } = {}) {
      const params = { query, variables, operationName, extensions };
      const res =
        method === 'GET'
          ? await app.inject({ method, url: `${path}?${searchOf(params)}`, headers: { 'apollo-require-preflight': 'true', ...headers } })
          : await app.inject({ method, url: path, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(params) });
      return { status: res.statusCode, headers: res.headers, body: res.body ? JSON.parse(res.body) : undefined };
    },
    inject: app.inject.bind(app),
    received,
    contexts,
    logs,
    gateway,
    async close() {
      await (server ? server.close() : app.close());
      await gateway.close();
    },
  };
}

function searchOf(params: Record<string, unknown>): string {
  return Object.entries(params)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value))}`)
    .join('&');
}
