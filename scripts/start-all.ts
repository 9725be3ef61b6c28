/**
 * npm start: the whole platform in one process for a laptop: the three subgraphs on embedded PGlite
 * (or PostgreSQL with DATABASE_URL), a development token issuer, and the gateway in front.
 */
import { ConfigError, displayUrl } from '@switchyard/service-kit';
import { loadGatewayConfig } from '../gateway/src/config';
import { startGateway } from '../gateway/src/main';
import { startOrders } from '../subgraphs/orders/src/main';
import { startProducts } from '../subgraphs/products/src/main';
import { startUsers } from '../subgraphs/users/src/main';
import { startDevIssuer } from './dev-issuer';

const env = process.env;
const began = Date.now();
const running: { close(): Promise<void> }[] = [];

function portFrom(name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError([`${name}: must be a port number, got "${value}"`]);
  return port;
}

async function stopAll(): Promise<void> {
  for (const service of running.reverse()) await service.close().catch(() => undefined);
}

async function main(): Promise<void> {
  // Quiet by default: one line per service is what a person wants to see; LOG_LEVEL=info shows more.
  const logLevel = env.LOG_LEVEL ? undefined : 'warn';
  const common = { logLevel };
  const track = <T extends { close(): Promise<void> }>(service: T) => (running.push(service), service);

  const [users, products] = await Promise.all([
    startUsers({ ...common, 'server.port': portFrom('USERS_PORT', 4001) }).then(track),
    startProducts({ ...common, 'server.port': portFrom('PRODUCTS_PORT', 4002) }).then(track),
  ]);
  const orders = track(
    await startOrders({ ...common, 'server.port': portFrom('ORDERS_PORT', 4003), 'products.internalUrl': products.url }),
  );
  // With a real identity provider configured (JWT_JWKS_URL), no development issuer is started.
  const issuer = env.JWT_JWKS_URL ? undefined : track(await startDevIssuer({ port: portFrom('ISSUER_PORT', 4005) }));
  const gateway = track(
    await startGateway(
      loadGatewayConfig({
        overrides: {
          ...(logLevel ? { 'telemetry.exporters.logging.level': logLevel } : {}),
          'supergraph.listen': `127.0.0.1:${portFrom('GATEWAY_PORT', portFrom('PORT', 4000))}`,
          override_subgraph_url: { users: users.graphqlUrl, products: products.graphqlUrl, orders: orders.graphqlUrl },
          ...(issuer ? { 'authentication.router.jwt': { jwks: [{ url: issuer.jwksUrl, issuers: [issuer.issuer], audiences: [issuer.audience] }] } } : {}),
        },
      }),
    ),
  );

  const line = (name: string, url: string, note = '') => process.stdout.write(`${name.padEnd(9)} ${displayUrl(url)}${note}\n`);
  line('users', users.graphqlUrl);
  line('products', products.graphqlUrl);
  line('orders', orders.graphqlUrl);
  if (issuer) line('tokens', `${issuer.url}/token?sub=usr_001`, '   (development issuer: paste access_token as "Authorization: Bearer ...")');
  line('gateway', gateway.graphqlUrl, '   (open in a browser for Apollo Sandbox; offline GraphiQL at /graphiql)');
  process.stdout.write(`ready in ${Date.now() - began} ms; Ctrl-C stops everything\n`);
}

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  stopAll().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

main().catch(async (err: Error) => {
  process.stderr.write(`switchyard failed to start: ${err.message}\n`);
  await stopAll();
  process.exit(1);
});
