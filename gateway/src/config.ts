import { loadConfig, logLevel } from '@switchyard/service-kit';
import { z } from 'zod';
import { operationLimitsConfigSchema } from './admission/config';
import { executionConfigSchema } from './execution/config';
import { httpConfigSchema } from './http/config';
import { identityConfigSchema } from './identity/config';
import { transportConfigSchema } from './transport/config';

/** One section per pipeline stage; each stage owns its section's schema. */
export const gatewayConfigSchema = z
  .object({
    http: httpConfigSchema,
    identity: identityConfigSchema,
    limits: operationLimitsConfigSchema,
    execution: executionConfigSchema,
    transport: transportConfigSchema,
    logLevel: logLevel.default('info'),
  })
  .strict();

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

const ENV_BINDINGS = {
  HOST: 'http.host',
  PORT: 'http.port',
  CORS_ORIGINS: 'http.cors.allowedOrigins',
  SHUTDOWN_DRAIN_MS: 'http.drainMs',
  LANDING_PAGE: 'http.landingPage',
  GRAPHIQL: 'http.graphiql',
  INTROSPECTION: 'http.introspection',
  JWT_ISSUER: 'identity.jwt.issuer',
  JWT_AUDIENCE: 'identity.jwt.audience',
  JWT_JWKS_URL: 'identity.jwt.jwksUrl',
  SUPERGRAPH_PATH: 'execution.supergraphPath',
  LOG_LEVEL: 'logLevel',
};

/** File (CONFIG_FILE), then env, then overrides; SUBGRAPH_<NAME>_URL overrides one subgraph's routing URL. */
export function loadGatewayConfig(overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const bindings: Record<string, string> = { ...ENV_BINDINGS };
  for (const name of Object.keys(env)) {
    const match = /^SUBGRAPH_([A-Z0-9_]+)_URL$/.exec(name);
    if (match) bindings[name] = `execution.subgraphUrls.${match[1]!.toLowerCase()}`;
  }
  return loadConfig(gatewayConfigSchema, { env, bindings, overrides });
}
