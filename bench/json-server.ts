import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An answer the benchmarks' servers send: a status, a JSON body already serialised, and any headers besides its type and length. */
export interface JsonAnswer {
  status: number;
  body: string;
  headers?: Record<string, string | string[]>;
}

/**
 * A bare node:http server on a free local port that answers every request with `answer(request, body)`.
 * The benchmarks' subgraph fronts are built on it on purpose: they must be cheaper than anything they are
 * used to measure.
 */
export async function startJsonServer(answer: (req: IncomingMessage, body: string) => JsonAnswer | Promise<JsonAnswer>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const { status, body, headers } = await answer(req, Buffer.concat(chunks).toString('utf8'));
      res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
