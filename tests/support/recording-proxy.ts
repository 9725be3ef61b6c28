import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordingProxy {
  /** The proxy's URL for the subgraph's /graphql. */
  url: string;
  /** The `query` of every GraphQL request that passed through, in order. */
  received: string[];
  close(): Promise<void>;
}

/**
 * Stands between the gateway and a real subgraph and records the operations the gateway sent, so a
 * test can assert what a subgraph was (not) asked for. Forwards method, headers and body unchanged.
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const received: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      try {
        received.push(String((JSON.parse(body.toString('utf8')) as { query?: string }).query ?? ''));
      } catch {
        received.push('');
      }
      try {
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)),
        ) as Record<string, string>;
        const answer = await fetch(target, { method: req.method, headers, body: req.method === 'GET' ? undefined : body });
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      } catch {
        res.writeHead(502).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
