/**
 * The subgraphs for bench/gateway.ts, in their own process: the real users, products and orders
 * subgraphs, each behind a replaying front that answers a request body it has seen before from memory.
 * The first request of each shape goes to the real subgraph (so responses are real); after that the
 * subgraphs cost almost nothing, and what the benchmark measures is the gateway alone. Answers are
 * keyed by body only, so the benchmark signs every request in as the same user. The subgraph's headers are
 * replayed with its body (Cache-Control above all: the gateway's merged policy and response cache read it).
 */
import { request } from 'undici';
import { startOrders } from '../subgraphs/orders/src/main';
import { startProducts } from '../subgraphs/products/src/main';
import { startUsers } from '../subgraphs/users/src/main';
import { startJsonServer, type JsonAnswer } from './json-server';

/** Headers of one connection or one message, which the front sets itself rather than replays. */
const NOT_REPLAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-type', 'date']);

async function replayingFront(target: string): Promise<string> {
  const seen = new Map<string, JsonAnswer>();
  const { url } = await startJsonServer(async (req, body) => {
    let answer = seen.get(body);
    if (!answer) {
      // Forwarded as received: the gateway's signature covers this subgraph's name and these exact bytes.
      const forwarded = Object.fromEntries(Object.entries(req.headers).filter(([name]) => name.startsWith('x-switchyard-') || name === 'x-request-id'));
      const upstream = await request(target, { method: 'POST', headers: { 'content-type': 'application/json', ...forwarded }, body });
      const headers = Object.fromEntries(Object.entries(upstream.headers).filter(([name, value]) => value !== undefined && !NOT_REPLAYED.has(name))) as JsonAnswer['headers'];
      answer = { status: upstream.statusCode, body: await upstream.body.text(), headers };
      if (answer.status === 200 && !answer.body.includes('"errors"')) seen.set(body, answer);
    }
    return answer;
  });
  return `${url}/graphql`;
}

async function main(): Promise<void> {
  const quiet = { 'server.port': 0, logLevel: 'error', 'database.poolMax': 4 };
  const [users, products] = await Promise.all([startUsers(quiet), startProducts(quiet)]);
  const orders = await startOrders({ ...quiet, 'products.internalUrl': products.url });
  const urls = {
    users: await replayingFront(users.graphqlUrl),
    products: await replayingFront(products.graphqlUrl),
    orders: await replayingFront(orders.graphqlUrl),
  };
  process.stdout.write(`subgraphs ready ${JSON.stringify(urls)}\n`);
  process.once('SIGTERM', () => process.exit(0));
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
