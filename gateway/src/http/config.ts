import { booleanFromEnv, byteSize, commaList, duration, type EnvBindings } from '@switchyard/service-kit';
import { z } from 'zod';

const DEFAULT_LISTEN = '127.0.0.1:4000';

/** Splits "host:port" or "[ipv6]:port" into its texts, without judging them. */
function splitListen(text: string): { host: string; port: string } | undefined {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(text);
  return match ? { host: match[1] ?? match[2]!, port: match[3]! } : undefined;
}

function joinListen(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Router's socket address ("127.0.0.1:4000", "[::]:4000"); parses to what server.listen() takes. */
export const listen = z.string().transform((text, ctx) => {
  const parts = splitListen(text);
  if (!parts || !parts.host) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be host:port (IPv6 in brackets, e.g. [::]:4000), got "${text}"` });
    return z.NEVER;
  }
  const port = /^\d+$/.test(parts.port) ? Number(parts.port) : NaN;
  if (!(port <= 65535)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `port must be an integer from 0 to 65535, got "${parts.port}"` });
    return z.NEVER;
  }
  return { host: parts.host, port };
});

/** Routes the gateway serves beside the GraphQL endpoint; the endpoint cannot take one of their paths. */
const RESERVED_PATHS = ['/graphiql', '/healthz', '/readyz'];

/** A GraphQL endpoint's path: the supergraph's or a contract's. */
export const graphqlPath = z
  .string()
  .regex(/^\/[^\s?#]*$/, 'must start with / and have no spaces, query or fragment')
  .refine((path) => !RESERVED_PATHS.includes(path), `must not be one of ${RESERVED_PATHS.join(', ')}`);

/** supergraph.listen, path and introspection: the serving half of Router's `supergraph` section. */
export const httpSupergraphKeys = z.object({
  listen: listen.default(DEFAULT_LISTEN).describe('Address the gateway listens on. env HOST and PORT replace each part.'),
  path: graphqlPath
    .default('/graphql')
    .describe('Path of the GraphQL endpoint.'),
  introspection: booleanFromEnv
    .default(true)
    .describe('Answer introspection queries; off also hides "Did you mean" suggestions. false by default under NODE_ENV=production. env INTROSPECTION'),
});

export const sandboxConfigSchema = z
  .object({
    enabled: booleanFromEnv.default(true).describe('Apollo Sandbox (loaded from Apollo\'s CDN) on a browser GET of the GraphQL path. env LANDING_PAGE=sandbox|none'),
  })
  .strict()
  .default({});

export const graphiqlConfigSchema = z
  .object({
    enabled: booleanFromEnv.default(true).describe('Offline GraphiQL at /graphiql, served from the gateway\'s own assets. env GRAPHIQL'),
  })
  .strict()
  .default({});

/** RFC 9110 token, the grammar of header names and methods: a bad one would only fail once a browser calls. */
const token = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP token (letters, digits and !#$%&\'*+-.^_`|~)');
export const headerName = token.transform((name) => name.toLowerCase());

/** Browsers send Origin as scheme://host[:port]; anything else (a path, a trailing slash) would never match. */
const origin = z.string().refine((text) => {
  try {
    return new URL(text).origin === text;
  } catch {
    return false;
  }
}, 'must be an origin: scheme://host[:port] in lower case, with no path or trailing slash');

const corsPolicy = z
  .object({
    origins: commaList(z.array(origin).min(1)).describe('Origins this policy allows. env CORS_ORIGINS (comma list) replaces the first policy\'s.'),
    allow_credentials: booleanFromEnv.default(false).describe('Send Access-Control-Allow-Credentials (cookies) to these origins.'),
    allow_headers: z
      .array(headerName)
      .default([])
      .describe('Request headers allowed; empty means the default list (content-type, authorization, x-api-key, apollographql-client-name, apollographql-client-version, apollo-require-preflight, x-apollo-operation-name, x-request-id).'),
    expose_headers: z.array(headerName).default(['x-request-id']).describe('Response headers browsers may read.'),
    methods: z.array(token).default(['GET', 'POST', 'OPTIONS']).describe('Methods allowed.'),
  })
  .strict();

export const corsConfigSchema = z
  .object({
    allow_any_origin: booleanFromEnv.default(false).describe('Answer every origin with Access-Control-Allow-Origin: *. env CORS_ORIGINS=*'),
    max_age: duration.default('10m').describe('How long browsers may cache a preflight answer.'),
    policies: z
      .array(corsPolicy)
      .default([{ origins: ['https://studio.apollographql.com', 'https://sandbox.embed.apollographql.com'] }])
      .describe('Per-origin policies; by default Apollo Studio\'s origins.'),
  })
  .strict()
  // Browsers refuse credentials with a wildcard origin, so the combination would fail on every call.
  .refine((cors) => !(cors.allow_any_origin && cors.policies.some((p) => p.allow_credentials)), {
    message: 'cannot be combined with allow_credentials: browsers refuse credentials when any origin is allowed',
    path: ['allow_any_origin'],
  })
  .default({});

/** limits.http_*: sizes the HTTP stage enforces before anything is parsed. */
export const httpLimitKeys = z.object({
  http_max_request_bytes: byteSize.pipe(z.number().positive()).default('1MiB').describe('Largest request body; larger ones get 413 before they are buffered.'),
  http_max_header_bytes: byteSize.pipe(z.number().positive()).default('16KiB').describe('Largest request head (Node\'s maxHeaderSize); larger ones get 431.'),
});

export const serverConfigSchema = z
  .object({
    http: z
      .object({
        header_read_timeout: duration
          // Longer lets slow-header clients (slowloris) hold sockets open for free.
          .pipe(z.number().positive().max(10_000, 'must be at most 10s'))
          .default('10s')
          .describe('Time a client has to send the request head; at most 10s.'),
        keep_alive_timeout: duration.default('65s').describe('Idle time before a keep-alive connection closes; longer than load balancers\' idle timeouts.'),
      })
      .strict()
      .default({}),
    shutdown_grace_period: duration.default('10s').describe('On SIGTERM, time in-flight requests get to finish. env SHUTDOWN_DRAIN_MS'),
  })
  .strict()
  .default({});

/** PORT and HOST replace one part of supergraph.listen, whatever the file says for the other. */
function replaceListenPart(part: 'host' | 'port') {
  return (text: string, current: (key: string) => unknown) => {
    const listen = current('supergraph.listen') ?? DEFAULT_LISTEN;
    const parts = typeof listen === 'string' ? splitListen(listen) : undefined;
    if (!parts) throw new Error(`cannot replace the ${part} of supergraph.listen, which is not host:port: ${JSON.stringify(listen)}`);
    return { 'supergraph.listen': part === 'host' ? joinListen(text, parts.port) : joinListen(parts.host, text) };
  };
}

export const httpEnvBindings: EnvBindings = {
  HOST: replaceListenPart('host'),
  PORT: replaceListenPart('port'),
  INTROSPECTION: 'supergraph.introspection',
  LANDING_PAGE: (text) => {
    if (text !== 'sandbox' && text !== 'none') throw new Error(`must be sandbox or none, got "${text}"`);
    return { 'sandbox.enabled': text === 'sandbox' };
  },
  GRAPHIQL: 'graphiql.enabled',
  // "*" kept its meaning from before the Router key names: any origin.
  CORS_ORIGINS: (text) => (text.trim() === '*' ? { 'cors.allow_any_origin': true } : { 'cors.policies.0.origins': text }),
  SHUTDOWN_DRAIN_MS: 'server.shutdown_grace_period',
};
