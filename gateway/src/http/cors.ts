import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpConfig } from './config';

const ALLOWED_HEADERS = 'authorization, content-type, apollo-require-preflight, x-apollo-operation-name, x-request-id';

/**
 * CORS for browser clients: only listed origins get an Access-Control-Allow-Origin, and credentials
 * (cookies) are never allowed, since the gateway authenticates with bearer tokens.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, cors: HttpConfig['cors']): void {
  const origin = req.headers.origin;
  res.setHeader('vary', 'origin');
  if (!origin) return;
  if (cors.allowedOrigins.includes('*')) res.setHeader('access-control-allow-origin', '*');
  else if (cors.allowedOrigins.includes(origin)) res.setHeader('access-control-allow-origin', origin);
  else return;
  res.setHeader('access-control-expose-headers', 'x-request-id');
}

export function answerPreflight(req: IncomingMessage, res: ServerResponse, cors: HttpConfig['cors']): void {
  applyCors(req, res, cors);
  if (res.hasHeader('access-control-allow-origin')) {
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
    res.setHeader('access-control-max-age', '600');
  }
  res.writeHead(204);
  res.end();
}
