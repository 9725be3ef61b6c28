import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { errorBody, HttpError } from './http';
import type { Logger } from './logging';

export interface HttpServerOptions {
  logger: Logger;
  /** Largest accepted request body: a declared Content-Length over it is refused before reading (413). */
  bodyLimitBytes: number;
  /** Time allowed to receive a whole request (headers and body). */
  requestTimeoutMs?: number;
  /** Time allowed to receive the headers; short, so slowloris clients cannot hold sockets. */
  headerReadTimeoutMs?: number;
  /** Longer than load balancers' idle timeouts, so the proxy closes first and no request hits a closing socket. */
  keepAliveTimeoutMs?: number;
  maxHeaderBytes?: number;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Fastify's own 4xx codes, in the vocabulary our clients see. */
const CLIENT_ERROR_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
};

/**
 * A Fastify instance with the edge every service shares: bounded bodies and timeouts, a request id
 * (accepted from x-request-id when well-formed, echoed on every response), a per-request pino logger,
 * 503 while draining, and GraphQL-shaped JSON for every error, never a stack trace.
 */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const headerReadTimeoutMs = Math.min(options.headerReadTimeoutMs ?? 10_000, 10_000);
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One line per request is the telemetry's job, not the log's; errors are logged where they happen.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 65_000,
    return503OnClosing: true,
    genReqId: (req) => {
      const offered = req.headers['x-request-id'];
      return typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();
    },
    http: {
      maxHeaderSize: options.maxHeaderBytes ?? 16_384,
      headersTimeout: headerReadTimeoutMs,
      // Node checks header and request timeouts on this interval (30 s by default), which would let a
      // slowloris client hold a socket three times longer than the timeout says.
      connectionsCheckingInterval: 1_000,
    },
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.status).headers(err.headers).send(errorBody(err.message, err.code));
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err }, 'request failed');
      return reply.code(500).send(errorBody('internal server error', 'INTERNAL_SERVER_ERROR'));
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send(errorBody(`request body exceeds ${options.bodyLimitBytes} bytes`, 'PAYLOAD_TOO_LARGE'));
    }
    if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return reply.code(400).send(errorBody(`malformed JSON body: ${err.message}`, 'BAD_REQUEST'));
    }
    return reply.code(status).send(errorBody(err.message, CLIENT_ERROR_CODES[err.code] ?? 'BAD_REQUEST'));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!.slice(0, 200);
    return reply.code(404).send(errorBody(`no route for ${request.method} ${path}`, 'NOT_FOUND'));
  });
  return app;
}

export interface RunningServer {
  /** Base URL (no path) at which this process can reach the server. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections, lets in-flight requests finish for up to drainMs, then closes. */
  close(): Promise<void>;
}

export async function listen(app: FastifyInstance, where: { host: string; port: number; drainMs?: number }): Promise<RunningServer> {
  await app.listen({ host: where.host, port: where.port });
  const { port } = app.server.address() as AddressInfo;
  // A wildcard bind is reached through loopback; an explicit address is reached as given.
  const reachableHost = where.host === '0.0.0.0' || where.host === '::' ? '127.0.0.1' : where.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${reachableHost.includes(':') ? `[${reachableHost}]` : reachableHost}:${port}`,
    port,
    close() {
      closing ??= (async () => {
        const force = setTimeout(() => app.server.closeAllConnections(), where.drainMs ?? 10_000);
        force.unref();
        await app.close();
        clearTimeout(force);
      })();
      return closing;
    },
  };
}

export interface ReadinessReport {
  ready: boolean;
  body: Record<string, unknown>;
}

/** Liveness says the process answers; readiness says whether it should get traffic, and why. */
export function registerHealthRoutes(app: FastifyInstance, readiness: () => Promise<ReadinessReport>): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const report = await readiness();
    return reply.code(report.ready ? 200 : 503).send(report.body);
  });
}

/** Readiness as a set of named checks, every one of which must pass; each result is reported. */
export function allChecksPass(checks: Record<string, () => Promise<void>>): () => Promise<ReadinessReport> {
  return async () => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await check();
          return [name, { status: 'ok' }] as const;
        } catch (err) {
          return [name, { status: 'failing', error: (err as Error).message }] as const;
        }
      }),
    );
    const ready = results.every(([, r]) => r.status === 'ok');
    return { ready, body: { status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) } };
  };
}

/** How a URL is shown to people: loopback addresses read as localhost. */
export const displayUrl = (url: string): string => url.replace(/\/\/(127\.0\.0\.1|\[::1\])(?=[:/]|$)/, '//localhost');
