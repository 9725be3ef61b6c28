import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ensurePlatformApiKeysFile, PLATFORM_GATEWAY_CONFIG } from '../../scripts/platform-gateway';
import { freePort, spawnService, type WatchedProcess } from './processes';
import { signedHeaders } from './subgraph-requests';

export type ServiceName = 'users' | 'products' | 'orders' | 'gateway';

export interface SpawnedService {
  name: ServiceName;
  port: number;
  /** Base URL, no path. */
  url: string;
  process: WatchedProcess;
  /** The exit code once the process has ended on its own, undefined while it runs. */
  exitCode(): number | null | undefined;
}

export interface SpawnedPlatform {
  services: Record<ServiceName, SpawnedService>;
  /** Starts a service that has exited again, on its port and with its environment; `services` then holds the new one. */
  restart(name: ServiceName): Promise<SpawnedService>;
  stop(): Promise<void>;
}

/**
 * The three subgraphs (embedded PGlite, seeded) and the gateway, each its own child process wired
 * through the environment variables an operator sets, so that a request which kills a service shows
 * up as a dead child rather than a dead test runner.
 */
export interface SpawnOptions {
  /** Added to every service's environment (say, where to export traces). */
  env?: Record<string, string>;
  /** Added to the gateway's environment only (say, the JWT issuer to trust). */
  gatewayEnv?: Record<string, string>;
}

export async function spawnPlatform(options: SpawnOptions = {}): Promise<SpawnedPlatform> {
  const started: SpawnedService[] = [];
  const launches = new Map<ServiceName, { entry: string; env: Record<string, string>; port: number }>();
  const spawn = async (name: ServiceName, entry: string, env: Record<string, string>, port?: number): Promise<SpawnedService> => {
    port ??= await freePort();
    launches.set(name, { entry, env, port });
    const child = spawnService(entry, { PORT: String(port), LOG_LEVEL: 'warn', ...options.env, ...env });
    let exit: number | null | undefined;
    void child.exited.then(({ code }) => (exit = code));
    const service = { name, port, url: `http://127.0.0.1:${port}`, process: child, exitCode: () => exit };
    started.push(service);
    await child.waitFor(/ready at/, 90_000);
    return service;
  };
  const stop = async () => {
    for (const service of started) service.process.signal('SIGTERM');
    await Promise.all(started.map((s) => s.process.exited));
  };
  try {
    const [users, products] = await Promise.all([
      spawn('users', 'subgraphs/users/src/main.ts', {}),
      spawn('products', 'subgraphs/products/src/main.ts', {}),
    ]);
    const orders = await spawn('orders', 'subgraphs/orders/src/main.ts', { PRODUCTS_INTERNAL_URL: products.url });
    const gateway = await spawn('gateway', 'gateway/src/main.ts', {
      // Admission is each test's own (gatewayEnv may turn rate limits on).
      RATE_LIMIT: 'false',
      SUBGRAPH_USERS_URL: `${users.url}/graphql`,
      SUBGRAPH_PRODUCTS_URL: `${products.url}/graphql`,
      SUBGRAPH_ORDERS_URL: `${orders.url}/graphql`,
      ...options.gatewayEnv,
      CONFIG_FILE: platformConfigWith(options.gatewayEnv?.CONFIG_FILE),
    });
    const services = { users, products, orders, gateway };
    const restart = async (name: ServiceName) => {
      const { entry, env, port } = launches.get(name)!;
      return (services[name] = await spawn(name, entry, env, port));
    };
    return { services, restart, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** npm start's gateway file, with a test's own file (gatewayEnv.CONFIG_FILE) laid over it key by key. */
function platformConfigWith(own: string | undefined): string {
  // As npm start does: a fresh clone has no API key file yet, and the gateway refuses to start without it.
  ensurePlatformApiKeysFile();
  if (!own) return PLATFORM_GATEWAY_CONFIG;
  const over = (base: unknown, top: unknown): unknown => {
    if (!isMap(base) || !isMap(top)) return top;
    const merged: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(top)) merged[key] = over(base[key], value);
    return merged;
  };
  const file = join(mkdtempSync(join(tmpdir(), 'switchyard-gateway-')), 'gateway.yaml');
  writeFileSync(file, stringify(over(parse(readFileSync(PLATFORM_GATEWAY_CONFIG, 'utf8')), parse(readFileSync(own, 'utf8')))));
  return file;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The smallest GraphQL request over ordinary HTTP (signed for a subgraph, as the gateway does); what every live service must still answer. */
export async function askTypename(service: SpawnedService): Promise<unknown> {
  const body = JSON.stringify({ query: '{ __typename }' });
  const headers = service.name === 'gateway' ? { 'content-type': 'application/json' } : signedHeaders(service.name, body);
  const res = await fetch(`${service.url}/graphql`, { method: 'POST', headers, body });
  return res.json();
}
