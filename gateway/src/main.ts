import { createLogger, runMain, startHttpServer, type RunningServer } from '@switchyard/service-kit';
import { loadGatewayConfig } from './config';
import type { SubgraphEndpoint } from './execution/gateway';
import { buildPipeline } from './pipeline';

export interface RunningGateway extends RunningServer {
  readonly graphqlUrl: string;
  readonly subgraphs: SubgraphEndpoint[];
}

export async function startGateway(overrides: Record<string, unknown> = {}): Promise<RunningGateway> {
  const config = loadGatewayConfig(overrides);
  const logger = createLogger('gateway', config.logLevel);
  const pipeline = await buildPipeline(config, logger);
  try {
    const server = await startHttpServer({
      host: config.http.host,
      port: config.http.port,
      routes: pipeline.routes,
      logger,
      drainMs: config.http.drainMs,
    });
    return {
      url: server.url,
      port: server.port,
      graphqlUrl: `${server.url}/graphql`,
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

if (require.main === module) runMain('gateway', () => startGateway());
