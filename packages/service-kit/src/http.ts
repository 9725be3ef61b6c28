import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error with an HTTP status whose message is safe to show to clients. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'BAD_REQUEST',
  ) {
    super(message);
  }
}

/** Reads the request body, refusing (413) as soon as it grows past limitBytes rather than buffering it all. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    throw new HttpError(413, `request body exceeds ${limitBytes} bytes`, 'PAYLOAD_TOO_LARGE');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) {
      req.resume();
      throw new HttpError(413, `request body exceeds ${limitBytes} bytes`, 'PAYLOAD_TOO_LARGE');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a JSON body; malformed JSON is the client's error (400), never a stack trace. */
export function parseJsonBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `malformed JSON body: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The GraphQL-shaped error body used for every failure outside of GraphQL execution. */
export function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { errors: [{ message: err.message, extensions: { code: err.code } }] });
}
