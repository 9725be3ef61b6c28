import { resolve } from 'node:path';
import { buildSchema, Kind, parse, type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { readSupergraphFile } from '../../execution/supergraph';
import { checkSlicingArguments, costSchema, estimateCost, MAX_ESTIMATED_COST, type CostSchema } from './estimate';

const supergraph = readSupergraphFile(resolve(__dirname, '../../../supergraph.graphql'), {});
const SUPERGRAPH = costSchema(supergraph.schema, supergraph.directiveNames, 10);

/** The shapes Switchyard's supergraph lacks: slicing inside an input object, Float sizes, lists of lists, negative schema figures, recursion. */
const SHAPES = costSchema(
  buildSchema(`
    directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
    directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
    type Query {
      search(page: PageInput): Page @listSize(slicingArguments: ["page.first", "page.last"], sizedFields: ["items"])
      things(first: Float, last: Float): [Thing] @listSize(slicingArguments: ["first", "last"])
      grid: [[Thing]] @listSize(assumedSize: -4)
      matrix: [[Int]] @listSize(assumedSize: -2)
      refund: Int @cost(weight: -50)
      node: Node
      filtered(filter: Filter): Int
    }
    input PageInput { first: Int, last: Int }
    type Page { items: [Thing], total: Int }
    type Thing { id: ID, children(first: Float): [Thing] @listSize(slicingArguments: ["first"]) }
    type Node { id: ID, node: Node }
    input Filter { not: Filter, tag: String }
  `),
  { cost: 'cost', listSize: 'listSize' },
  10,
);

function parts(query: string) {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
  const fragments = Object.fromEntries(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === 'FragmentDefinition').map((d) => [d.name.value, d]));
  return { operation, fragments };
}

const estimate = (query: string, variables: Record<string, unknown> = {}, schema: CostSchema = SUPERGRAPH): number => {
  const { operation, fragments } = parts(query);
  return estimateCost(schema, operation, fragments, variables);
};

const check = (query: string, variables: Record<string, unknown> = {}, schema: CostSchema = SUPERGRAPH) => {
  const { operation, fragments } = parts(query);
  return checkSlicingArguments(schema, operation, fragments, variables).map((error) => ({ message: error.message, extensions: error.extensions, locations: error.locations }));
};

/** What each error of checkSlicingArguments carries besides its message and location. */
const BAD_USER_INPUT = { code: 'BAD_USER_INPUT', http: { status: 400 } };

/** 1 + 100 users x (edge 1 + user 1 + orders 1 + 100 x (edge 1 + order 1 + 5 items x 2)) = 120 301, twelve times the default maximum. */
const EXPENSIVE = 'users(first: 100) { edges { node { orders(first: 100) { edges { node { items { product { name } } } } } } } }';
const EXPENSIVE_COST = 120_301;

describe('checkSlicingArguments: a slicing argument below zero makes the operation invalid', () => {
  it('the issue\'s decoy: a negative literal beside an expensive selection is refused, naming the argument, the field and its path', () => {
    expect(check(`{ ${EXPENSIVE} decoy: products(first: -100000) { edges { node { id } } } }`)).toEqual([
      { message: 'Slicing argument "first" of Query.products at "decoy" must not be negative; got -100000.', extensions: BAD_USER_INPUT, locations: [{ line: 1, column: 113 }] },
    ]);
  });

  it('a negative variable, and a negative default of a variable the client never sends, are refused the same', () => {
    const query = 'query ($n: Int) { products(first: $n) { edges { cursor } } }';
    expect(check(query, { n: -5 }).map((e) => e.message)).toEqual(['Slicing argument "first" of Query.products at "products" must not be negative; got -5.']);
    expect(check('query ($n: Int = -7) { products(first: $n) { edges { cursor } } }').map((e) => e.message)).toEqual([
      'Slicing argument "first" of Query.products at "products" must not be negative; got -7.',
    ]);
    expect(check('query ($n: Int = -7) { products(first: $n) { edges { cursor } } }', { n: 7 })).toEqual([]);
  });

  it('a negative size inside an input object is found by its path, as a literal, a whole variable or a variable inside the literal', () => {
    const message = (value: number) => `Slicing argument "page.first" of Query.search at "search" must not be negative; got ${value}.`;
    expect(check('{ search(page: { first: -1 }) { items { id } } }', {}, SHAPES).map((e) => e.message)).toEqual([message(-1)]);
    expect(check('query ($page: PageInput) { search(page: $page) { items { id } } }', { page: { first: -2 } }, SHAPES).map((e) => e.message)).toEqual([message(-2)]);
    expect(check('query ($n: Int) { search(page: { first: $n }) { items { id } } }', { n: -3 }, SHAPES).map((e) => e.message)).toEqual([message(-3)]);
    expect(check('{ search(page: { first: 4, last: -4 }) { items { id } } }', {}, SHAPES).map((e) => e.message)).toEqual([
      'Slicing argument "page.last" of Query.search at "search" must not be negative; got -4.',
    ]);
  });

  it('every slicing argument counts, not only the largest: last: -5 beside first: 10 is refused', () => {
    expect(check('{ things(first: 10, last: -5) { id } }', {}, SHAPES).map((e) => e.message)).toEqual([
      'Slicing argument "last" of Query.things at "things" must not be negative; got -5.',
    ]);
  });

  it('a negative float is refused too; -0, 0, a float and a huge size are not negative (the estimate prices them)', () => {
    expect(check('{ things(first: -0.5) { id } }', {}, SHAPES).map((e) => e.message)).toEqual(['Slicing argument "first" of Query.things at "things" must not be negative; got -0.5.']);
    expect(check('{ products(first: -0) { edges { cursor } } }')).toEqual([]);
    expect(check('{ products(first: 0) { edges { cursor } } }')).toEqual([]);
    expect(check('{ things(first: 2.5, last: 1e300) { id } }', {}, SHAPES)).toEqual([]);
  });

  it('several decoys, in fragments, inline fragments and under aliases of the same field, are each reported once in document order', () => {
    const query = `
      query Decoys { ${EXPENSIVE}
        ...Decoy
        ... on Query { inline: products(first: -2) { edges { cursor } } }
        big: products(first: 50) { edges { cursor } }
        small: products(first: -3) { edges { cursor } }
        again: me { ...Decoy }
      }
      fragment Decoy on Query { fragmented: products(first: -1) { edges { cursor } } }`;
    expect(check(query)).toEqual([
      { message: 'Slicing argument "first" of Query.products at "fragmented" must not be negative; got -1.', extensions: BAD_USER_INPUT, locations: [{ line: 9, column: 33 }] },
      { message: 'Slicing argument "first" of Query.products at "inline" must not be negative; got -2.', extensions: BAD_USER_INPUT, locations: [{ line: 4, column: 24 }] },
      { message: 'Slicing argument "first" of Query.products at "small" must not be negative; got -3.', extensions: BAD_USER_INPUT, locations: [{ line: 6, column: 9 }] },
    ]);
  });

  it('a nested field is named by its response path, and a field @skip leaves out is still refused (the operation itself is invalid)', () => {
    expect(check('{ viewer: me { orders(first: -1) { edges { cursor } } } products(first: -9) @skip(if: true) { edges { cursor } } }').map((e) => e.message)).toEqual([
      'Slicing argument "first" of User.orders at "viewer.orders" must not be negative; got -1.',
      'Slicing argument "first" of Query.products at "products" must not be negative; got -9.',
    ]);
  });

  it('sizes the schema configures are not the client\'s to fix: a negative @listSize(assumedSize:) on a list of lists is no error', () => {
    expect(check('{ grid { id } matrix }', {}, SHAPES)).toEqual([]);
  });
});

describe('estimateCost: a whole number from 0 to MAX_ESTIMATED_COST, whatever the operation', () => {
  it('the expensive selection alone is over the maximum', () => {
    expect(estimate(`{ ${EXPENSIVE} }`)).toBe(EXPENSIVE_COST);
  });

  it('a negative literal decoy takes nothing off: its list counts 0 items, its connection 1', () => {
    expect(estimate('{ products(first: -100000) { edges { node { id } } } }')).toBe(1);
    expect(estimate(`{ ${EXPENSIVE} decoy: products(first: -100000) { edges { node { id } } } }`)).toBe(EXPENSIVE_COST + 1);
  });

  it('several decoys, in a fragment, an inline fragment and under aliases, each add their connection and nothing less', () => {
    const query = `{ ${EXPENSIVE}
      ...Decoy
      ... on Query { inline: products(first: -200000) { edges { node { id } } } }
      a: products(first: -300000) { edges { node { id } } }
      b: products(first: 2) { edges { node { id } } }
    }
    fragment Decoy on Query { fragmented: products(first: -100000) { edges { node { id } } } }`;
    expect(estimate(query)).toBe(EXPENSIVE_COST + 1 + 1 + 1 + (1 + 2 * 2));
  });

  it('a negative variable and a negative default of a variable never sent count 0 items; a positive variable overrides the default', () => {
    expect(estimate('query ($n: Int) { products(first: $n) { edges { node { id } } } }', { n: -100000 })).toBe(1);
    expect(estimate('query ($n: Int = -100000) { products(first: $n) { edges { node { id } } } }')).toBe(1);
    expect(estimate('query ($n: Int = -100000) { products(first: $n) { edges { node { id } } } }', { n: 5 })).toBe(11);
  });

  it('a negative size inside an input object counts 0; the largest of the slicing arguments wins', () => {
    // Page 1 + items x Thing 1 + the page input object 1.
    expect(estimate('{ search(page: { first: -100 }) { items { id } } }', {}, SHAPES)).toBe(1 + 0 + 1);
    expect(estimate('query ($page: PageInput) { search(page: $page) { items { id } } }', { page: { first: -100 } }, SHAPES)).toBe(1 + 0 + 1);
    expect(estimate('{ search(page: { first: -100, last: 3 }) { items { id } } }', {}, SHAPES)).toBe(1 + 3 + 1);
  });

  it('-0 counts as 0 items, a positive zero: the estimate is +0, never -0', () => {
    expect(estimate('{ products(first: -0) { edges { node { id } } } }')).toBe(1);
    expect(estimate('{ things(first: -0) { id } }', {}, SHAPES)).toBe(0);
  });

  it('a fractional size rounds up to whole items, and a huge one saturates at MAX_ESTIMATED_COST', () => {
    expect(estimate('{ things(first: 2.5) { id } }', {}, SHAPES)).toBe(3);
    expect(estimate('{ things(first: 1e300) { id } }', {}, SHAPES)).toBe(MAX_ESTIMATED_COST);
    expect(estimate('{ things(first: 1e300) { children(first: 1e300) { children(first: 1e300) { id } } } }', {}, SHAPES)).toBe(MAX_ESTIMATED_COST);
  });

  it('0 items of a list whose items are priced past the maximum cost 0, not NaN (0 x Infinity)', () => {
    expect(estimate('{ things(first: 0) { children(first: 1e300) { children(first: 1e300) { id } } } }', {}, SHAPES)).toBe(0);
  });

  it('variables execution will refuse (1e300 and 2.5 are no Int) are priced as sent, not dropped for the default', () => {
    const query = 'query ($n: Int) { products(first: $n) { edges { node { id } } } }';
    expect(estimate(query, { n: 1e300 })).toBe(MAX_ESTIMATED_COST);
    expect(estimate(query, { n: 2.5 })).toBe(1 + 3 * 2);
  });

  it('lists of lists with a negative @listSize(assumedSize:) count 0 items, and a negative @cost weight counts 0', () => {
    expect(estimate('{ grid { id children(first: 5) { id } } matrix }', {}, SHAPES)).toBe(0);
    expect(estimate('{ refund node { id } }', {}, SHAPES)).toBe(1);
  });

  // A recursive walk overflowed at 5 000 levels of either.
  it('a selection nested 20 000 deep is costed and checked without overflowing the stack (built as a tree: the parser would not go that deep)', () => {
    let node: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: 'id' } };
    for (let depth = 0; depth < 20_000; depth++) node = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: 'node' }, selectionSet: { kind: Kind.SELECTION_SET, selections: [node] } };
    const operation: OperationDefinitionNode = { kind: Kind.OPERATION_DEFINITION, operation: 'query' as OperationDefinitionNode['operation'], selectionSet: { kind: Kind.SELECTION_SET, selections: [node] } };
    expect(estimateCost(SHAPES, operation, {}, {})).toBe(20_000);
    expect(checkSlicingArguments(SHAPES, operation, {}, {})).toEqual([]);
  });

  it('a chain of 20 000 fragments, each spreading the next, is costed and checked without overflowing the stack', () => {
    const count = 20_000;
    let query = '{ ...F0 }\n';
    for (let i = 0; i < count - 1; i++) query += `fragment F${i} on Query { ...F${i + 1} }\n`;
    query += `fragment F${count - 1} on Query { products(first: -1) { edges { node { id } } } products2: products(first: 3) { edges { node { id } } } }`;
    expect(estimate(query)).toBe(1 + (1 + 3 * 2));
    expect(check(query).map((e) => e.message)).toEqual(['Slicing argument "first" of Query.products at "products" must not be negative; got -1.']);
  });

  it('an input value nested 100 000 deep is costed without overflowing the stack: 1 per input object', () => {
    let filter: Record<string, unknown> = { tag: 'x' };
    for (let depth = 0; depth < 100_000; depth++) filter = { not: filter };
    const query = 'query ($filter: Filter) { filtered(filter: $filter) }';
    expect(estimate(query, { filter }, SHAPES)).toBe(100_001);
    expect(check(query, { filter }, SHAPES)).toEqual([]);
  });

  it('a fragment that spreads itself (validation refuses it) ends the walk instead of looping', () => {
    expect(estimate('{ ...Loop } fragment Loop on Query { product(id: "1") { id } ...Loop }')).toBe(1);
    expect(check('{ ...Loop } fragment Loop on Query { products(first: -1) { edges { cursor } } ...Loop }')).toHaveLength(1);
  });
});
