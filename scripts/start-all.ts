/**
 * npm start: the whole platform on a laptop, one process per service so one expensive request cannot
 * stall the rest: the three subgraphs on embedded PGlite (or PostgreSQL with DATABASE_URL), a development
 * token issuer, and the gateway in front. Services are configured only through their env vars; the
 * gateway also reads scripts/platform-gateway.yaml, or the file CONFIG_FILE names (never given to the
 * subgraphs, whose config keys are their own).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_ISSUER_PORT, DEV_AUDIENCE, devIssuerUrl, portFromEnv } from '@switchyard/dev-tools/dev-issuer-settings';
import { startTraceStore } from '@switchyard/dev-tools/trace-store';
import { displayUrl } from '@switchyard/service-kit';
import { ensurePlatformApiKeysFile, PLATFORM_GATEWAY_CONFIG } from './platform-gateway';
import { supervise, type ServiceSpec } from './supervisor';

const root = resolve(__dirname, '..');
const env = process.env;
// node --import tsx runs TypeScript in one process per service; the tsx CLI would add a second.
const tsxLoader = pathToFileURL(require.resolve('tsx')).href;

/**
 * Checks the port is free before anything starts, since a subgraph finds out only after its database is
 * up; port 0 becomes a free port, so every service's address is known before any starts and all start at once.
 */
async function portSetting(name: string, fallback: number): Promise<number> {
  const port = portFromEnv(name, fallback);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`${name}: port ${port} is in use (is npm start already running?)`) : err),
    );
    server.listen(port, env.HOST || '127.0.0.1', resolve);
  });
  const free = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return free;
}

async function main(): Promise<void> {
  const ports = {
    users: await portSetting('USERS_PORT', 4001),
    products: await portSetting('PRODUCTS_PORT', 4002),
    orders: await portSetting('ORDERS_PORT', 4003),
    issuer: await portSetting('ISSUER_PORT', DEFAULT_ISSUER_PORT),
    gateway: await portSetting('GATEWAY_PORT', portFromEnv('PORT', 4000)),
    // The gateway's operators' listener (full /readyz, cache invalidation): any free port unless set.
    gatewayAdmin: await portSetting('GATEWAY_ADMIN_PORT', 0),
  };
  const local = (port: number) => `http://127.0.0.1:${port}`;
  // Quiet by default: one line per service is what a person wants to see; LOG_LEVEL=info shows more.
  const logLevel = env.LOG_LEVEL || 'warn';
  // Every service exports its spans to the development trace store, here in the supervisor (OTLP/HTTP
  // JSON, which it decodes), unless OTEL_EXPORTER_OTLP_ENDPOINT names a collector of your own. Not under
  // NODE_ENV=production: the gateway refuses /debug/traces there (it shows SQL text and internal URLs).
  const withTraceStore = !env.OTEL_EXPORTER_OTLP_ENDPOINT && env.NODE_ENV !== 'production';
  const traceStore = withTraceStore ? await startTraceStore({ port: await portSetting('TRACES_PORT', 4318) }) : undefined;
  const tracing: Record<string, string> = traceStore
    ? { OTEL_EXPORTER_OTLP_ENDPOINT: traceStore.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '200' }
    : {};
  // One secret per run, shared by the gateway (signs forwarded identities) and the subgraphs (verify them).
  const identitySigningSecret = env.IDENTITY_SIGNING_SECRET || randomBytes(32).toString('hex');
  // And one the products service presents to the gateway's cache invalidation endpoint when stock changes.
  const cacheInvalidationToken = randomBytes(32).toString('hex');
  ensurePlatformApiKeysFile();
  // CONFIG_FILE is the gateway's alone: a subgraph would refuse the gateway's keys.
  const { CONFIG_FILE: gatewayConfigFile, ...serviceEnv } = env;
  const service = (name: string, entry: string, settings: Record<string, string>): ServiceSpec => ({
    name,
    command: process.execPath,
    args: ['--import', tsxLoader, '--conditions=source', entry],
    cwd: root,
    env: { ...serviceEnv, LOG_LEVEL: logLevel, IDENTITY_SIGNING_SECRET: identitySigningSecret, ...tracing, ...settings },
  });
  // With a real identity provider configured (JWT_JWKS_URL), no development issuer is started.
  const withIssuer = !env.JWT_JWKS_URL;
  const supervisor = supervise({
    services: [
      service('users', 'subgraphs/users/src/main.ts', { PORT: String(ports.users) }),
      service('products', 'subgraphs/products/src/main.ts', {
        PORT: String(ports.products),
        CACHE_INVALIDATION_URL: `${local(ports.gatewayAdmin)}/invalidation`,
        CACHE_INVALIDATION_TOKEN: cacheInvalidationToken,
      }),
      service('orders', 'subgraphs/orders/src/main.ts', { PORT: String(ports.orders), PRODUCTS_INTERNAL_URL: local(ports.products) }),
      ...(withIssuer ? [service('issuer', 'scripts/dev-issuer.ts', { PORT: String(ports.issuer) })] : []),
      service('gateway', 'gateway/src/main.ts', {
        // npm runs scripts from the repository root; a relative path is the user's, from where they typed it.
        CONFIG_FILE: gatewayConfigFile ? resolve(env.INIT_CWD ?? '', gatewayConfigFile) : PLATFORM_GATEWAY_CONFIG,
        PORT: String(ports.gateway),
        SUBGRAPH_USERS_URL: `${local(ports.users)}/graphql`,
        SUBGRAPH_PRODUCTS_URL: `${local(ports.products)}/graphql`,
        SUBGRAPH_ORDERS_URL: `${local(ports.orders)}/graphql`,
        HEALTH_CHECK_LISTEN: `127.0.0.1:${ports.gatewayAdmin}`,
        RESPONSE_CACHE_INVALIDATION: 'true',
        RESPONSE_CACHE_INVALIDATION_TOKEN: cacheInvalidationToken,
        ...(withIssuer
          ? { JWT_ISSUER: devIssuerUrl(ports.issuer), JWT_AUDIENCE: DEV_AUDIENCE, JWT_JWKS_URL: `${local(ports.issuer)}/.well-known/jwks.json` }
          : {}),
        ...(traceStore ? { DEBUG_TRACES: 'true', DEBUG_TRACES_STORE_URL: traceStore.url } : {}),
      }),
    ],
  });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void supervisor
      .stop()
      .then(() => traceStore?.close())
      .then(() => process.exit(0));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);

  let urls: Record<string, string>;
  try {
    urls = await supervisor.ready;
  } catch (err) {
    process.stderr.write(`switchyard failed to start: ${(err as Error).message}\n`);
    await supervisor.stop();
    await traceStore?.close();
    process.exit(1);
  }
  const line = (name: string, url: string, note = '') => process.stdout.write(`${name.padEnd(9)} ${url}${note}\n`);
  line('users', urls.users!);
  line('products', urls.products!);
  line('orders', urls.orders!);
  if (withIssuer) line('tokens', `${urls.issuer}/token?sub=usr_001`, '   (development issuer: paste access_token as "Authorization: Bearer ...")');
  line('gateway', urls.gateway!, '   (open in a browser for Apollo Sandbox; offline GraphiQL at /graphiql)');
  if (traceStore) line('traces', displayUrl(`${urls.gateway!.replace(/\/graphql$/, '')}/debug/traces`), `   (or: npm run trace -- '{ me { id } }'; store at ${displayUrl(traceStore.url)})`);
  // Since this process began, which is what a person waits for.
  process.stdout.write(`ready in ${Math.round(performance.now())} ms; Ctrl-C stops everything\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`switchyard failed to start: ${err.message}\n`);
  process.exit(1);
});
