import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Meter } from '@opentelemetry/api';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse } from 'graphql';
import { z } from 'zod';
import { booleanFromEnv, loadConfig, logLevel, port } from './config';
import { migrate, openDatabase, type Database } from './db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { registerGraphQLRoute } from './graphql-http';
import { createLogger, type Logger } from './logging';
import { HttpError } from './http';
import { ANONYMOUS, IDENTITY_SECRET_MIN_LENGTH, IdentityRefused, verifySubgraphRequest, type Caller, type Principal } from './principal';
import { allChecksPass, createHttpServer, displayUrl, listen, registerHealthRoutes, type RunningServer } from './server';
import { boundStringArguments } from './argument-bounds';
import { CursorCodec } from './cursors';
import { maskUnexpectedErrors } from './graphql-util';
import { shutdownTracing } from './telemetry/tracing';
import type { RecordBatch } from './loaders';
import { loaderBatchSizes, rootResolverMetricsPlugin } from './telemetry/graphql-metrics';
import { registerMetricsRoute, startMetrics, type ServiceMetrics } from './telemetry/metrics';

/** The config every subgraph shares; a subgraph with more settings extends it. */
export function subgraphConfigSchema(name: string, defaultPort: number) {
  return z
    .object({
      server: z
        .object({
          host: z.string().min(1).default('127.0.0.1'),
          port: port.default(defaultPort),
          bodyLimitBytes: z.coerce.number().int().positive().default(1_048_576),
          drainMs: z.coerce.number().int().nonnegative().default(10_000),
        })
        .strict()
        .default({}),
      database: z
        .object({
          url: z.string().url().optional(),
          schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier').default(name),
          poolMax: z.coerce.number().int().positive().default(10),
          statementTimeoutMs: z.coerce
            .number()
            .int()
            .positive()
            .default(5_000)
            .describe('PostgreSQL cancels any statement running longer, so no request can hold the database; PGlite cannot interrupt one.'),
          dataDir: z.string().optional(),
        })
        .strict()
        .default({}),
      identity: z
        .object({
          // Required: a subgraph that cannot verify the gateway's signature must not trust its headers either.
          signingSecret: z.string().min(IDENTITY_SECRET_MIN_LENGTH, `must be at least ${IDENTITY_SECRET_MIN_LENGTH} characters`),
        })
        .strict(),
      seed: booleanFromEnv.default(true),
      logLevel: logLevel.default('info'),
    })
    .strict();
}

export type SubgraphConfig = z.infer<ReturnType<typeof subgraphConfigSchema>>;

/** Env vars every subgraph reads; <NAME>_DATABASE_URL beats DATABASE_URL so one shell can run all three. */
export function subgraphEnvBindings(name: string): Record<string, string> {
  const prefix = name.toUpperCase();
  return {
    HOST: 'server.host',
    PORT: 'server.port',
    DATABASE_URL: 'database.url',
    [`${prefix}_DATABASE_URL`]: 'database.url',
    DB_POOL_MAX: 'database.poolMax',
    DB_STATEMENT_TIMEOUT_MS: 'database.statementTimeoutMs',
    SEED: 'seed',
    IDENTITY_SIGNING_SECRET: 'identity.signingSecret',
    LOG_LEVEL: 'logLevel',
  };
}

function loadSubgraphConfig<S extends z.ZodTypeAny>(
  schema: S,
  name: string,
  overrides: Record<string, unknown> = {},
  extraBindings: Record<string, string> = {},
): z.infer<S> {
  return loadConfig(schema, { bindings: { ...subgraphEnvBindings(name), ...extraBindings }, overrides });
}

/** Opens the subgraph's database, applies its migrations and, when configured, seeds demo data. */
async function openSubgraphDatabase(
  config: SubgraphConfig,
  packageDir: string,
  seed: (db: Database) => Promise<void>,
  logger: Logger,
  metrics: ServiceMetrics,
): Promise<Database> {
  const db = await openDatabase({ ...config.database, logger, metrics });
  try {
    const applied = await migrate(db, join(packageDir, 'migrations'), config.database.schema);
    if (applied.length) logger.info({ applied }, 'migrations applied');
    if (config.seed) await seed(db);
    return db;
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

export interface SubgraphContext<L> {
  /** The principal the gateway signed the request for: ANONYMOUS for a caller without credentials. */
  principal: Principal;
  loaders: L;
  /**
   * The request's headers (names in lower case): what the gateway sent, which is only what its header
   * rules forward of the client's (an Idempotency-Key, say). Never who the caller is: that is `principal`.
   */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface RunningSubgraph extends RunningServer {
  readonly graphqlUrl: string;
  readonly db: Database;
}

interface SubgraphOptions<L> {
  name: string;
  packageDir: string;
  config: SubgraphConfig;
  logger: Logger;
  metrics: ServiceMetrics;
  db: Database;
  resolvers: GraphQLResolverMap<SubgraphContext<L>>;
  /** Fresh loaders per request, so batching and caching never leak across callers. */
  createLoaders: () => L;
  registerRoutes?: SubgraphParts<L>['registerRoutes'];
}

/** Serves a federated subgraph: schema.graphql + resolvers, health endpoints, graceful shutdown. */
async function runSubgraph<L>(options: SubgraphOptions<L>): Promise<RunningSubgraph> {
  const { config, logger, db, metrics } = options;
  const typeDefs = parse(readFileSync(join(options.packageDir, 'schema.graphql'), 'utf8'));
  const apollo = new ApolloServer<SubgraphContext<L>>({
    schema: boundStringArguments(buildSubgraphSchema([{ typeDefs, resolvers: options.resolvers }])),
    includeStacktraceInErrorResponses: false,
    // runMain owns shutdown (drain HTTP first, then stop); Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
    formatError: maskUnexpectedErrors(logger),
    // Subgraphs are for the gateway, not people; inline traces only matter with Apollo Studio reporting.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled(), rootResolverMetricsPlugin(metrics.meter)],
  });
  await apollo.start();
  try {
    const app = createHttpServer({ logger, bodyLimitBytes: config.server.bodyLimitBytes, metrics });
    keepRawJsonBodies(app);
    const signing = { secret: config.identity.signingSecret, service: options.name };
    const principals = new WeakMap<FastifyRequest, Principal>();
    // Every GraphQL request, anonymous ones included, must carry the gateway's signature over this
    // subgraph's name and the body's bytes, whatever the network lets through. Refused here, as a 401,
    // rather than in the context function, where Apollo would make it a 500.
    app.addHook('preHandler', async (request) => {
      if (request.routeOptions.url !== '/graphql') return;
      const caller = callerOf(request, signing);
      if (caller.kind === 'service') throw new HttpError(403, 'only the gateway may query the graph', 'FORBIDDEN');
      principals.set(request, caller.kind === 'anonymous' ? ANONYMOUS : { kind: caller.kind, id: caller.id, scopes: [...caller.scopes], claims: {} });
    });
    // POST only: a signature covers the body, and a GET would carry its operation in the unsigned URL.
    registerGraphQLRoute(app, apollo, {
      methods: ['POST'],
      context: async (request) => ({ principal: principals.get(request)!, loaders: options.createLoaders(), headers: request.headers }),
    });
    registerHealthRoutes(app, allChecksPass({ database: () => db.ping() }));
    registerMetricsRoute(app, metrics);
    options.registerRoutes?.(app, (request) => callerOf(request, signing));
    const server = await listen(app, { host: config.server.host, port: config.server.port, drainMs: config.server.drainMs });
    return {
      url: server.url,
      port: server.port,
      graphqlUrl: `${server.url}/graphql`,
      db,
      async close() {
        await server.close();
        await apollo.stop();
        await db.close();
      },
    };
  } catch (err) {
    await apollo.stop();
    throw err;
  }
}

/** The exact bytes of each JSON request body, kept because signatures cover the body's SHA-256. */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();
const NO_BODY = Buffer.alloc(0);

/** JSON bodies parsed as before (same errors, same prototype-poisoning checks), their bytes kept. */
function keepRawJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    rawBodies.set(request, body as Buffer);
    parseJson(request, body.toString('utf8'), done);
  });
}

/**
 * Who sent a request to this service, verified: the signature must cover this service's name and the
 * exact body received (no body, or one that is not JSON, is checked as empty, which nothing signs).
 * Anything else is a 401, with a reason that is safe to show.
 */
export function callerOf(request: FastifyRequest, signing: { secret: string; service: string }): Caller {
  try {
    return verifySubgraphRequest(request.headers, rawBodies.get(request) ?? NO_BODY, { secret: signing.secret, subgraph: signing.service });
  } catch (err) {
    if (!(err instanceof IdentityRefused)) throw err;
    request.log.warn({ reason: err.message }, 'request signature refused');
    throw new HttpError(401, err.message, 'UNAUTHENTICATED');
  }
}

/** What a subgraph plugs into the shared start-up: its SQL-backed parts, built once the database is open. */
export interface SubgraphParts<L> {
  resolvers: GraphQLResolverMap<SubgraphContext<L>>;
  createLoaders: () => L;
  /**
   * Routes beside /graphql, such as an internal API; `callerOf` gives a request's verified caller
   * (signed for this service and its body) or throws the 401.
   */
  registerRoutes?: (app: FastifyInstance, callerOf: (request: FastifyRequest) => Caller) => void;
  /** Clients or pools the parts own, closed after the server stops. */
  close?: () => Promise<void>;
}

/** What the shared start-up gives a subgraph's parts: their metric recorders, cursor codecs and logger. */
export interface SubgraphTools {
  /** The service's logger, for work the parts do outside a request (a background sweep, say). */
  logger: Logger;
  /** The service's meter: what it counts is served on its /metrics. */
  meter: Meter;
  /** The batch-size recorder for the loader of this name. */
  batchSizes: (loader: string) => RecordBatch;
  /** The codec of the cursors of one list ("Query.users"), keyed from the identity signing secret. */
  cursors: (list: string) => CursorCodec;
}

export interface SubgraphDefinition<S extends z.ZodTypeAny, L> {
  name: string;
  /** The subgraph's folder: schema.graphql and migrations/ live there. */
  packageDir: string;
  configSchema: S;
  /** Env vars beyond the ones every subgraph reads, mapped to config keys. */
  envBindings?: Record<string, string>;
  seed: (db: Database) => Promise<void>;
  wire: (db: Database, config: z.infer<S>, tools: SubgraphTools) => SubgraphParts<L>;
}

/** Config, logger, database (migrated, seeded), then the server: the start-up every subgraph shares. */
export async function startSubgraph<S extends z.ZodTypeAny, L>(
  definition: SubgraphDefinition<S, L>,
  overrides: Record<string, unknown> = {},
): Promise<RunningSubgraph> {
  const config = loadSubgraphConfig(definition.configSchema, definition.name, overrides, definition.envBindings) as SubgraphConfig &
    z.infer<S>;
  const logger = createLogger(definition.name, config.logLevel);
  const metrics = startMetrics({ serviceName: definition.name });
  const db = await openSubgraphDatabase(config, definition.packageDir, definition.seed, logger, metrics).catch(async (err) => {
    await metrics.shutdown();
    throw err;
  });
  const parts = definition.wire(db, config, {
    logger,
    meter: metrics.meter,
    batchSizes: loaderBatchSizes(metrics.meter),
    cursors: (list) => new CursorCodec(config.identity.signingSecret, `${definition.name}:${list}`),
  });
  const subgraph = await runSubgraph({ name: definition.name, packageDir: definition.packageDir, config, logger, metrics, db, ...parts }).catch(
    async (err) => {
      await parts.close?.();
      await db.close();
      await metrics.shutdown();
      throw err;
    },
  );
  return {
    ...subgraph,
    async close() {
      await subgraph.close();
      await parts.close?.();
      await metrics.shutdown();
    },
  };
}

/**
 * For a service's main.ts: start it, print where it listens, stop cleanly on SIGINT/SIGTERM. No request
 * path relies on the process-wide handlers: they log what escaped and exit for the supervisor to restart.
 */
export function runMain(name: string, start: () => Promise<{ graphqlUrl: string; close(): Promise<void> }>): void {
  const crash = (kind: string) => (err: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: name, msg: kind, error: (err as Error)?.stack ?? String(err) })}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled rejection'));
  start().then(
    (service) => {
      const stop = () => {
        // Spans still buffered are exported before the process goes (a no-op with tracing off).
        service
          .close()
          .then(
            () => 0,
            () => 1,
          )
          .then((code) => shutdownTracing().then(() => process.exit(code)));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // Only now: whoever reads this line may signal at once, and must find the handlers in place.
      process.stdout.write(`${name} ready at ${displayUrl(service.graphqlUrl)}\n`);
    },
    (err: Error) => {
      process.stderr.write(`${name} failed to start: ${err.message}\n`);
      process.exit(1);
    },
  );
}
