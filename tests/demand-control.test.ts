import { resolve } from 'node:path';
import { buildSchema, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { costSchema, estimateCost } from '../gateway/src/plugins/demand-control/estimate';
import { readSupergraphFile } from '../gateway/src/execution/supergraph';
import { startGateway, type RunningGateway } from '../gateway/src/main';
import { gatewayConfig, startPlatform, type Platform } from './support/platform';

const supergraph = readSupergraphFile(resolve(__dirname, '../gateway/supergraph.graphql'), {});

function estimate(query: string, variables: Record<string, unknown> = {}, schema = costSchema(supergraph.schema, supergraph.directiveNames, 10)): number {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
  const fragments = Object.fromEntries(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === 'FragmentDefinition').map((d) => [d.name.value, d]));
  return estimateCost(schema, operation, fragments, variables);
}

const CROSS_SUBGRAPH = `{ user(id: "usr_002") { name orders(first: 2) { edges { node { id totalCents status items { quantity unitPriceCents product { name stock } } } } pageInfo { hasNextPage endCursor } } } }`;

/**
 * Hand-computed: objects 1, scalars and enums 0, lists times their size; a mutation starts at 10.
 * The schemas' directives: products/users/User.orders @listSize(slicingArguments: ["first"], sizedFields:
 * ["edges"]), Order.items @listSize(assumedSize: 5), products(search:) @cost(weight: 10),
 * placeOrder @cost(weight: 20).
 */
const TABLE: [name: string, query: string, variables: Record<string, unknown>, cost: number, why: string][] = [
  ['one object', '{ product(id: "prd_0001") { name priceCents } }', {}, 1, 'Product 1'],
  ['a page of 5', '{ products(first: 5) { edges { node { id name } } pageInfo { hasNextPage } } }', {}, 12, 'connection 1 + 5 x (edge 1 + node 1) + pageInfo 1'],
  ['the default page of 20', '{ products { edges { node { id } } } }', {}, 41, 'connection 1 + 20 x (edge 1 + node 1)'],
  ['a search', '{ products(first: 3, search: "lamp") { edges { cursor } } }', {}, 14, 'connection 1 + 3 x edge 1 + search 10'],
  ['the cross-subgraph query', CROSS_SUBGRAPH, {}, 27, 'user 1 + orders 1 + 2 x (edge 1 + order 1 + 5 x (item 1 + product 1)) + pageInfo 1'],
  ['orders at their default first: 10', '{ me { orders { edges { node { items { product { id } } } } } } }', {}, 122, 'me 1 + orders 1 + 10 x (edge 1 + order 1 + 5 x 2)'],
  ['a slicing argument from a variable', 'query ($n: Int) { users(first: $n) { edges { node { id } } } }', { n: 50 }, 101, 'connection 1 + 50 x 2'],
  ['a mutation', 'mutation { placeOrder(input: { items: [{ productId: "prd_0003", quantity: 2 }] }) { id totalCents } }', {}, 32, 'mutation 10 + @cost 20 + input object 1 + one line 1'],
  ['a mutation with its input in a variable', 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }', { input: { items: [{ productId: 'a', quantity: 1 }, { productId: 'b', quantity: 1 }] } }, 33, 'mutation 10 + 20 + input 1 + two lines 2'],
  ['fragments, one skipped', '{ a: product(id: "1") { ...P } b: product(id: "2") { ...P } c: product(id: "3") @skip(if: true) { ...P } } fragment P on Product { name }', {}, 2, 'two products; the skipped one costs nothing'],
  ['@include from a variable', 'query ($with: Boolean!) { product(id: "1") { name } products(first: 2) @include(if: $with) { edges { cursor } } }', { with: false }, 1, 'product 1, products not included'],
  ['introspection', '{ __typename __schema { types { name fields { name } } } }', {}, 0, 'introspection is free'],
];

describe('demand control: the static estimate', () => {
  it.each(TABLE.map(([name, query, variables, cost, why]) => ({ name, query, variables, cost, why })))('$name costs $cost: $why', ({ query, variables, cost }) => {
    expect(estimate(query, variables)).toBe(cost);
  });

  it('a list without @listSize is assumed to hold list_size items', () => {
    const schema = buildSchema('type Query { things: [Thing!]! } type Thing { id: ID! tags: [String!]! }');
    expect(estimate('{ things { id tags } }', {}, costSchema(schema, {}, 7))).toBe(7);
  });

  it('doubling fragments are costed once each: 2^40 expansions in milliseconds', () => {
    let query = '{ ...F40 }\nfragment F0 on Query { product(id: "1") { id } }\n';
    for (let i = 1; i <= 40; i++) query += `fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }\n`;
    const started = performance.now();
    expect(estimate(query)).toBe(2 ** 40);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('demand control through the gateway', () => {
  let enforce: Platform;
  /** A second gateway, in measure mode, in front of the same subgraphs. */
  let measure: RunningGateway;
  beforeAll(async () => {
    enforce = await startPlatform('pglite', { 'demand_control.strategy.static_estimated.max': 100 });
    measure = await startGateway(
      gatewayConfig({
        override_subgraph_url: Object.fromEntries(enforce.gateway.subgraphs.map((s) => [s.name, s.url])),
        'demand_control.strategy.static_estimated.max': 100,
        'demand_control.mode': 'measure',
      }),
    );
  }, 180_000);
  afterAll(async () => {
    await measure?.close();
    await enforce?.close();
  });

  const post = (target: Platform | RunningGateway, body: unknown) =>
    fetch('gateway' in target ? target.gateway.graphqlUrl : target.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (res) => ({ status: res.status, body: (await res.json()) as any }));

  it('in enforce mode, an operation over the maximum gets 400 COST_ESTIMATED_TOO_EXPENSIVE with its estimate', async () => {
    const res = await post(enforce, { query: '{ products(first: 60) { edges { node { id } } } }' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      errors: [{ message: 'Estimated cost 121 exceeds the maximum of 100.', extensions: { code: 'COST_ESTIMATED_TOO_EXPENSIVE', estimatedCost: 121, maxCost: 100 } }],
    });
  });

  it('in enforce mode, an operation at the maximum runs', async () => {
    const res = await post(enforce, { query: '{ products(first: 33) { edges { node { id } } } }', extensions: { cost: true } });
    expect(res.status).toBe(200);
    expect(res.body.data.products.edges).toHaveLength(33);
    expect(res.body.extensions).toEqual({ cost: { estimated: 67, max: 100, mode: 'enforce', result: 'COST_OK' } });
  });

  it('in measure mode, the same expensive operation runs, and the estimate is returned when asked for', async () => {
    const res = await post(measure, { query: '{ products(first: 60) { edges { node { id } } } }', extensions: { cost: true } });
    expect(res.status).toBe(200);
    expect(res.body.data.products.edges).toHaveLength(60);
    expect(res.body.extensions).toEqual({ cost: { estimated: 121, max: 100, mode: 'measure', result: 'COST_ESTIMATED_TOO_EXPENSIVE' } });
  });

  it('one operation text sent with other variables is estimated for those variables, not served a remembered estimate', async () => {
    const query = 'query Page($first: Int!) { products(first: $first) { edges { node { id } } } }';
    const small = await post(enforce, { query, variables: { first: 33 }, extensions: { cost: true } });
    expect(small.body.extensions.cost.estimated).toBe(67);
    const large = await post(enforce, { query, variables: { first: 60 } });
    expect(large.status).toBe(400);
    expect(large.body.errors[0].extensions).toEqual({ code: 'COST_ESTIMATED_TOO_EXPENSIVE', estimatedCost: 121, maxCost: 100 });
    const again = await post(enforce, { query, variables: { first: 33 }, extensions: { cost: true } });
    expect(again.body.extensions.cost.estimated).toBe(67);
  });

  it('without the extensions flag, the response carries no estimate', async () => {
    const res = await post(measure, { query: CROSS_SUBGRAPH });
    expect(res.status).toBe(200);
    expect(res.body.extensions).toBeUndefined();
  });
});
