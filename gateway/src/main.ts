import './instrument';
import { createHttpServer, createLogger, listen, otlpMetricsConfigured, registerMetricsRoute, runMain, startMetrics, type RunningServer } from '@switchyard/service-kit';
import { loadGatewayConfig, type GatewayConfig } from './config';
import type { SubgraphEndpoint } from './execution/gateway';
import { buildGateway } from './gateway';
import { registerHttpEdge } from './http/edge';
import { startHealthCheckListener } from './http/health-check-listener';
import { startGatewayTracing } from './plugins/tracing/tracing';

export interface RunningGateway extends RunningServer {
  readonly graphqlUrl: string;
  readonly subgraphs: SubgraphEndpoint[];
  /** Base URL of the health_check.listen address, when config sets one. */
  readonly healthCheckUrl?: string;
}

export async function startGateway(config: GatewayConfig, options: { now?: () => number } = {}): Promise<RunningGateway> {
  const logger = createLogger('gateway', config.telemetry.exporters.logging.level);
  const prometheus = config.telemetry.exporters.metrics.prometheus;
  // With neither exporter, nothing is recorded: the plugins get no instruments at all.
  const metrics = prometheus.enabled || otlpMetricsConfigured() ? startMetrics({ serviceName: 'gateway', prometheus: prometheus.enabled }) : undefined;
  const gateway = await buildGateway(config, { logger, metrics, now: options.now }).catch(async (err) => {
    await metrics?.shutdown();
    throw err;
  });
  const servers: RunningServer[] = [];
  try {
    const app = createHttpServer({
      logger,
      bodyLimitBytes: config.limits.http_max_request_bytes,
      maxHeaderBytes: config.limits.http_max_header_bytes,
      requestTimeoutMs: config.traffic_shaping.router.timeout,
      headerReadTimeoutMs: config.server.http.header_read_timeout,
      keepAliveTimeoutMs: config.server.http.keep_alive_timeout,
      metrics,
    });
    await registerHttpEdge(app, { config, pipeline: gateway.pipeline, readiness: gateway.readiness, now: options.now ?? Date.now });
    if (metrics && prometheus.enabled) registerMetricsRoute(app, metrics, prometheus.path);
    const server = await listen(app, { ...config.supergraph.listen, drainMs: config.server.shutdown_grace_period });
    servers.push(server);
    const { enabled, listen: healthCheckAddress } = config.health_check;
    const healthCheck = enabled && healthCheckAddress ? await startHealthCheckListener(healthCheckAddress, gateway.readiness, config, logger, gateway.adminRoutes) : undefined;
    if (healthCheck) servers.push(healthCheck);
    return {
      url: server.url,
      port: server.port,
      graphqlUrl: `${server.url}${config.supergraph.path}`,
      subgraphs: gateway.execution.subgraphs,
      healthCheckUrl: healthCheck?.url,
      async close() {
        await Promise.all(servers.map((s) => s.close()));
        await gateway.close();
        await metrics?.shutdown();
      },
    };
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    await gateway.close();
    await metrics?.shutdown();
    throw err;
  }
}

if (require.main === module) {
  runMain('gateway', async () => {
    const config = loadGatewayConfig();
    startGatewayTracing(config.telemetry.exporters.tracing);
    return startGateway(config);
  });
}
