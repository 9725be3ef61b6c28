import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, sendError } from './http';
import type { Logger } from './logging';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

export interface Route {
  method: 'GET' | 'POST' | 'OPTIONS' | '*';
  path: string;
  handle: Handler;
}

export interface RunningServer {
  /** Base URL (no path) at which this process can reach the server. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections, lets in-flight requests finish for up to drainMs, then closes. */
  close(): Promise<void>;
}

export interface ServerOptions {
  host: string;
  port: number;
  routes: Route[];
  logger: Logger;
  drainMs?: number;
}

export async function startHttpServer(options: ServerOptions): Promise<RunningServer> {
  const { routes, logger } = options;
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const onPath = routes.filter((r) => r.path === url.pathname);
    const route = onPath.find((r) => r.method === req.method) ?? onPath.find((r) => r.method === '*');
    try {
      if (!route) {
        if (onPath.length > 0) throw new HttpError(405, `method ${req.method} not allowed on ${url.pathname}`, 'METHOD_NOT_ALLOWED');
        throw new HttpError(404, `no route for ${url.pathname}`, 'NOT_FOUND');
      }
      await route.handle(req, res, url);
    } catch (err) {
      if (!(err instanceof HttpError)) logger.error('request failed', { path: url.pathname, error: (err as Error).stack });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, err instanceof HttpError ? err : new HttpError(500, 'internal server error', 'INTERNAL_SERVER_ERROR'));
    }
  });
  // Keep-alive longer than typical load-balancer idle timeouts, so the proxy closes first and no request hits a closing socket.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  // A wildcard bind is reached through loopback; an explicit address is reached as given.
  const reachableHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${reachableHost}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), options.drainMs ?? 10_000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/** Liveness says the process answers; readiness runs each named check and reports every result. */
export function healthRoutes(readinessChecks: Record<string, () => Promise<void>>): Route[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      handle: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'ok' }));
      },
    },
    {
      method: 'GET',
      path: '/readyz',
      handle: async (_req, res) => {
        const results = await Promise.all(
          Object.entries(readinessChecks).map(async ([name, check]) => {
            try {
              await check();
              return [name, { status: 'ok' }] as const;
            } catch (err) {
              return [name, { status: 'failing', error: (err as Error).message }] as const;
            }
          }),
        );
        const ready = results.every(([, r]) => r.status === 'ok');
        res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) }));
      },
    },
  ];
}

/** How a URL is shown to people: loopback addresses read as localhost. */
export const displayUrl = (url: string): string => url.replace(/\/\/(127\.0\.0\.1|\[::1\])(?=[:/]|$)/, '//localhost');
