import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import fc from 'fast-check';
import { execute, GraphQLError, isAbstractType, parse, type GraphQLSchema } from 'graphql';
import type { FakeSubgraph } from './test-gateway';
import { FETCH_FAILURES, SubgraphFetchError, type SubgraphCall } from '../transport/subgraph-http-client';

/**
 * The differential test's material: our three subgraphs' real schemas answering from fixed data (with
 * references to users and products that do not exist, so entities go missing and nulls bubble), faults
 * a subgraph's answer can carry, and a generator of valid operations over a supergraph's API schema.
 */

const REPO = join(__dirname, '..', '..', '..');
const sdlOf = (subgraph: string) => readFileSync(join(REPO, 'subgraphs', subgraph, 'schema.graphql'), 'utf8');

const USERS = Array.from({ length: 6 }, (_, i) => ({
  id: `usr_00${i + 1}`,
  email: i % 3 === 2 ? null : `user${i + 1}@example.com`,
  name: `User ${i + 1}`,
  displayName: `user-${i + 1}`,
  createdAt: `2026-01-0${i + 1}T00:00:00Z`,
}));
const PRODUCTS = Array.from({ length: 8 }, (_, i) => ({
  id: `prd_000${i + 1}`,
  sku: `SKU-${i + 1}`,
  name: `Product ${i + 1}`,
  description: `The ${i + 1}th product`,
  priceCents: 100 * (i + 1),
  currency: i % 2 ? 'EUR' : 'USD',
  stock: i * 3,
}));
/** Orders of users 1 to 4 (and of usr_404, who does not exist); their items name products 1 to 9 (prd_0009 does not exist). */
const ORDERS = Array.from({ length: 12 }, (_, i) => ({
  id: `ord_${String(i + 1).padStart(3, '0')}`,
  userId: i === 11 ? 'usr_404' : `usr_00${(i % 4) + 1}`,
  items: Array.from({ length: 1 + (i % 3) }, (_, j) => ({ productId: `prd_000${((i + j * 4) % 9) + 1}`, quantity: j + 1, unitPriceCents: 100 * (j + 1) })),
  totalCents: 1000 + i,
  currency: 'USD',
  status: i % 5 === 4 ? 'CANCELLED' : 'PLACED',
  createdAt: `2026-02-${String(i + 1).padStart(2, '0')}T00:00:00Z`,
}));

type Row = { id: string };
/** A page of rows after the cursor `after` (a row id), `first` of them. */
function page<T extends Row>(rows: T[], first: number, after: string | null | undefined) {
  const start = after ? rows.findIndex((r) => r.id === after) + 1 : 0;
  const slice = rows.slice(start, start + Math.max(0, first));
  return {
    edges: slice.map((node) => ({ cursor: node.id, node })),
    pageInfo: { hasNextPage: start + slice.length < rows.length, endCursor: slice.at(-1)?.id ?? null },
  };
}
const byId = <T extends Row>(rows: T[], id: string) => rows.find((r) => r.id === id) ?? null;
const orderOut = (o: (typeof ORDERS)[number]) => ({ ...o, user: { id: o.userId }, items: o.items.map((item) => ({ ...item, product: { id: item.productId } })) });

const RESOLVERS: Record<'users' | 'products' | 'orders', GraphQLResolverMap<unknown>> = {
  users: {
    Query: {
      me: () => USERS[0],
      user: (_: unknown, { id }: { id: string }) => byId(USERS, id),
      users: (_: unknown, { first, after }: { first: number; after?: string }) => page(USERS, first, after),
    },
    User: { __resolveReference: ({ id }: Row) => byId(USERS, id) },
  },
  products: {
    Query: {
      product: (_: unknown, { id }: { id: string }) => byId(PRODUCTS, id),
      products: (_: unknown, { first, after, search }: { first: number; after?: string; search?: string }) =>
        page(
          PRODUCTS.filter((p) => !search || p.name.toLowerCase().includes(search.toLowerCase())),
          first,
          after,
        ),
    },
    Product: { __resolveReference: ({ id }: Row) => byId(PRODUCTS, id) },
  },
  orders: {
    Query: { order: (_: unknown, { id }: { id: string }) => (byId(ORDERS, id) ? orderOut(byId(ORDERS, id)!) : null) },
    Mutation: {
      placeOrder: (_: unknown, { input }: { input: { items: { productId: string; quantity: number }[] } }) =>
        orderOut({ ...ORDERS[0]!, id: 'ord_new', items: input.items.map((item) => ({ ...item, unitPriceCents: 250 })) }),
      cancelOrder: (_: unknown, { id }: { id: string }) => {
        const order = byId(ORDERS, id);
        if (!order) throw new GraphQLError(`no order ${id}`, { extensions: { code: 'NOT_FOUND' } });
        return orderOut({ ...order, status: 'CANCELLED' });
      },
    },
    User: {
      __resolveReference: ({ id }: Row) => ({ id }),
      orders: ({ id }: Row, { first, after }: { first: number; after?: string }) => page(ORDERS.filter((o) => o.userId === id).map(orderOut), first, after),
    },
  },
};

/** What a subgraph's answer suffers in one case of the corpus. */
export type Fault =
  | { kind: 'none' }
  /** Every call to the subgraph fails as a refused connection does. */
  | { kind: 'down'; subgraph: string }
  /** One value (chosen by the request body) becomes null with an error at its path, or without one. */
  | { kind: 'field error' | 'null without error'; subgraph: string }
  /** One leaf value becomes a value of the wrong type. */
  | { kind: 'wrong leaf'; subgraph: string }
  /** An entity answer is missing one entity, or comes back with an unknown __typename. */
  | { kind: 'short entities' | 'unknown typename'; subgraph: string }
  /** The answer is errors only: an error without a message, one with a federation code, one without a path. */
  | { kind: 'errors only'; subgraph: string };

/** A fault of one of `subgraphs`, or (half the time) none. */
export const faultArbitrary = (subgraphs: readonly string[]): fc.Arbitrary<Fault> =>
  fc.oneof(
    { arbitrary: fc.constant<Fault>({ kind: 'none' }), weight: 6 },
    {
      arbitrary: fc.record({
        kind: fc.constantFrom('down', 'field error', 'null without error', 'wrong leaf', 'short entities', 'unknown typename', 'errors only'),
        subgraph: fc.constantFrom(...subgraphs),
      }) as fc.Arbitrary<Fault>,
      weight: 6,
    },
  );

/** A number from the request body, so both executors' identical requests suffer the identical fault. */
const pick = (body: string, n: number) => (n <= 0 ? 0 : createHash('sha256').update(body).digest().readUInt32BE(0) % n);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** Every [container, key] under `value` whose value is a leaf (or any value, with `objects`), depth first. */
function slots(value: Json, objects = false, found: [Record<string, Json> | Json[], string | number][] = []): typeof found {
  if (Array.isArray(value)) value.forEach((v, i) => (v !== null && typeof v === 'object' ? (objects && found.push([value, i]), slots(v, objects, found)) : found.push([value, i])));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (v !== null && typeof v === 'object') {
        if (objects) found.push([value, k]);
        slots(v, objects, found);
      } else if (k !== '__typename') found.push([value, k]);
    }
  }
  return found;
}
/** The response path of `container[key]` inside `data`. */
function pathTo(data: Json, target: object, key: string | number, path: (string | number)[] = []): (string | number)[] | undefined {
  if (data === target) return [...path, key];
  if (data === null || typeof data !== 'object') return undefined;
  for (const [k, v] of Object.entries(data)) {
    const found = pathTo(v, target, key, [...path, Array.isArray(data) ? Number(k) : k]);
    if (found) return found;
  }
  return undefined;
}

/** The answer `fault` makes of a subgraph's own answer to `call`. */
function faulted(fault: Fault, call: SubgraphCall, answer: { data?: Json; errors?: unknown[] }): unknown {
  if (fault.kind === 'none' || fault.subgraph !== call.subgraph) return answer;
  const data = answer.data ?? null;
  switch (fault.kind) {
    case 'down':
      throw new SubgraphFetchError(call.subgraph, FETCH_FAILURES.connection_refused);
    case 'errors only':
      return { data: null, errors: [{ message: '' }, { message: 'planned outage', extensions: { code: 'INVALID_GRAPHQL' } }, { message: 'no path', path: undefined, extensions: { code: 'UPSTREAM', detail: 1 } }] };
    case 'short entities': {
      const entities = (data as { _entities?: Json[] } | null)?._entities;
      if (entities) entities.pop();
      return answer;
    }
    case 'unknown typename': {
      const entities = (data as { _entities?: Json[] } | null)?._entities;
      const entity = entities?.[pick(call.body, entities.length)];
      if (entity && typeof entity === 'object') (entity as Record<string, Json>).__typename = 'Nope';
      return answer;
    }
    default: {
      const candidates = slots(data, fault.kind !== 'wrong leaf');
      if (candidates.length === 0) return answer;
      const [container, key] = candidates[pick(call.body, candidates.length)]!;
      const path = pathTo(data, container, key);
      if (fault.kind === 'wrong leaf') {
        (container as Record<string, Json>)[key] = typeof (container as Record<string, Json>)[key] === 'string' ? 12.5 : 'not a number';
        return answer;
      }
      (container as Record<string, Json>)[key] = null;
      if (fault.kind === 'null without error') return answer;
      return { ...answer, errors: [...(answer.errors ?? []), { message: `failed at ${path?.join('.')}`, path, extensions: { code: 'RESOLVER_FAILED' } }] };
    }
  }
}

/** Our three subgraphs' real schemas with the fixed data above. */
export const CORPUS_SUBGRAPHS: Record<string, { sdl: string; resolvers: GraphQLResolverMap<unknown> }> = Object.fromEntries(
  (['users', 'products', 'orders'] as const).map((name) => [name, { sdl: sdlOf(name), resolvers: RESOLVERS[name] }]),
);

/**
 * Subgraphs as fakes for startTestGateway. Each answers in a macrotask of its own, as a network answer
 * arrives, so the order in which answers (and their errors) reach the gateway is the same for both
 * executors; `fault()` says what the current case does to the answers.
 */
export function faultySubgraphs(subgraphs: Record<string, { sdl: string; resolvers: GraphQLResolverMap<unknown> }>, fault: () => Fault): Record<string, FakeSubgraph> {
  return Object.fromEntries(
    Object.entries(subgraphs).map(([name, { sdl, resolvers }]) => {
      let schema: GraphQLSchema | undefined;
      const answer = async (call: SubgraphCall) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (call.probe) return undefined;
        schema ??= buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers }]);
        const { query, variables, operationName } = JSON.parse(call.body);
        const result = await execute({ schema, document: parse(query), variableValues: variables, operationName });
        const answered = JSON.parse(JSON.stringify({ ...result, errors: result.errors?.map((e) => e.toJSON()) }));
        return faulted(fault(), call, answered);
      };
      return [name, { sdl, resolvers, answer } satisfies FakeSubgraph];
    }),
  );
}

/** Ids the generator uses: most exist, some do not. */
const IDS: Record<string, readonly string[]> = {
  user: ['usr_001', 'usr_002', 'usr_003', 'usr_404'],
  product: ['prd_0001', 'prd_0005', 'prd_0009'],
  order: ['ord_001', 'ord_005', 'ord_012', 'ord_404'],
};

/** Reads decisions off a stream of numbers; past its end every decision is the plainest (0). */
class Choices {
  private next = 0;
  constructor(private readonly stream: readonly number[]) {}
  below(n: number): number {
    return n <= 1 ? 0 : (this.stream[this.next++] ?? 0) % n;
  }
  chance(percent: number): boolean {
    return this.below(100) >= 100 - percent;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.below(list.length)]!;
  }
}

/** The plain GraphQL type names of our API schema the generator walks, field by field. */
interface SchemaField {
  name: string;
  type: string;
  args: readonly { name: string; type: string }[];
}

/**
 * Valid operations over the API schema of our supergraph, built as a stream of choices says: several
 * root fields, aliases, repeated fields that merge, __typename (aliased too), inline fragments with and
 * without a type condition, named fragments, @skip/@include on literals and on variables (with and
 * without defaults), arguments as literals and as variables, nested entities across all three subgraphs,
 * and mutations.
 */
export function operationArbitrary(schema: GraphQLSchema): fc.Arbitrary<{ query: string; variables: Record<string, unknown> }> {
  const fieldsOf = (typeName: string): SchemaField[] => {
    const type = schema.getType(typeName) as { getFields?: () => Record<string, { name: string; type: unknown; args: { name: string; type: unknown }[] }> };
    return Object.values(type.getFields?.() ?? {}).map((f) => ({ name: f.name, type: String(f.type), args: f.args.map((a) => ({ name: a.name, type: String(a.type) })) }));
  };
  const named = (type: string) => type.replace(/[[\]!]/g, '');
  const isLeaf = (type: string) => ['ID', 'String', 'Int', 'Boolean', 'DateTime', 'OrderStatus', 'Float'].includes(named(type));
  return fc.array(fc.nat(), { minLength: 20, maxLength: 250 }).map((stream) => {
    const c = new Choices(stream);
    const definitions: string[] = [];
    const variables: Record<string, unknown> = {};
    const fragments: string[] = [];
    let aliases = 0;
    const variable = (type: string, value: unknown, omitForDefault?: string): string => {
      const name = `v${definitions.length}`;
      definitions.push(`$${name}: ${type}${omitForDefault ? ` = ${omitForDefault}` : ''}`);
      if (value !== undefined) variables[name] = value;
      return `$${name}`;
    };
    const argument = (field: string, arg: { name: string; type: string }): string | undefined => {
      const viaVariable = c.chance(30);
      let value: unknown;
      if (arg.name === 'id') value = c.pick(IDS[field === 'cancelOrder' ? 'order' : field] ?? IDS.user!);
      else if (arg.name === 'first') value = c.below(5);
      else if (arg.name === 'after') value = c.chance(50) ? undefined : c.pick([...IDS.user!, ...IDS.product!, 'ord_003']);
      else if (arg.name === 'search') value = c.pick(['product 1', 'PRODUCT', '', 'none']);
      else if (arg.name === 'input') value = { items: Array.from({ length: 1 + c.below(3) }, () => ({ productId: c.pick(IDS.product!), quantity: 1 + c.below(4) })) };
      else if (arg.name === 'idempotencyKey') value = c.chance(50) ? undefined : 'key-1';
      if (value === undefined || (!arg.type.endsWith('!') && c.chance(20))) return undefined;
      if (viaVariable) return `${arg.name}: ${variable(arg.type, value)}`;
      return `${arg.name}: ${literal(value)}`;
    };
    const literal = (value: unknown): string =>
      Array.isArray(value) ? `[${value.map(literal).join(', ')}]` : value !== null && typeof value === 'object' ? `{ ${Object.entries(value).map(([k, v]) => `${k}: ${literal(v)}`).join(', ')} }` : JSON.stringify(value);
    const directive = (): string => {
      if (!c.chance(15)) return '';
      const which = c.pick(['skip', 'include']);
      const form = c.below(3);
      if (form === 0) return ` @${which}(if: ${c.chance(50)})`;
      if (form === 1) return ` @${which}(if: ${variable('Boolean!', c.chance(50))})`;
      return ` @${which}(if: ${variable('Boolean', c.chance(50) ? undefined : c.chance(50), String(c.chance(50)))})`;
    };
    const selectionSet = (typeName: string, depth: number): string => {
      const fields = fieldsOf(typeName);
      const leaves = fields.filter((f) => isLeaf(f.type));
      const parts: string[] = [];
      const count = 1 + c.below(depth === 0 ? 3 : 4);
      const abstract = isAbstractType(schema.getType(typeName));
      for (let i = 0; i < count; i++) {
        // Abstract types get mostly fragments on their members.
        const kind = abstract && c.chance(50) ? 2 : c.below(12);
        if (kind === 0) parts.push(c.chance(50) ? '__typename' : `t${aliases++}: __typename`);
        else if (kind === 1 && parts.length > 0) parts.push(c.pick(parts));
        else if (kind === 2) {
          const type = schema.getType(typeName)!;
          const on = isAbstractType(type) && c.chance(75) ? c.pick(schema.getPossibleTypes(type)).name : typeName;
          parts.push(`... on ${on}${directive()} ${selectionSet(on, depth + 1)}`);
        }
        else if (kind === 3) parts.push(`...${directive()} ${selectionSet(typeName, depth + 1)}`);
        else if (kind === 4 && fragments.length < 4) {
          const name = `F${fragments.length}`;
          fragments.push(name);
          const body = selectionSet(typeName, depth + 1);
          fragments[fragments.indexOf(name)] = `fragment ${name} on ${typeName} ${body}`;
          parts.push(`...${name}${directive()}`);
        } else {
          // Mostly nested fields near the root, so that operations cross into other subgraphs.
          const nested = fields.filter((f) => !isLeaf(f.type));
          const pool = depth >= 4 && leaves.length > 0 ? leaves : nested.length > 0 && c.chance(80) ? nested : fields;
          const field = depth >= 5 && leaves.length === 0 ? undefined : c.pick(pool);
          if (!field) {
            parts.push('__typename');
            continue;
          }
          const args = field.args.map((a) => argument(field.name, a)).filter((a): a is string => a !== undefined);
          const alias = c.chance(20) ? `a${aliases++}: ` : '';
          const sub = isLeaf(field.type) ? '' : ` ${selectionSet(named(field.type), depth + 1)}`;
          parts.push(`${alias}${field.name}${args.length > 0 ? `(${args.join(', ')})` : ''}${directive()}${sub}`);
        }
      }
      return `{ ${parts.join(' ')} }`;
    };
    const mutation = !!schema.getMutationType() && c.chance(12);
    const body = selectionSet(mutation ? 'Mutation' : 'Query', 0);
    const header = `${mutation ? 'mutation' : 'query'} Corpus${definitions.length > 0 ? `(${definitions.join(', ')})` : ''}`;
    return { query: [`${header} ${body}`, ...fragments].join('\n'), variables };
  });
}
