import './instrument';
import { createHttpServer, createLogger, listen, otlpMetricsConfigured, registerMetricsRoute, runMain, startMetrics, type RunningServer } from '@switchyard/service-kit';
import { loadGatewayConfig, type GatewayConfig } from './config';
import type { SubgraphEndpoint } from './execution/gateway';
import { registerHttpEdge } from './http/edge';
import { buildPipeline } from './pipeline';
import { startGatewayTracing } from './telemetry/tracing';

export interface RunningGateway extends RunningServer {
  readonly graphqlUrl: string;
  readonly subgraphs: SubgraphEndpoint[];
}

export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const logger = createLogger('gateway', config.telemetry.exporters.logging.level);
  const prometheus = config.telemetry.exporters.metrics.prometheus;
  // With neither exporter, nothing is recorded: the stages get no instruments at all.
  const metrics = prometheus.enabled || otlpMetricsConfigured() ? startMetrics({ serviceName: 'gateway', prometheus: prometheus.enabled }) : undefined;
  const pipeline = await buildPipeline(config, logger, metrics).catch(async (err) => {
    await metrics?.shutdown();
    throw err;
  });
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
    await registerHttpEdge(app, { config, apollo: pipeline.apollo, authenticate: pipeline.authenticate, admitOperation: pipeline.admitOperation, readiness: pipeline.readiness, requestEnded: pipeline.requestEnded });
    if (metrics && prometheus.enabled) registerMetricsRoute(app, metrics, prometheus.path);
    const server = await listen(app, { ...config.supergraph.listen, drainMs: config.server.shutdown_grace_period });
    return {
      url: server.url,
      port: server.port,
      graphqlUrl: `${server.url}${config.supergraph.path}`,
      subgraphs: pipeline.subgraphs,
      async close() {
        await server.close();
        await pipeline.close();
        await metrics?.shutdown();
      },
    };
  } catch (err) {
    await pipeline.close();
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
