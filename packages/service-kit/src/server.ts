import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { Socket, type AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { errorBody, HttpError } from './http';
import type { Logger } from './logging';
import { instrumentHttpServer, type HttpServerMetrics } from './telemetry/http-server-metrics';
import type { ServiceMetrics } from './telemetry/metrics';

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
  /** HTTP server metrics (duration, active requests) are recorded into these when given. */
  metrics?: ServiceMetrics;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Fields a request carries once, of which Node keeps the first line and silently drops any repeat. A
 * proxy in front may read the last line instead (another Host, another Authorization, another
 * Content-Type), so a request repeating one is refused rather than read one way here and another there
 * (RFC 9112 3.2 requires it for Host).
 */
const SINGLETON_FIELDS: ReadonlySet<string> = new Set(['host', 'authorization', 'proxy-authorization', 'content-type']);

/** The first singleton field given on more than one line, if any; rawHeaders alternates names and values. */
function repeatedSingletonField(rawHeaders: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!SINGLETON_FIELDS.has(name)) continue;
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

/** Fastify's own 4xx codes, in the vocabulary our clients see. */
const CLIENT_ERROR_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
};

/**
 * A Fastify instance with the edge every service shares: bounded bodies and timeouts, a request id
 * (accepted from x-request-id when well-formed, echoed on every response), no repeated singleton header,
 * a per-request pino logger, 503 while draining, and GraphQL-shaped JSON for every error, never a stack trace.
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
    clientErrorHandler: answerMalformedRequest,
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
    const repeated = repeatedSingletonField(request.raw.rawHeaders);
    if (repeated) throw new HttpError(400, `the ${repeated} header is given more than once`);
  });
  // Draining: a response to a request accepted before close tells its client not to reuse the connection,
  // so the server closes it after the response instead of waiting out the grace period for idle keep-alives.
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });
  const httpMetrics = options.metrics && instrumentHttpServer(app, options.metrics);
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
      return answerThenLinger(request, reply, httpMetrics, 413, errorBody(`request body exceeds ${options.bodyLimitBytes} bytes`, 'PAYLOAD_TOO_LARGE'));
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

/** How long, and how much more, a refused upload is read and thrown away before its socket is closed. */
const LINGER_MS = 5_000;
const LINGER_BYTES = 16 * 1024 * 1024;

/**
 * Answers a refused upload, then lingers. Node's server would destroy the socket right after the answer,
 * and a client still sending its body then gets a TCP reset, often before it has read the 413 (its
 * kernel drops the unread answer). So: write the answer, half-close, and keep reading and discarding
 * for a bounded time and size, as nginx's lingering close does. Node and Fastify have no such option.
 */
function answerThenLinger(request: FastifyRequest, reply: FastifyReply, metrics: HttpServerMetrics | undefined, status: number, body: unknown): FastifyReply {
  const socket = request.raw.socket;
  // Fastify's inject() has no connection to linger on.
  if (!(socket instanceof Socket)) return reply.code(status).send(body);
  const text = JSON.stringify(body);
  const headers = { ...reply.getHeaders(), 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close' };
  reply.hijack();
  const head = Object.entries(headers)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : String(value)}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${text}`);
  // A hijacked reply never reaches onResponse, where the metrics record every other response.
  metrics?.responded(request, reply, status);
  const close = () => socket.destroy();
  const timer = setTimeout(close, LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  let discarded = 0;
  request.raw.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > LINGER_BYTES) close();
  });
  request.raw.once('end', close);
  request.raw.resume();
  return reply;
}

/**
 * Requests Node's parser cannot read (bad framing, oversized headers, a header timeout) get a JSON
 * answer and a closed connection. Unlike Fastify's default, the answer waits for a response still being
 * written to an earlier pipelined request on the same socket, instead of overtaking it.
 */
function answerMalformedRequest(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message, code] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'request headers too large', 'REQUEST_HEADER_FIELDS_TOO_LARGE']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request not received in time', 'REQUEST_TIMEOUT']
        : [400, 'malformed HTTP request', 'BAD_REQUEST'];
  const text = JSON.stringify(errorBody(message, code));
  const answer = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`;
  // The response in flight on this socket (Node's own default handler reads the same field). If its
  // request arrived whole, the error is in a later pipelined request: let that response finish first.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight && inFlight.req.complete && !inFlight.writableFinished) {
    inFlight.once('finish', () => socket.end(answer));
    inFlight.once('close', () => socket.destroy());
    return;
  }
  if (socket.writable) socket.end(answer);
  else socket.destroy();
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
