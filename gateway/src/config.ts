import { booleanFromEnv, loadConfig, logLevel, type EnvBindings } from '@switchyard/service-kit';
import { z } from 'zod';
import { contractsConfigSchema, executionEnvBindings, executionSupergraphKeys, overrideSubgraphUrlSchema } from './execution/config';
import { corsConfigSchema, graphiqlConfigSchema, httpEnvBindings, httpLimitKeys, httpSupergraphKeys, listen, sandboxConfigSchema, serverConfigSchema } from './http/config';
import { authorizationConfigSchema, authorizationEnvBindings } from './plugins/authorization/config';
import { csrfConfigSchema } from './plugins/csrf/config';
import { cacheControlConfigSchema, cacheControlEnvBindings, headersConfigSchema } from './plugins/headers/config';
import { demandControlConfigSchema, demandControlEnvBindings } from './plugins/demand-control/config';
import { entityCacheConfigSchema, entityCacheEnvBindings } from './plugins/entity-cache/config';
import { authenticationConfigSchema, identityEnvBindings } from './plugins/identity/config';
import { admissionLimitKeys } from './plugins/limits/config';
import { apqConfigSchema, persistedQueriesConfigSchema, persistedQueriesEnvBindings } from './plugins/persisted-operations/config';
import { subgraphIdentityConfigSchema, subgraphIdentityEnvBindings } from './plugins/principal-signing/config';
import { rateLimitConfigSchema, rateLimitEnvBindings } from './plugins/rate-limit/config';
import { includeSubgraphErrorsConfigSchema, subgraphErrorsEnvBindings } from './plugins/subgraph-errors/config';
import { responseCacheConfigSchema, responseCacheEnvBindings } from './plugins/response-cache/config';
import { tracingConfigSchema, tracingEnvBindings } from './plugins/tracing/config';
import { trafficShapingConfigSchema, trafficShapingEnvBindings } from './transport/config';

const healthCheckConfigSchema = z
  .object({
    enabled: booleanFromEnv.default(true).describe("Serve /healthz and /readyz; the public port's /readyz says only what is up, health_check.listen's all of it."),
    required_subgraphs: z.array(z.string().min(1)).default([]).describe('Subgraphs that must answer for /readyz to be 200.'),
    listen: listen
      .nullish()
      .describe(
        "A second address (host:port) serving /healthz and /readyz with the full report: file paths, JWKS URLs, error messages. The public port's /readyz gives only the status and what is up. Keep it off the public network (127.0.0.1 is pod-local). None by default. env HEALTH_CHECK_LISTEN",
      ),
  })
  .strict()
  .default({});

const telemetryConfigSchema = z
  .object({
    apollo: z
      .object({
        anonymous_telemetry: booleanFromEnv
          .default(false)
          .describe("Opt in to @apollo/gateway's anonymous usage reporting to Apollo; otherwise APOLLO_TELEMETRY_DISABLED is set."),
      })
      .strict()
      .default({}),
    exporters: z
      .object({
        logging: z
          .object({ level: logLevel.default('info').describe('Log level. env LOG_LEVEL') })
          .strict()
          .default({}),
        metrics: z
          .object({
            prometheus: z
              .object({
                enabled: booleanFromEnv.default(true).describe('Serve the metrics in the Prometheus text format on the gateway\'s port. env METRICS_PROMETHEUS'),
                path: z.string().regex(/^\/[\w\-./]*$/, 'must be a path starting with /').default('/metrics').describe('Where the Prometheus text is served.'),
              })
              .strict()
              .default({}),
          })
          .strict()
          .default({}),
        tracing: tracingConfigSchema,
      })
      .strict()
      .default({}),
  })
  .strict()
  .default({});

/**
 * The gateway's file config: Apollo Router's key names where Router has the concept. Each plugin owns
 * the schema of its section (plugins/<concern>/config.ts), as do http/, execution/ and transport/.
 */
export const gatewayConfigSchema = z
  .object({
    supergraph: httpSupergraphKeys.merge(executionSupergraphKeys).strict().default({}),
    sandbox: sandboxConfigSchema,
    graphiql: graphiqlConfigSchema,
    cors: corsConfigSchema,
    csrf: csrfConfigSchema,
    limits: httpLimitKeys.merge(admissionLimitKeys).strict().default({}),
    demand_control: demandControlConfigSchema,
    rate_limit: rateLimitConfigSchema,
    persisted_queries: persistedQueriesConfigSchema,
    apq: apqConfigSchema,
    server: serverConfigSchema,
    traffic_shaping: trafficShapingConfigSchema,
    include_subgraph_errors: includeSubgraphErrorsConfigSchema,
    headers: headersConfigSchema,
    cache_control: cacheControlConfigSchema,
    response_cache: responseCacheConfigSchema,
    entity_cache: entityCacheConfigSchema,
    subgraph_identity: subgraphIdentityConfigSchema,
    override_subgraph_url: overrideSubgraphUrlSchema,
    contracts: contractsConfigSchema,
    authentication: authenticationConfigSchema,
    authorization: authorizationConfigSchema,
    health_check: healthCheckConfigSchema,
    telemetry: telemetryConfigSchema,
  })
  .strict()
  // Node refuses to create a server whose headersTimeout exceeds its requestTimeout. Either may be
  // missing here when it was itself refused; that is reported already.
  .refine(({ server, traffic_shaping }) => !(server.http.header_read_timeout > traffic_shaping.router.timeout), {
    message: 'must not exceed traffic_shaping.router.timeout, the whole-request deadline',
    path: ['server', 'http', 'header_read_timeout'],
  })
  .superRefine(({ supergraph, contracts }, ctx) => {
    // One path, one schema: a contract on the supergraph's path (or another contract's) would never be reached.
    const taken = new Map<string, string>([[supergraph.path, 'supergraph.path']]);
    for (const [name, contract] of Object.entries(contracts)) {
      const owner = taken.get(contract.path);
      if (owner) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['contracts', name, 'path'], message: `is already ${owner}'s path` });
      taken.set(contract.path, `contracts.${name}`);
    }
  })
  .superRefine(({ response_cache, health_check }, ctx) => {
    if (response_cache?.invalidation.enabled && health_check && !(health_check.enabled && health_check.listen)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['response_cache', 'invalidation', 'enabled'],
        message: 'needs health_check.enabled and health_check.listen: invalidation is served only on the operators\' listener, never on the public port',
      });
    }
  })
  .superRefine(({ authentication, rate_limit }, ctx) => {
    // Checked at start, so a typo does not quietly limit a machine client as a user.
    for (const [i, key] of (authentication?.api_keys.keys ?? []).entries()) {
      if (key.rate_limit_class !== undefined && rate_limit && !Object.hasOwn(rate_limit.classes, key.rate_limit_class)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['authentication', 'api_keys', 'keys', i, 'rate_limit_class'],
          message: `names no class in rate_limit.classes (it has ${Object.keys(rate_limit.classes).join(', ')})`,
        });
      }
    }
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/**
 * Under NODE_ENV=production, keys that are refused whatever set them: each would show the gateway's
 * internals to anyone who reaches its port.
 */
const productionConfigSchema = gatewayConfigSchema.superRefine((config, ctx) => {
  if (config.telemetry.exporters.tracing.debug_traces.enabled) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['telemetry', 'exporters', 'tracing', 'debug_traces', 'enabled'],
      message: 'must be false under NODE_ENV=production: /debug/traces shows SQL text and internal URLs to anyone who reaches the gateway',
    });
  }
});

/**
 * Under NODE_ENV=production, the defaults that would show the schema are closed: each key here takes this
 * value unless the file or its own env var (both read before NODE_ENV) set it. Overrides still win.
 */
const PRODUCTION_DEFAULTS: Record<string, unknown> = { 'supergraph.introspection': false, 'authorization.explain_denials': false };

function productionDefaults(nodeEnv: string, current: (key: string) => unknown): Record<string, unknown> {
  if (nodeEnv !== 'production') return {};
  return Object.fromEntries(Object.entries(PRODUCTION_DEFAULTS).filter(([key]) => current(key) === undefined));
}

function gatewayEnvBindings(env: NodeJS.ProcessEnv): EnvBindings {
  return {
    ...httpEnvBindings,
    ...identityEnvBindings,
    ...executionEnvBindings(env),
    ...demandControlEnvBindings,
    ...rateLimitEnvBindings,
    ...persistedQueriesEnvBindings,
    ...tracingEnvBindings,
    ...authorizationEnvBindings,
    ...subgraphIdentityEnvBindings,
    ...trafficShapingEnvBindings,
    ...subgraphErrorsEnvBindings,
    ...cacheControlEnvBindings,
    ...responseCacheEnvBindings,
    ...entityCacheEnvBindings,
    // One Redis holds every replica's shared state: the rate limits, the response cache and the entity cache.
    REDIS_URL: (url) => ({ 'rate_limit.redis.url': url, 'response_cache.redis.url': url, 'entity_cache.redis.url': url }),
    LOG_LEVEL: 'telemetry.exporters.logging.level',
    METRICS_PROMETHEUS: 'telemetry.exporters.metrics.prometheus.enabled',
    HEALTH_CHECK_LISTEN: 'health_check.listen',
    // Last, so that it sees what the file and every other variable set.
    NODE_ENV: productionDefaults,
  };
}

export interface LoadGatewayConfigOptions {
  /** YAML or JSON config file; CONFIG_FILE in the environment when omitted. */
  file?: string;
  /** The supergraph schema file (the CLI's --supergraph); beats the file and SUPERGRAPH_PATH. */
  supergraph?: string;
  /** Dotted keys layered last, e.g. { 'supergraph.listen': '127.0.0.1:0' }. */
  overrides?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

/**
 * Defaults, then the file, then env vars (the table in docs/configuration.md), then --supergraph and overrides; under
 * NODE_ENV=production with closed defaults and the development-only keys refused.
 */
export function loadGatewayConfig(options: LoadGatewayConfigOptions = {}): GatewayConfig {
  const env = options.env ?? process.env;
  return loadConfig(env.NODE_ENV === 'production' ? productionConfigSchema : gatewayConfigSchema, {
    file: options.file,
    env,
    bindings: gatewayEnvBindings(env),
    overrides: { ...(options.supergraph ? { 'supergraph.schema_path': options.supergraph } : {}), ...options.overrides },
  });
}
