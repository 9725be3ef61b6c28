import { createLogger } from '@switchyard/service-kit';
import { makeSigningKey, startJwksServer, type JwksServer } from '../../tests/support/jwks-server';
import { loadGatewayConfig } from './config';
import { buildGateway } from './gateway';

describe('building the gateway', () => {
  let jwks: JwksServer;
  beforeAll(async () => {
    jwks = await startJwksServer();
    jwks.keys = [await makeSigningKey('k1')];
  });
  afterAll(() => jwks.close());

  it('a start that fails after the identity plugin started stops its key poller again: no fetch after the failure', async () => {
    const config = loadGatewayConfig({
      env: {},
      overrides: {
        // Checked once the supergraph is loaded, after every plugin has started.
        'health_check.required_subgraphs': ['inventory'],
        'telemetry.exporters.logging.level': 'silent',
        'authentication.router.jwt': { jwks: [{ url: jwks.url, issuers: [jwks.issuer], audiences: [jwks.audience], poll_interval: '50ms' }] },
      },
    });
    await expect(buildGateway(config, { logger: createLogger('gateway', 'silent') })).rejects.toThrow('health_check.required_subgraphs.0: no subgraph "inventory" in the supergraph');
    const fetchesAtFailure = jwks.fetches;
    expect(fetchesAtFailure).toBeGreaterThanOrEqual(1);
    // Ten poll intervals later, nothing has asked for the keys again.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(jwks.fetches).toBe(fetchesAtFailure);
  });
});
