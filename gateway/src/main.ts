import './instrument';
import { createHttpServer, createLogger, listen, runMain, type RunningServer } from '@switchyard/service-kit';
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
  const pipeline = await buildPipeline(config, logger);
  try {
    const app = createHttpServer({
      logger,
      bodyLimitBytes: config.limits.http_max_request_bytes,
      maxHeaderBytes: config.limits.http_max_header_bytes,
      requestTimeoutMs: config.traffic_shaping.router.timeout,
      headerReadTimeoutMs: config.server.http.header_read_timeout,
      keepAliveTimeoutMs: config.server.http.keep_alive_timeout,
    });
    await registerHttpEdge(app, { config, apollo: pipeline.apollo, authenticate: pipeline.authenticate, admitOperation: pipeline.admitOperation, readiness: pipeline.readiness });
    const server = await listen(app, { ...config.supergraph.listen, drainMs: config.server.shutdown_grace_period });
    return {
      url: server.url,
      port: server.port,
      graphqlUrl: `${server.url}${config.supergraph.path}`,
      subgraphs: pipeline.subgraphs,
      async close() {
        await server.close();
        await pipeline.close();
      },
    };
  } catch (err) {
    await pipeline.close();
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
