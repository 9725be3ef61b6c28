import type { SubgraphCall } from '../transport/subgraph-http-client';
import type { FakeSubgraph } from './test-gateway';

/**
 * Two subgraphs for the resilience tests: products (one product) and orders (a list, and a mutation),
 * so one query fans out to both and either can fail alone. `fail` decides, per client call (readiness
 * probes always get an answer), whether a subgraph fails (throw what the HTTP client throws) or answers.
 */
export function twoSubgraphs(fail: { products?: (call: SubgraphCall) => void; orders?: (call: SubgraphCall) => void } = {}): Record<'products' | 'orders', FakeSubgraph> {
  return {
    products: {
      sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
        type Query { product: Product }
        type Product @key(fields: "id") { id: ID! name: String! }`,
      resolvers: { Query: { product: () => ({ id: 'p1', name: 'Lamp' }) } },
      answer: (call) => (call.probe ? undefined : fail.products?.(call)),
    },
    orders: {
      sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
        type Query { orders: [Order!] }
        type Mutation { placeOrder: Order }
        type Order @key(fields: "id") { id: ID! }`,
      resolvers: { Query: { orders: () => [{ id: 'o1' }] }, Mutation: { placeOrder: () => ({ id: 'o2' }) } },
      answer: (call) => (call.probe ? undefined : fail.orders?.(call)),
    },
  };
}

/** Both subgraphs in one query: two fetches side by side. */
export const PRODUCT_AND_ORDERS = 'query Overview { product { name } orders { id } }';
