import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import * as apolloGatewayTelemetry from '@apollo/gateway/dist/utilities/opentelemetry';
import { parse } from 'graphql';
import { createLogger } from '@switchyard/service-kit';
import type { GraphQLDataSource } from '@apollo/gateway';
import { createExecution } from './gateway';

const noNetwork: GraphQLDataSource = {
  process: async () => {
    throw new Error('this test makes no subgraph calls');
  },
};

describe("ApolloGateway's anonymous telemetry", () => {
  let supergraphPath: string;
  const environment = process.env.APOLLO_TELEMETRY_DISABLED;
  beforeAll(() => {
    const { supergraphSdl } = composeServices([
      {
        name: 'greetings',
        url: 'http://greetings.invalid/graphql',
        typeDefs: parse('extend schema @link(url: "https://specs.apollo.dev/federation/v2.9") type Query { hello: String }'),
      },
    ]);
    supergraphPath = join(mkdtempSync(join(tmpdir(), 'switchyard-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, supergraphSdl!);
  });
  beforeEach(() => delete process.env.APOLLO_TELEMETRY_DISABLED);
  afterEach(() => {
    jest.restoreAllMocks();
    process.env.APOLLO_TELEMETRY_DISABLED = environment;
    if (environment === undefined) delete process.env.APOLLO_TELEMETRY_DISABLED;
  });

  const start = async (anonymousTelemetry: boolean) => {
    // Stands in for the exporter that would probe cloud metadata endpoints and report to Apollo; ApolloGateway
    // only shuts it down. (Its MeterProvider is the SDK 1.x copy nested under @apollo/gateway, not ours.)
    const meterProvider = { shutdown: async () => undefined } as unknown as ReturnType<typeof apolloGatewayTelemetry.createDataCollectionExporter>;
    const shutdown = jest.spyOn(meterProvider, 'shutdown');
    const exporter = jest.spyOn(apolloGatewayTelemetry, 'createDataCollectionExporter').mockReturnValue(meterProvider);
    const execution = createExecution(
      { supergraphPath, subgraphUrls: {}, hotReload: false, anonymousTelemetry },
      () => noNetwork,
      createLogger('gateway', 'silent'),
    );
    await execution.gateway.start();
    return { execution, exporter, shutdown };
  };

  it('is off unless asked for: APOLLO_TELEMETRY_DISABLED is set before ApolloGateway is built, which then starts no exporter', async () => {
    const { execution, exporter } = await start(false);
    expect(process.env.APOLLO_TELEMETRY_DISABLED).toBe('true');
    expect(exporter).not.toHaveBeenCalled();
    await execution.gateway.stop();
  });

  it('with anonymousTelemetry: true the environment is left alone, and ApolloGateway starts its exporter and stops it on stop()', async () => {
    const { execution, exporter, shutdown } = await start(true);
    expect(process.env.APOLLO_TELEMETRY_DISABLED).toBeUndefined();
    expect(exporter).toHaveBeenCalledTimes(1);
    await execution.gateway.stop();
    expect(shutdown).toHaveBeenCalledTimes(1);
  });
});
