import { createHttpServer, listen, registerHealthRoutes, type Logger, type RunningServer } from '@switchyard/service-kit';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config';
import type { Readiness } from './readiness';

/** Health checks and small operator requests (a cache invalidation): no body worth the name. */
const MAX_BODY_BYTES = 1024;

/**
 * health_check.listen: /healthz and /readyz with the full report (file paths, JWKS URLs, error messages)
 * on an address of their own, which operators keep off the public network, and the plugins' operator
 * routes (response_cache.invalidation). Nothing else is served there.
 */
export async function startHealthCheckListener(
  where: { host: string; port: number },
  readiness: Readiness,
  config: Pick<GatewayConfig, 'limits' | 'server'>,
  logger: Logger,
  adminRoutes?: (app: FastifyInstance) => void,
): Promise<RunningServer> {
  const app = createHttpServer({
    logger,
    bodyLimitBytes: MAX_BODY_BYTES,
    maxHeaderBytes: config.limits.http_max_header_bytes,
    headerReadTimeoutMs: config.server.http.header_read_timeout,
    keepAliveTimeoutMs: config.server.http.keep_alive_timeout,
  });
  registerHealthRoutes(app, readiness);
  adminRoutes?.(app);
  const server = await listen(app, { ...where, drainMs: config.server.shutdown_grace_period });
  logger.info({ url: server.url }, 'health checks with the full readiness report served on health_check.listen');
  return server;
}
