import { booleanFromEnv, loadConfig, logLevel, type EnvBindings } from '@switchyard/service-kit';
import { z } from 'zod';
import { executionEnvBindings, executionSupergraphKeys, overrideSubgraphUrlSchema } from './execution/config';
import { corsConfigSchema, graphiqlConfigSchema, httpEnvBindings, httpLimitKeys, httpSupergraphKeys, sandboxConfigSchema, serverConfigSchema } from './http/config';
import { authorizationConfigSchema, authorizationEnvBindings } from './plugins/authorization/config';
import { csrfConfigSchema } from './plugins/csrf/config';
import { demandControlConfigSchema, demandControlEnvBindings } from './plugins/demand-control/config';
import { authenticationConfigSchema, identityEnvBindings } from './plugins/identity/config';
import { admissionLimitKeys } from './plugins/limits/config';
import { apqConfigSchema, persistedQueriesConfigSchema, persistedQueriesEnvBindings } from './plugins/persisted-operations/config';
import { subgraphIdentityConfigSchema, subgraphIdentityEnvBindings } from './plugins/principal-signing/config';
import { rateLimitConfigSchema, rateLimitEnvBindings } from './plugins/rate-limit/config';
import { includeSubgraphErrorsConfigSchema, subgraphErrorsEnvBindings } from './plugins/subgraph-errors/config';
import { tracingConfigSchema, tracingEnvBindings } from './plugins/tracing/config';
import { trafficShapingConfigSchema, trafficShapingEnvBindings } from './transport/config';

const healthCheckConfigSchema = z
  .object({
    enabled: booleanFromEnv.default(true).describe('Serve /healthz and /readyz.'),
    required_subgraphs: z.array(z.string().min(1)).default([]).describe('Subgraphs that must answer for /readyz to be 200.'),
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
    subgraph_identity: subgraphIdentityConfigSchema,
    override_subgraph_url: overrideSubgraphUrlSchema,
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
    LOG_LEVEL: 'telemetry.exporters.logging.level',
    METRICS_PROMETHEUS: 'telemetry.exporters.metrics.prometheus.enabled',
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

/** Defaults, then the file, then env vars (README's table), then --supergraph and overrides. */
export function loadGatewayConfig(options: LoadGatewayConfigOptions = {}): GatewayConfig {
  const env = options.env ?? process.env;
  return loadConfig(gatewayConfigSchema, {
    file: options.file,
    env,
    bindings: gatewayEnvBindings(env),
    overrides: { ...(options.supergraph ? { 'supergraph.schema_path': options.supergraph } : {}), ...options.overrides },
  });
}
