import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startDevIssuer, type DevIssuer } from '@switchyard/dev-tools/dev-issuer';
import type { Database } from '@switchyard/service-kit';
import { loadGatewayConfig } from '../../gateway/src/config';
import { startGateway, type RunningGateway } from '../../gateway/src/main';
import { PLATFORM_GATEWAY_CONFIG } from '../../scripts/platform-gateway';
import { startOrders } from '../../subgraphs/orders/src/main';
import { startProducts } from '../../subgraphs/products/src/main';
import { startUsers } from '../../subgraphs/users/src/main';
import { freePort } from './processes';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy';
import { requirePostgresUrl, type Backend } from './servers';

/** Who a test request is from: a user id (a customer, with CUSTOMER_SCOPES), or a subject with exact scopes. */
export type Caller = string | { sub: string; scopes: string[] };

/** What a signed-in customer's token carries in these tests: reading and placing their own orders. */
export const CUSTOMER_SCOPES = ['orders:read', 'orders:write'];

/** Support staff: lists users with their emails and reads anyone's orders. */
export const STAFF: Caller = { sub: 'usr_001', scopes: ['users:read', 'orders:read', 'orders:read:any'] };

export interface Platform {
  backend: Backend;
  gateway: RunningGateway;
  issuer: DevIssuer;
  db: { users: Database; products: Database; orders: Database };
  /** Each subgraph's own base URL (no path), for requests that bypass the gateway. */
  subgraphs: { users: string; products: string; orders: string };
  /** Sends a GraphQL request through the gateway, anonymous unless `as` is given. */
  graphql<T = any>(query: string, variables?: Record<string, unknown>, as?: Caller, extraHeaders?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** With `record: true`: what each subgraph was sent, through a recording proxy in front of it. */
  recorded?: { users: RecordingProxy; products: RecordingProxy; orders: RecordingProxy };
  close(): Promise<void>;
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[];
}

/** What a POST answered: status, headers (the rate-limit tests read them) and the JSON body. */
export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** POSTs `query` to a GraphQL URL with `headers`. */
export async function send(url: string, query: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/**
 * How npm start's gateway calls its subgraphs and reads their answers (deadline, retries, breakers,
 * criticality, our subgraphs' errors unmasked, Cache-Control merged), from scripts/platform-gateway.yaml;
 * admission (rate limits) and the response cache stay each test's own.
 */
export function platformSubgraphCalls(): Record<string, unknown> {
  const platform = loadGatewayConfig({ file: PLATFORM_GATEWAY_CONFIG, env: {} });
  return { traffic_shaping: platform.traffic_shaping, include_subgraph_errors: platform.include_subgraph_errors, cache_control: platform.cache_control };
}

/**
 * A gateway config for tests: a free port, and another for health_check.listen (where tests read the full
 * readiness report), the test run's log level, then the given dotted overrides.
 */
export function gatewayConfig(overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env) {
  return loadGatewayConfig({
    env,
    overrides: {
      'supergraph.listen': '127.0.0.1:0',
      'health_check.listen': '127.0.0.1:0',
      'telemetry.exporters.logging.level': process.env.LOG_LEVEL,
      ...overrides,
    },
  });
}

/**
 * Starts the real services on free ports, the way npm start wires them: three subgraphs, a token
 * issuer and the gateway, with npm start's gateway settings. On PostgreSQL each platform gets its own
 * schemas, dropped at close. With `cacheInvalidation`, products calls the gateway's invalidation
 * endpoint (on health_check.listen, with a token of this run) when stock changes, as npm start has it.
 */
export async function startPlatform(
  backend: Backend,
  gatewayOverrides: Record<string, unknown> = {},
  options: { record?: boolean; cacheInvalidation?: boolean } = {},
): Promise<Platform> {
  const url = backend === 'postgres' ? requirePostgresUrl() : undefined;
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const dbOverrides = (name: string) => (url ? { 'database.url': url, 'database.schema': `${prefix}_${name}` } : {});
  const common = { 'server.port': 0, logLevel: process.env.LOG_LEVEL };
  const invalidation = options.cacheInvalidation ? { listen: `127.0.0.1:${await freePort()}`, token: randomBytes(32).toString('hex') } : undefined;

  const [users, products, issuer] = await Promise.all([
    startUsers({ ...common, ...dbOverrides('users') }),
    startProducts({
      ...common,
      ...dbOverrides('products'),
      ...(invalidation && { 'cacheInvalidation.url': `http://${invalidation.listen}/invalidation`, 'cacheInvalidation.token': invalidation.token }),
    }),
    startDevIssuer({ port: 0 }),
  ]);
  const orders = await startOrders({ ...common, ...dbOverrides('orders'), 'products.internalUrl': products.url });
  const recorded = options.record
    ? {
        users: await startRecordingProxy(users.graphqlUrl),
        products: await startRecordingProxy(products.graphqlUrl),
        orders: await startRecordingProxy(orders.graphqlUrl),
      }
    : undefined;
  const urls = recorded
    ? { users: recorded.users.url, products: recorded.products.url, orders: recorded.orders.url }
    : { users: users.graphqlUrl, products: products.graphqlUrl, orders: orders.graphqlUrl };
  const gateway = await startGateway(
    gatewayConfig({
      ...platformSubgraphCalls(),
      override_subgraph_url: urls,
      'authentication.router.jwt': { jwks: [{ url: issuer.jwksUrl, issuers: [issuer.issuer], audiences: [issuer.audience] }] },
      ...(invalidation && { 'health_check.listen': invalidation.listen, 'response_cache.invalidation.enabled': true, 'response_cache.invalidation.token': invalidation.token }),
      ...gatewayOverrides,
    }),
  );

  return {
    backend,
    gateway,
    issuer,
    db: { users: users.db, products: products.db, orders: orders.db },
    subgraphs: { users: users.url, products: products.url, orders: orders.url },
    recorded,
    async graphql(query, variables, as, extraHeaders = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...extraHeaders };
      if (as) {
        const { sub, scopes } = typeof as === 'string' ? { sub: as, scopes: CUSTOMER_SCOPES } : as;
        headers.authorization = `Bearer ${await issuer.issue(sub, { scopes })}`;
      }
      const res = await fetch(gateway.graphqlUrl, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      return { status: res.status, ...((await res.json()) as object) };
    },
    async close() {
      await gateway.close();
      await Promise.all(Object.values(recorded ?? {}).map((proxy) => proxy.close()));
      await orders.close();
      await Promise.all([users.close(), products.close(), issuer.close()]);
      if (url) {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        for (const name of ['users', 'products', 'orders']) await client.query(`DROP SCHEMA IF EXISTS ${prefix}_${name} CASCADE`);
        await client.end();
      }
    },
  };
}
