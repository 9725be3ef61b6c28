/**
 * HTTP/1.1 spoken over bare TCP sockets. HTTP client libraries refuse to send malformed requests and
 * hide how a connection ended, which is exactly what these tests need to control and observe, so the
 * requests are written byte by byte and the server's answer is read back by hand.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** What the server did with one connection. */
export interface Exchange {
  /** Final responses in order (1xx interim responses are left out). */
  responses: RawResponse[];
  /** Bytes after the last complete response that do not form one: a truncated or garbled answer. */
  leftover: number;
  /**
   * closed: the server closed the connection; reset: it was reset (ECONNRESET/EPIPE);
   * kept open: the expected responses arrived and the server kept the connection (keep-alive);
   * hung: the time limit passed with neither; refused: nothing listens on the port.
   */
  ending: 'closed' | 'reset' | 'kept open' | 'hung' | 'refused';
  elapsedMs: number;
}

interface ReadOptions {
  /** How long to wait for the server to answer and close before calling it hung. */
  timeoutMs: number;
  /** Stop once this many final responses have arrived, without waiting for the server to close. */
  responses?: number;
}

/** Sends raw bytes on a fresh connection (no half-close, as a stalled client would) and reads until the server closes. */
export function exchange(port: number, bytes: string | Buffer, options: ReadOptions): Promise<Exchange> {
  return converse(port, options, async (socket) => {
    socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  });
}

/**
 * Slowloris: writes `head`, then one more `line` every `everyMs`, never finishing the headers, until the
 * server closes the connection or `timeoutMs` passes.
 */
export function trickle(port: number, head: string, line: string, everyMs: number, timeoutMs: number): Promise<Exchange> {
  return converse(port, { timeoutMs }, async (socket, done) => {
    socket.write(head, 'latin1');
    while (!done()) {
      await sleep(everyMs);
      if (!done()) socket.write(line, 'latin1');
    }
  });
}

/**
 * Writes `head`, then streams `bodyBytes` of body (raw, or chunk-encoded when `chunked`) as fast as the
 * server reads it, stopping as soon as a status line arrives or the connection ends; then waits for
 * the complete response. A client that writes a large body does this: it cannot read the refusal if the
 * server tears the connection down while it is still writing.
 */
export function streamBody(port: number, head: string, bodyBytes: number, chunked: boolean, timeoutMs: number): Promise<Exchange> {
  const piece = Buffer.alloc(64 * 1024, 'x');
  return converse(port, { timeoutMs, responses: 1 }, async (socket, done, answered) => {
    socket.write(head, 'latin1');
    for (let sent = 0; sent < bodyBytes && !answered() && !done(); sent += piece.length) {
      const data = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece;
      if (!socket.write(data)) {
        await new Promise<void>((r) => {
          socket.once('drain', r);
          socket.once('close', r);
        });
      }
    }
    if (chunked && !answered() && !done()) socket.write('0\r\n\r\n');
  });
}

function converse(
  port: number,
  options: ReadOptions,
  send: (socket: Socket, done: () => boolean, answered: () => boolean) => Promise<void>,
): Promise<Exchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let finished = false;
    const finish = (ending: Exchange['ending'], streamEnded: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const { responses, leftover } = parseResponses(received, streamEnded);
      resolve({ responses, leftover, ending, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => finish('hung', false), options.timeoutMs);
    const statusLineSeen = () => /^HTTP\/1\.[01] [2-5]\d\d /m.test(received.toString('latin1'));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (options.responses && parseResponses(received, false).responses.length >= options.responses) finish('kept open', false);
    });
    socket.on('end', () => finish('closed', true));
    socket.on('close', () => finish('closed', true));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNREFUSED' ? 'refused' : 'reset', true));
    socket.once('connect', () => {
      void send(socket, () => finished, statusLineSeen).catch(() => finish('reset', true));
    });
  });
}

/** Splits a byte stream into complete HTTP/1.x responses (Content-Length, chunked, or until close). */
export function parseResponses(data: Buffer, streamEnded: boolean): { responses: RawResponse[]; leftover: number } {
  const responses: RawResponse[] = [];
  let offset = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', offset);
    if (headEnd < 0) break;
    const [statusLine, ...headerLines] = data.subarray(offset, headEnd).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
    if (!match) break;
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let cursor = headEnd + 4;
    let body: Buffer;
    if (status < 200 || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const decoded = decodeChunked(data, cursor);
      if (!decoded) break;
      [body, cursor] = decoded;
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (data.length < cursor + length) break;
      body = data.subarray(cursor, cursor + length);
      cursor += length;
    } else {
      if (!streamEnded) break;
      body = data.subarray(cursor);
      cursor = data.length;
    }
    offset = cursor;
    if (status >= 200) responses.push({ status, headers, body });
  }
  return { responses, leftover: data.length - offset };
}

function decodeChunked(data: Buffer, start: number): [Buffer, number] | undefined {
  const parts: Buffer[] = [];
  let cursor = start;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', cursor);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(cursor, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    cursor = lineEnd + 2;
    if (size === 0) {
      const trailerEnd = data.indexOf('\r\n', cursor);
      return trailerEnd < 0 ? undefined : [Buffer.concat(parts), trailerEnd + 2];
    }
    if (data.length < cursor + size + 2) return undefined;
    parts.push(data.subarray(cursor, cursor + size));
    cursor += size + 2;
  }
}

/**
 * One line a test can match exactly: each response's status (flagged when its body is not JSON),
 * then how the connection ended, e.g. "400 closed", "200 400 closed", "closed", "hung".
 */
export function summarize(result: Exchange): string {
  const answers = result.responses.map((r) => (r.body.length === 0 || isJson(r.body) ? String(r.status) : `${r.status}(non-JSON body)`));
  if (result.leftover > 0) answers.push(`garbled(${result.leftover} bytes)`);
  return [...answers, result.ending === 'hung' ? `hung for ${result.elapsedMs} ms` : result.ending].join(' ');
}

function isJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
