import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@switchyard/service-kit';
import { parse as parseYaml } from 'yaml';
import { configJsonSchema } from './cli';
import { loadGatewayConfig, type GatewayConfig } from './config';

const EXAMPLE = join(__dirname, '..', 'switchyard.example.yaml');
const BUNDLED_SUPERGRAPH = join(__dirname, '..', 'supergraph.graphql');

const DEFAULTS: GatewayConfig = {
  supergraph: { listen: { host: '127.0.0.1', port: 4000 }, path: '/graphql', introspection: true, schema_path: BUNDLED_SUPERGRAPH, hot_reload: true, executor: 'switchyard' },
  sandbox: { enabled: true },
  graphiql: { enabled: true },
  cors: {
    allow_any_origin: false,
    max_age: 600_000,
    policies: [
      {
        origins: ['https://studio.apollographql.com', 'https://sandbox.embed.apollographql.com'],
        allow_credentials: false,
        allow_headers: [],
        expose_headers: ['x-request-id'],
        methods: ['GET', 'POST', 'OPTIONS'],
      },
    ],
  },
  csrf: { unsafe_disabled: false, required_headers: ['x-apollo-operation-name', 'apollo-require-preflight'] },
  limits: {
    http_max_request_bytes: 1_048_576,
    http_max_header_bytes: 16_384,
    max_depth: 15,
    max_height: 300,
    max_aliases: 30,
    max_root_fields: 20,
    max_directives: 50,
    parser_max_tokens: 5000,
    parser_max_recursion: 500,
    warn_only: false,
  },
  demand_control: { enabled: true, mode: 'enforce', strategy: { static_estimated: { list_size: 10, max: 10_000 } } },
  rate_limit: {
    enabled: false,
    store: 'memory',
    redis: { url: 'redis://127.0.0.1:6379', timeout: 100, key_prefix: 'switchyard:ratelimit:', on_unavailable: 'fail_open' },
    trusted_proxy_hops: 0,
    classes: { anonymous: { requests: 60, cost: 50_000, window: 60_000 }, user: { requests: 600, cost: 500_000, window: 60_000 } },
    scope_classes: {},
  },
  persisted_queries: { enabled: false, log_unknown: false, safelist: { enabled: false, require_id: false }, local_manifests: [] },
  apq: { enabled: true, router: { cache: { in_memory: { limit: 512 } } } },
  server: { http: { header_read_timeout: 10_000, keep_alive_timeout: 65_000 }, shutdown_grace_period: 10_000 },
  traffic_shaping: {
    router: { timeout: 30_000, dedupe: { enabled: true } },
    all: {
      timeout: 10_000,
      connections: 64,
      keep_alive_timeout: 30_000,
      deduplicate_query: true,
      retry: { enabled: false, max_attempts: 3, min_delay: 20, max_delay: 500, retry_mutations: false, budget: { ratio: 0.2, window: 10_000, min_per_second: 1 } },
      circuit_breaker: { enabled: false, error_threshold: 0.5, volume_threshold: 10, reset_timeout: 10_000, half_open_attempts: 3, error_status_codes: [500, 502, 503, 504] },
      criticality: 'optional',
    },
    subgraphs: {},
  },
  include_subgraph_errors: { all: false, subgraphs: {} },
  headers: { all: { request: [], response: [] }, subgraphs: {} },
  cache_control: { enabled: false },
  response_cache: {
    enabled: false,
    store: 'memory',
    memory: { max_bytes: 64 * 2 ** 20 },
    redis: { url: 'redis://127.0.0.1:6379', timeout: 100, key_prefix: 'switchyard:cache:' },
    max_ttl: 3_600_000,
    max_entry_bytes: 2 ** 20,
    private: true,
    cache_tag: { enabled: false, header: 'cache-tag' },
    invalidation: { enabled: false, path: '/invalidation' },
  },
  entity_cache: {
    enabled: false,
    store: 'memory',
    memory: { max_bytes: 64 * 2 ** 20 },
    redis: { timeout: 100, key_prefix: 'switchyard:entity:' },
    max_ttl: 3_600_000,
    private: true,
    subgraphs: {},
  },
  override_subgraph_url: {},
  contracts: {},
  subgraph_identity: {},
  authentication: { router: {}, api_keys: { keys: [] } },
  authorization: { directives: { enabled: true, reject_unauthorized: false, dry_run: false, unsafe_allow_unenforced: false }, explain_denials: true, policies: {} },
  health_check: { enabled: true, required_subgraphs: [] },
  telemetry: {
    apollo: { anonymous_telemetry: false },
    exporters: {
      logging: { level: 'info' },
      metrics: { prometheus: { enabled: true, path: '/metrics' } },
      tracing: {
        common: { sampler: 'always_on', parent_based_sampler: true, service_name: 'gateway' },
        debug_traces: { enabled: false, store_url: 'http://127.0.0.1:4318' },
      },
    },
  },
};

function configFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gateway-config-')), name);
  writeFileSync(path, content);
  return path;
}

function issuesOf(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** Every key the JSON Schema allows, as dotted paths: `[]` for list items, `*` for any name in a map. */
function schemaKeys(schema: any, prefix = ''): string[] {
  const keys: string[] = [];
  for (const [key, child] of Object.entries<any>(schema.properties ?? {})) {
    keys.push(`${prefix}${key}`);
    keys.push(...schemaKeys(child, `${prefix}${key}.`));
  }
  if (schema.items) keys.push(...schemaKeys(schema.items, `${prefix}[].`));
  if (typeof schema.additionalProperties === 'object') keys.push(...schemaKeys(schema.additionalProperties, `${prefix}*.`));
  return keys;
}

/** The same paths for a document: every list item and every map entry contributes its keys. */
function documentKeys(value: unknown, schema: any, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => documentKeys(item, schema.items ?? {}, `${prefix}[].`));
  if (typeof value !== 'object' || value === null) return [];
  if (typeof schema.additionalProperties === 'object') {
    return Object.values(value).flatMap((entry) => documentKeys(entry, schema.additionalProperties, `${prefix}*.`));
  }
  return Object.entries(value).flatMap(([key, child]) => [`${prefix}${key}`, ...documentKeys(child, schema.properties?.[key] ?? {}, `${prefix}${key}.`)]);
}

describe('loadGatewayConfig', () => {
  it('without a file or env vars gives every default, durations in ms and sizes in bytes', () => {
    expect(loadGatewayConfig({ env: {} })).toEqual(DEFAULTS);
  });

  it('accepts the example file, which shows every default and six example sections', () => {
    expect(loadGatewayConfig({ file: EXAMPLE, env: {} })).toEqual({
      ...DEFAULTS,
      authorization: {
        ...DEFAULTS.authorization,
        policies: { support: { authenticated: true, scopes: [['users:read']], claims: { groups: ['support', 'admin'] } } },
      },
      supergraph: { ...DEFAULTS.supergraph, schema_path: 'gateway/supergraph.graphql' },
      contracts: { public: { path: '/public/graphql', schema_path: 'gateway/contracts/public.graphql' } },
      traffic_shaping: {
        ...DEFAULTS.traffic_shaping,
        subgraphs: {
          products: {
            timeout: 5000,
            criticality: 'critical',
            deduplicate_query: true,
            retry: { enabled: true, max_attempts: 2, min_delay: 10, max_delay: 200, retry_mutations: false, budget: { ratio: 0.1, window: 30_000, min_per_second: 0 } },
            circuit_breaker: { enabled: true, error_threshold: 0.6, volume_threshold: 20, reset_timeout: 5000, half_open_attempts: 2, error_status_codes: [502, 503, 504] },
          },
        },
      },
      include_subgraph_errors: { all: false, subgraphs: { products: true } },
      headers: {
        all: {
          request: [
            { propagate: { named: 'x-tenant', rename: 'x-tenant-id', default: 'none' } },
            { propagate: { matching: '^x-feature-' } },
            { insert: { name: 'x-client-name', from_context: 'client_name' } },
            { insert: { name: 'x-gateway', value: 'switchyard' } },
            { remove: { named: 'x-debug' } },
          ],
          response: [
            { propagate: { named: 'set-cookie', algorithm: 'first' } },
            { propagate: { named: 'x-served-by', rename: 'x-upstream', default: 'unknown', algorithm: 'last' } },
            { propagate: { matching: '^x-trace-', algorithm: 'first' } },
          ],
        },
        subgraphs: {
          products: {
            request: [{ remove: { matching: '^x-feature-' } }],
            response: [
              { propagate: { named: 'x-catalogue-version', rename: 'x-catalogue', default: '1', algorithm: 'first' } },
              { propagate: { matching: '^x-stock-', algorithm: 'append' } },
            ],
          },
        },
      },
      subgraph_identity: { signing_secret: null },
      response_cache: { ...DEFAULTS.response_cache, invalidation: { ...DEFAULTS.response_cache.invalidation, token: null } },
      entity_cache: { ...DEFAULTS.entity_cache, redis: { ...DEFAULTS.entity_cache.redis, url: null }, subgraphs: { orders: { enabled: false }, products: { enabled: true, ttl: 300_000 } } },
      health_check: { ...DEFAULTS.health_check, listen: null },
      override_subgraph_url: {
        users: 'http://localhost:4001/graphql',
        products: 'http://localhost:4002/graphql',
        orders: 'http://localhost:4003/graphql',
      },
      authentication: {
        router: {
          jwt: {
            jwks: [
              {
                url: 'http://127.0.0.1:4005/.well-known/jwks.json',
                issuers: ['http://127.0.0.1:4005'],
                audiences: ['switchyard'],
                algorithms: ['RS256', 'ES256', 'EdDSA'],
                allow_missing_exp: false, poll_interval: 60_000, unknown_kid_cooldown: 30_000, max_stale: 3_600_000, timeout: 5_000,
              },
              {
                keys: [{ kty: 'EC', crv: 'P-256', kid: 'ci-signer', x: 'wBaj_jqJrU3RSgPR7C8J7Hjq4bfoQoFAttOeX7yJ7Sc', y: 'VrJ19_nEp_hzweH90nNLWS4RqkGRSv1lmhtADDROmsA' }],
                issuers: ['https://ci.example.com'],
                audiences: ['switchyard'],
                algorithms: ['ES256'],
                allow_missing_exp: false, poll_interval: 60_000, unknown_kid_cooldown: 30_000, max_stale: 3_600_000, timeout: 5_000,
              },
            ],
            clock_skew: 30_000,
            sources: [{ type: 'header', name: 'authorization', value_prefix: 'Bearer' }],
            on_error: 'Error',
            max_token_size: 8192,
          },
        },
        api_keys: {
          keys: [{ name: 'example-ci', sha256: '410c3ac224f821d568aaab6ef2d52dea3c8bbf1413e1c191c927313b709a37c5', scopes: ['products:read'], rate_limit_class: 'user' }],
          file: 'gateway/api-keys.example.yaml',
        },
      },
    });
  });

  it('the example file lists every key of the schema', () => {
    const schema = configJsonSchema();
    const listed = new Set(documentKeys(parseYaml(readFileSync(EXAMPLE, 'utf8')), schema));
    expect(schemaKeys(schema).filter((key) => !listed.has(key))).toEqual([]);
  });

  it('reads the same config from JSON as from YAML', () => {
    const json = configFile('gateway.json', JSON.stringify(parseYaml(readFileSync(EXAMPLE, 'utf8'))));
    expect(loadGatewayConfig({ file: json, env: {} })).toEqual(loadGatewayConfig({ file: EXAMPLE, env: {} }));
  });

  it('reads CONFIG_FILE when no file is given', () => {
    const file = configFile('gateway.yaml', 'limits:\n  max_depth: 7\n');
    expect(loadGatewayConfig({ env: { CONFIG_FILE: file } }).limits.max_depth).toBe(7);
  });

  it('maps every env var of the table in docs/configuration.md onto the Router-style keys', () => {
    const config = loadGatewayConfig({
      env: {
        PORT: '8080',
        HOST: '0.0.0.0',
        SUPERGRAPH_PATH: '/etc/switchyard/supergraph.graphql',
        SUPERGRAPH_EXECUTOR: 'apollo',
        SUBGRAPH_USERS_URL: 'http://users.internal:4001/graphql',
        SUBGRAPH_ORDER_HISTORY_URL: 'https://orders.internal/graphql',
        JWT_ISSUER: 'https://auth.example.com/, https://auth2.example.com/',
        JWT_AUDIENCE: 'switchyard-api',
        JWT_JWKS_URL: 'https://auth.example.com/.well-known/jwks.json',
        CORS_ORIGINS: 'https://app.example.com,http://localhost:5173',
        LANDING_PAGE: 'none',
        GRAPHIQL: 'false',
        INTROSPECTION: 'false',
        SHUTDOWN_DRAIN_MS: '2500',
        LOG_LEVEL: 'warn',
        DEBUG_TRACES: 'true',
        DEBUG_TRACES_STORE_URL: 'http://127.0.0.1:14318',
        API_KEYS_FILE: '/etc/switchyard/api-keys/api-keys.yaml',
        METRICS_PROMETHEUS: 'false',
        HEALTH_CHECK_LISTEN: '127.0.0.1:8088',
        CONTRACT_PUBLIC_PATH: '/public/graphql',
        CONTRACT_PUBLIC_SCHEMA_PATH: 'gateway/contracts/public.graphql',
        CONTRACT_PARTNER_V2_PATH: '/partner/v2/graphql',
        CONTRACT_PARTNER_V2_SCHEMA_PATH: 'gateway/contracts/partner_v2.graphql',
      },
    });
    expect(config).toEqual({
      ...DEFAULTS,
      supergraph: { ...DEFAULTS.supergraph, listen: { host: '0.0.0.0', port: 8080 }, introspection: false, schema_path: '/etc/switchyard/supergraph.graphql', executor: 'apollo' },
      sandbox: { enabled: false },
      graphiql: { enabled: false },
      cors: { ...DEFAULTS.cors, policies: [{ ...DEFAULTS.cors.policies[0]!, origins: ['https://app.example.com', 'http://localhost:5173'] }] },
      server: { ...DEFAULTS.server, shutdown_grace_period: 2500 },
      health_check: { ...DEFAULTS.health_check, listen: { host: '127.0.0.1', port: 8088 } },
      override_subgraph_url: { users: 'http://users.internal:4001/graphql', order_history: 'https://orders.internal/graphql' },
      contracts: {
        public: { path: '/public/graphql', schema_path: 'gateway/contracts/public.graphql' },
        partner_v2: { path: '/partner/v2/graphql', schema_path: 'gateway/contracts/partner_v2.graphql' },
      },
      authentication: {
        router: {
          jwt: {
            jwks: [
              {
                url: 'https://auth.example.com/.well-known/jwks.json',
                issuers: ['https://auth.example.com/', 'https://auth2.example.com/'],
                audiences: ['switchyard-api'],
                algorithms: ['RS256', 'ES256', 'EdDSA'],
                allow_missing_exp: false, poll_interval: 60_000, unknown_kid_cooldown: 30_000, max_stale: 3_600_000, timeout: 5_000,
              },
            ],
            clock_skew: 30_000,
            sources: [{ type: 'header', name: 'authorization', value_prefix: 'Bearer' }],
            on_error: 'Error',
            max_token_size: 8192,
          },
        },
        api_keys: { keys: [], file: '/etc/switchyard/api-keys/api-keys.yaml' },
      },
      telemetry: {
        ...DEFAULTS.telemetry,
        exporters: {
          logging: { level: 'warn' },
          metrics: { prometheus: { enabled: false, path: '/metrics' } },
          tracing: { ...DEFAULTS.telemetry.exporters.tracing, debug_traces: { enabled: true, store_url: 'http://127.0.0.1:14318' } },
        },
      },
    });
  });

  it('env vars beat the file, and PORT or HOST replace only their part of the listen address', () => {
    const file = configFile(
      'gateway.yaml',
      ['supergraph:', '  listen: 0.0.0.0:8080', 'cors:', '  policies:', '    - origins: [https://a.example]', '      allow_credentials: true', '    - origins: [https://b.example]'].join('\n'),
    );
    expect(loadGatewayConfig({ file, env: { PORT: '9090' } }).supergraph.listen).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(loadGatewayConfig({ file, env: { HOST: '::' } }).supergraph.listen).toEqual({ host: '::', port: 8080 });
    // CORS_ORIGINS replaces the first policy's origins and keeps the rest of it, and the other policies.
    expect(loadGatewayConfig({ file, env: { CORS_ORIGINS: 'https://c.example' } }).cors.policies.map((p) => [p.origins, p.allow_credentials])).toEqual([
      [['https://c.example'], true],
      [['https://b.example'], false],
    ]);
  });

  it('CORS_ORIGINS=* still means any origin', () => {
    expect(loadGatewayConfig({ env: { CORS_ORIGINS: '*' } }).cors.allow_any_origin).toBe(true);
  });

  it('PORT=abc is refused naming PORT', () => {
    expect(issuesOf(() => loadGatewayConfig({ env: { PORT: 'abc' } }))).toEqual([
      'supergraph.listen (from env PORT): port must be an integer from 0 to 65535, got "abc"',
    ]);
  });

  it('LANDING_PAGE takes only sandbox or none, and every other problem is reported with it', () => {
    expect(issuesOf(() => loadGatewayConfig({ env: { LANDING_PAGE: 'graphiql', INTROSPECTION: 'yes' } }))).toEqual([
      'env LANDING_PAGE: must be sandbox or none, got "graphiql"',
      'supergraph.introspection (from env INTROSPECTION): Expected boolean, received string',
    ]);
  });

  it('a JWT issuer without the rest says which keys and env vars are missing', () => {
    expect(issuesOf(() => loadGatewayConfig({ env: { JWT_ISSUER: 'https://auth.example.com/' } }))).toEqual([
      'authentication.router.jwt.jwks.0.audiences: required (set it in the file or with env JWT_AUDIENCE)',
    ]);
    expect(issuesOf(() => loadGatewayConfig({ env: { JWT_ISSUER: 'https://auth.example.com/', JWT_AUDIENCE: 'api' } }))).toEqual([
      'authentication.router.jwt.jwks.0.url: required (set it in the file or with env JWT_JWKS_URL)',
    ]);
  });

  it('refuses an unknown key, naming the full dotted key and the file', () => {
    const file = configFile('gateway.yaml', 'cors:\n  policies:\n    - origins: [https://a.example]\n      orign: https://b.example\n');
    expect(issuesOf(() => loadGatewayConfig({ file, env: {} }))).toEqual([`cors.policies.0.orign (from file ${file}): unknown key`]);
  });

  it('refuses a reference to an unset env var, naming the key and the variable', () => {
    const file = configFile('gateway.yaml', 'override_subgraph_url:\n  users: ${env.USERS_URL}\n');
    expect(issuesOf(() => loadGatewayConfig({ file, env: {} }))).toEqual([
      `override_subgraph_url.users (from file ${file}): \${env.USERS_URL} is not set and has no default (write \${env.USERS_URL:-default})`,
    ]);
    expect(loadGatewayConfig({ file, env: { USERS_URL: 'http://users:4001/graphql' } }).override_subgraph_url).toEqual({ users: 'http://users:4001/graphql' });
  });

  it.each([
    [{ 'supergraph.listen': 'localhost' }, 'supergraph.listen (from overrides): must be host:port (IPv6 in brackets, e.g. [::]:4000), got "localhost"'],
    [{ 'supergraph.listen': '::1:4000' }, 'supergraph.listen (from overrides): must be host:port (IPv6 in brackets, e.g. [::]:4000), got "::1:4000"'],
    [{ 'supergraph.listen': '127.0.0.1:70000' }, 'supergraph.listen (from overrides): port must be an integer from 0 to 65535, got "70000"'],
    [{ 'supergraph.path': '/healthz' }, 'supergraph.path (from overrides): must not be one of /graphiql, /healthz, /readyz'],
    [{ 'health_check.listen': '8088' }, 'health_check.listen (from overrides): must be host:port (IPv6 in brackets, e.g. [::]:4000), got "8088"'],
    [{ 'health_check.listen': '127.0.0.1:http' }, 'health_check.listen (from overrides): port must be an integer from 0 to 65535, got "http"'],
    [{ 'server.http.header_read_timeout': '11s' }, 'server.http.header_read_timeout (from overrides): must be at most 10s'],
    [{ 'traffic_shaping.router.timeout': '5s' }, 'server.http.header_read_timeout: must not exceed traffic_shaping.router.timeout, the whole-request deadline'],
    [{ 'traffic_shaping.router.timeout': '600h' }, "traffic_shaping.router.timeout (from overrides): must be at most 2147483647 ms (about 24.8 days), Node's longest timer"],
    [{ 'traffic_shaping.all.timeout': 0 }, 'traffic_shaping.all.timeout (from overrides): Number must be greater than 0'],
    [{ override_subgraph_url: { users: 'not a url' } }, 'override_subgraph_url.users (from overrides): must be an absolute http: or https: URL'],
    [{ override_subgraph_url: { users: 'users:4001' } }, 'override_subgraph_url.users (from overrides): must be an absolute http: or https: URL'],
    [{ override_subgraph_url: { users: 'file:///etc/passwd' } }, 'override_subgraph_url.users (from overrides): must be an absolute http: or https: URL'],
    [{ 'cors.policies': [{ origins: ['https://app.example.com/'] }] }, 'cors.policies.0.origins.0 (from overrides): must be an origin: scheme://host[:port] in lower case, with no path or trailing slash'],
    [
      { 'cors.allow_any_origin': true, 'cors.policies': [{ origins: ['https://a.example'], allow_credentials: true }] },
      'cors.allow_any_origin (from overrides): cannot be combined with allow_credentials: browsers refuse credentials when any origin is allowed',
    ],
    [{ 'csrf.required_headers': ['x apollo'] }, "csrf.required_headers.0 (from overrides): must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~)"],
    [{ 'limits.http_max_request_bytes': '0KiB' }, 'limits.http_max_request_bytes (from overrides): Number must be greater than 0'],
    [
      { 'authentication.router.jwt': { jwks: [{ url: 'https://a.example/jwks', issuers: ['a'], audiences: ['b'], algorithms: ['HS256'] }] } },
      "authentication.router.jwt.jwks.0.algorithms.0 (from overrides): Invalid enum value. Expected 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA', received 'HS256'",
    ],
    [
      { 'authentication.router.jwt': { jwks: [{ url: 'https://a.example/jwks', keys: [{ kty: 'EC', kid: 'k1' }], issuers: ['a'], audiences: ['b'] }] } },
      'authentication.router.jwt.jwks.0.keys (from overrides): give either url (a JWKS endpoint) or keys (static public keys), not both',
    ],
    [
      { 'authentication.router.jwt': { jwks: [{ keys: [{ kty: 'EC', kid: 'k1', d: 'secret' }], issuers: ['a'], audiences: ['b'] }] } },
      'authentication.router.jwt.jwks.0.keys.0 (from overrides): is a private key: give only its public part',
    ],
    [
      { 'authentication.api_keys.keys': [{ name: 'ci', sha256: 'abc' }] },
      'authentication.api_keys.keys.0.sha256 (from overrides): must be the hex SHA-256 of the key (npm run apikey prints it)',
    ],
    [
      { 'authentication.api_keys.keys': [{ name: 'ci', sha256: 'a'.repeat(64), rate_limit_class: 'machines' }] },
      'authentication.api_keys.keys.0.rate_limit_class (from overrides): names no class in rate_limit.classes (it has anonymous, user)',
    ],
  ])('refuses %j', (overrides, issue) => {
    expect(issuesOf(() => loadGatewayConfig({ env: {}, overrides }))).toEqual([issue]);
  });

  it('--supergraph beats SUPERGRAPH_PATH and the file; overrides are layered last', () => {
    const file = configFile('gateway.yaml', 'supergraph:\n  schema_path: from-file.graphql\n');
    const config = loadGatewayConfig({
      file,
      supergraph: 'from-cli.graphql',
      env: { SUPERGRAPH_PATH: 'from-env.graphql', PORT: '5000' },
      overrides: {
        'supergraph.listen': '127.0.0.1:0',
        override_subgraph_url: { users: 'http://127.0.0.1:5001/graphql' },
        'authentication.router.jwt': { jwks: [{ url: 'http://127.0.0.1:5005/jwks.json', issuers: ['http://127.0.0.1:5005'], audiences: ['switchyard'] }] },
      },
    });
    expect(config.supergraph.schema_path).toBe('from-cli.graphql');
    expect(config.supergraph.listen).toEqual({ host: '127.0.0.1', port: 0 });
    expect(config.override_subgraph_url).toEqual({ users: 'http://127.0.0.1:5001/graphql' });
    expect(config.authentication.router.jwt).toEqual({
      jwks: [
        {
          url: 'http://127.0.0.1:5005/jwks.json',
          issuers: ['http://127.0.0.1:5005'],
          audiences: ['switchyard'],
          algorithms: ['RS256', 'ES256', 'EdDSA'],
          allow_missing_exp: false, poll_interval: 60_000, unknown_kid_cooldown: 30_000, max_stale: 3_600_000, timeout: 5_000,
        },
      ],
      clock_skew: 30_000,
      sources: [{ type: 'header', name: 'authorization', value_prefix: 'Bearer' }],
      on_error: 'Error',
      max_token_size: 8192,
    });
  });

  it('header names are compared in lower case, so they are stored that way', () => {
    expect(loadGatewayConfig({ env: {}, overrides: { 'csrf.required_headers': ['X-Apollo-Operation-Name'] } }).csrf.required_headers).toEqual([
      'x-apollo-operation-name',
    ]);
  });
});

describe('loadGatewayConfig under NODE_ENV=production', () => {
  const production = { NODE_ENV: 'production' };

  it('turns introspection (and with it field suggestions) and the explanation of authorization denials off by default, and changes no other default', () => {
    expect(loadGatewayConfig({ env: production })).toEqual({
      ...DEFAULTS,
      supergraph: { ...DEFAULTS.supergraph, introspection: false },
      authorization: { ...DEFAULTS.authorization, explain_denials: false },
    });
    for (const nodeEnv of ['development', 'test', 'Production', '']) {
      const config = loadGatewayConfig({ env: { NODE_ENV: nodeEnv } });
      expect([config.supergraph.introspection, config.authorization.explain_denials]).toEqual([true, true]);
    }
    // An operator who wants clients told what they lack says so.
    expect(loadGatewayConfig({ env: { ...production, AUTHORIZATION_EXPLAIN_DENIALS: 'true' } }).authorization.explain_denials).toBe(true);
  });

  it('answers introspection when INTROSPECTION, the file or an override says so, each over the layers below it', () => {
    const on = configFile('gateway.yaml', 'supergraph:\n  introspection: true\n');
    const off = configFile('gateway.yaml', 'supergraph:\n  introspection: false\n');
    const fromEnvReference = configFile('gateway.yaml', 'supergraph:\n  introspection: ${env.SHOW_SCHEMA:-true}\n');
    const introspection = (options: Parameters<typeof loadGatewayConfig>[0]) => loadGatewayConfig(options).supergraph.introspection;
    expect(introspection({ env: { ...production, INTROSPECTION: 'true' } })).toBe(true);
    expect(introspection({ env: { ...production, INTROSPECTION: '1' } })).toBe(true);
    expect(introspection({ env: { ...production, INTROSPECTION: 'false' } })).toBe(false);
    expect(introspection({ file: on, env: production })).toBe(true);
    expect(introspection({ file: fromEnvReference, env: production })).toBe(true);
    expect(introspection({ file: off, env: { ...production, INTROSPECTION: 'true' } })).toBe(true);
    expect(introspection({ file: on, env: { ...production, INTROSPECTION: 'false' } })).toBe(false);
    expect(introspection({ env: { ...production, CONFIG_FILE: on } })).toBe(true);
    expect(introspection({ env: production, overrides: { 'supergraph.introspection': true } })).toBe(true);
    // An empty variable counts as unset, so the production default holds.
    expect(introspection({ env: { ...production, INTROSPECTION: '' } })).toBe(false);
  });

  it('refuses /debug/traces whatever turns it on, naming where it came from', () => {
    const file = configFile('gateway.yaml', 'telemetry:\n  exporters:\n    tracing:\n      debug_traces:\n        enabled: true\n');
    const refusal = 'must be false under NODE_ENV=production: /debug/traces shows SQL text and internal URLs to anyone who reaches the gateway';
    expect(issuesOf(() => loadGatewayConfig({ env: { ...production, DEBUG_TRACES: 'true' } }))).toEqual([`telemetry.exporters.tracing.debug_traces.enabled (from env DEBUG_TRACES): ${refusal}`]);
    expect(issuesOf(() => loadGatewayConfig({ env: { ...production, DEBUG_TRACES: '1', DEBUG_TRACES_STORE_URL: 'http://127.0.0.1:4318' } }))).toEqual([
      `telemetry.exporters.tracing.debug_traces.enabled (from env DEBUG_TRACES): ${refusal}`,
    ]);
    expect(issuesOf(() => loadGatewayConfig({ file, env: production }))).toEqual([`telemetry.exporters.tracing.debug_traces.enabled (from file ${file}): ${refusal}`]);
    expect(issuesOf(() => loadGatewayConfig({ env: production, overrides: { 'telemetry.exporters.tracing.debug_traces': { enabled: true } } }))).toEqual([
      `telemetry.exporters.tracing.debug_traces.enabled (from overrides): ${refusal}`,
    ]);
    // Reported with the other refinements' problems at once.
    expect(issuesOf(() => loadGatewayConfig({ env: { ...production, DEBUG_TRACES: 'true' }, overrides: { 'traffic_shaping.router.timeout': '5s' } }))).toEqual([
      'server.http.header_read_timeout: must not exceed traffic_shaping.router.timeout, the whole-request deadline',
      `telemetry.exporters.tracing.debug_traces.enabled (from env DEBUG_TRACES): ${refusal}`,
    ]);
    expect(loadGatewayConfig({ file, env: {} }).telemetry.exporters.tracing.debug_traces.enabled).toBe(true);
    expect(loadGatewayConfig({ env: { ...production, DEBUG_TRACES: 'false' } }).telemetry.exporters.tracing.debug_traces.enabled).toBe(false);
  });
});
