/**
 * In-memory stand-ins for the users, products and orders subgraphs, for npm run bench (bench/compare.ts):
 * the real subgraphs' schemas (subgraphs/<name>/schema.graphql) over fixed data held in memory, so any
 * federation gateway can plan against the committed supergraph and get realistic shapes back, while the
 * subgraphs cost next to nothing and the gateway is the bottleneck. Each distinct request body is executed
 * once and its answer replayed after that. One server holds all three, at /users, /products and /orders;
 * it counts the fetches each receives (readiness probes aside) and keeps the last few, so the benchmark can
 * report fetches per operation and replay one operation's fetches without a gateway (the floor).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { startJsonServer, type JsonAnswer } from './json-server';

export const SUBGRAPHS = ['users', 'products', 'orders'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

/** The operations npm run bench sends, lightest first. */
export const COMPARED_QUERIES = {
  /** Answered by the products subgraph alone. */
  'one subgraph': `{ products(first: 20) { edges { node { id sku name priceCents currency stock } } } }`,
  /** An order from the orders subgraph, its user from users and its items' products from products. */
  'order, user, products': `{ order(id: "ord_0001_3") { id status totalCents currency createdAt
    user { id name email } items { quantity unitPriceCents product { id name priceCents } } } }`,
  /** 20 users, 5 orders each (100 orders), each order's user and its items' products: entities from all three. */
  '100 orders, nested': `{ users(first: 20) { edges { node { id name orders(first: 5) { edges { node { id totalCents status
    user { email } items { quantity unitPriceCents product { name priceCents stock } } } } } } } } }`,
} as const;
export type ComparedQuery = keyof typeof COMPARED_QUERIES;

const USER_COUNT = 100;
const PRODUCT_COUNT = 200;
const ORDERS_PER_USER = 5;
const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Tony'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Hamilton', 'Hoare'];
const ADJECTIVES = ['Sturdy', 'Compact', 'Quiet', 'Bright', 'Modular', 'Rugged', 'Slim', 'Classic'];
const NOUNS = ['Keyboard', 'Lamp', 'Backpack', 'Kettle', 'Headphones', 'Notebook', 'Mug', 'Chair', 'Cable', 'Monitor'];

const pad = (i: number, width: number) => String(i).padStart(width, '0');
const day = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString();

/** The fixed data, built the same way every time: the test's expectations are read from it. */
export function standInData() {
  const users = Array.from({ length: USER_COUNT }, (_, k) => {
    const i = k + 1;
    const name = `${FIRST_NAMES[k % FIRST_NAMES.length]} ${LAST_NAMES[Math.floor(k / FIRST_NAMES.length) % LAST_NAMES.length]}`;
    return { id: `usr_${pad(i, 3)}`, name, email: `${name.toLowerCase().replace(' ', '.')}@example.com`, createdAt: day(i) };
  });
  const products = Array.from({ length: PRODUCT_COUNT }, (_, k) => {
    const i = k + 1;
    const name = `${ADJECTIVES[i % ADJECTIVES.length]} ${NOUNS[(i * 7) % NOUNS.length]} ${i}`;
    return {
      id: `prd_${pad(i, 4)}`,
      sku: `SKU-${pad(i, 5)}`,
      name,
      description: `The ${name.toLowerCase()}, a demo product.`,
      priceCents: 499 + ((i * 7919) % 20_000),
      currency: 'USD',
      stock: 50 + ((i * 31) % 450),
    };
  });
  const orders = users.flatMap((user, u) =>
    Array.from({ length: ORDERS_PER_USER }, (_, k) => {
      const n = k + 1;
      const items = Array.from({ length: 1 + ((u + k) % 3) }, (_, line) => {
        const product = products[(u * 13 + k * 7 + line * 29) % PRODUCT_COUNT]!;
        return { productId: product.id, quantity: 1 + ((u + line) % 4), unitPriceCents: product.priceCents };
      });
      return {
        id: `ord_${pad(u + 1, 4)}_${n}`,
        userId: user.id,
        items,
        totalCents: items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0),
        currency: 'USD',
        status: n === ORDERS_PER_USER ? 'CANCELLED' : 'PLACED',
        // Newest first, as the real subgraph lists them.
        createdAt: day(USER_COUNT + u * ORDERS_PER_USER + (ORDERS_PER_USER - n)),
      };
    }),
  );
  return { users, products, orders };
}

/** A page of `rows` after the opaque cursor `after` (here the base64 of an index), as the real subgraphs shape it. */
function page<T>(rows: T[], first: number, after: string | undefined) {
  const start = after ? Number(Buffer.from(after, 'base64').toString('utf8')) + 1 : 0;
  const slice = rows.slice(start, start + Math.min(first, 100));
  const cursor = (i: number) => Buffer.from(String(start + i)).toString('base64');
  return {
    edges: slice.map((node, i) => ({ cursor: cursor(i), node })),
    pageInfo: { hasNextPage: start + slice.length < rows.length, endCursor: slice.length ? cursor(slice.length - 1) : null },
  };
}

type Args = { id: string; first: number; after?: string };

function standInSchemas(): Record<SubgraphName, GraphQLSchema> {
  const { users, products, orders } = standInData();
  const byId = <T extends { id: string }>(rows: T[]) => new Map(rows.map((r) => [r.id, r]));
  const [userById, productById, orderById] = [byId(users), byId(products), byId(orders)];
  const schema = (name: SubgraphName, resolvers: object) =>
    buildSubgraphSchema({ typeDefs: parse(readFileSync(join(__dirname, '..', 'subgraphs', name, 'schema.graphql'), 'utf8')), resolvers: resolvers as never });
  return {
    users: schema('users', {
      Query: { me: () => null, user: (_: unknown, a: Args) => userById.get(a.id) ?? null, users: (_: unknown, a: Args) => page(users, a.first, a.after) },
      User: { __resolveReference: (ref: { id: string }) => userById.get(ref.id) ?? null },
    }),
    products: schema('products', {
      Query: { product: (_: unknown, a: Args) => productById.get(a.id) ?? null, products: (_: unknown, a: Args) => page(products, a.first, a.after) },
      Product: { __resolveReference: (ref: { id: string }) => productById.get(ref.id) ?? null },
    }),
    orders: schema('orders', {
      Query: { order: (_: unknown, a: Args) => orderById.get(a.id) ?? null },
      User: {
        __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
        orders: (user: { id: string }, a: Args) => page(orders.filter((o) => o.userId === user.id), a.first, a.after),
      },
      Order: {
        __resolveReference: (ref: { id: string }) => orderById.get(ref.id) ?? null,
        user: (order: { userId: string }) => ({ id: order.userId }),
      },
      OrderItem: { product: (item: { productId: string }) => ({ id: item.productId }) },
    }),
  };
}

/** One fetch a subgraph received, as a client would send it again: its path on the stand-ins' server and its body. */
export interface Fetch {
  path: string;
  body: string;
}

const RECENT_FETCHES = 50;

/** What GET /fetches answers: how many fetches the subgraphs received since the last DELETE, and the last few in order. */
export interface FetchCount {
  total: number;
  recent: Fetch[];
}

/** Starts the stand-ins in this process; GET /fetches on `url` counts what they received, DELETE /fetches starts again. */
export async function startStandInSubgraphs(): Promise<{ url: string; urls: Record<SubgraphName, string>; close(): Promise<void> }> {
  const schemas = standInSchemas();
  const answers = new Map<string, JsonAnswer & { probe: boolean }>();
  let total = 0;
  let recent: Fetch[] = [];
  const answer = async (path: string, body: string): Promise<JsonAnswer & { probe: boolean }> => {
    const name = path.slice(1) as SubgraphName;
    if (!SUBGRAPHS.includes(name)) return { status: 404, body: '{"errors":[{"message":"no such subgraph"}]}', probe: false };
    let document: DocumentNode;
    let params: { query: string; variables?: Record<string, unknown>; operationName?: string };
    try {
      params = JSON.parse(body);
      document = parse(params.query);
    } catch (err) {
      return { status: 400, body: JSON.stringify({ errors: [{ message: (err as Error).message }] }), probe: false };
    }
    // A gateway's health check (Switchyard's is `query SwitchyardReadiness { __typename }`) is no operation's fetch.
    const probe = /^\s*(query\s*\w*\s*)?\{\s*__typename\s*\}\s*$/.test(params.query);
    const result = await execute({ schema: schemas[name], document, variableValues: params.variables, operationName: params.operationName });
    return { status: 200, body: JSON.stringify(result), probe };
  };
  const { url, server } = await startJsonServer(async (req, body) => {
    const path = req.url ?? '/';
    // The benchmark, from its own process, reads the count (GET) and starts it again (DELETE).
    if (path === '/fetches' && req.method === 'GET') return { status: 200, body: JSON.stringify({ total, recent }) };
    if (path === '/fetches' && req.method === 'DELETE') {
      [total, recent] = [0, []];
      return { status: 200, body: '{}' };
    }
    const key = `${path}\n${body}`;
    let cached = answers.get(key);
    if (!cached) {
      cached = await answer(path, body);
      if (cached.status === 200) answers.set(key, cached);
    }
    if (!cached.probe) {
      total++;
      recent.push({ path, body });
      if (recent.length > RECENT_FETCHES) recent.shift();
    }
    return cached;
  });
  return {
    url,
    urls: { users: `${url}/users`, products: `${url}/products`, orders: `${url}/orders` },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

if (require.main === module) {
  startStandInSubgraphs().then(
    ({ url }) => {
      process.stdout.write(`stand-in subgraphs ready at ${url}\n`);
      process.once('SIGTERM', () => process.exit(0));
    },
    (err: Error) => {
      process.stderr.write(`${err.stack}\n`);
      process.exit(1);
    },
  );
}
