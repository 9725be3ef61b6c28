import { buildSchema, graphql } from 'graphql';
import { boundStringArguments, MAX_ARGUMENT_LENGTH } from './argument-bounds';

const typeDefs = `
  input LineInput { productId: ID!, note: String }
  input OrderInput { items: [LineInput!]! }
  type Product { id: ID!, related(after: String): [Product!]! }
  type Query {
    product(id: ID!): Product
    products(first: Int, after: String, search: String, tags: [String!]): [Product!]!
    place(input: OrderInput!): Boolean
    lookup(representations: [JSON!]!): Boolean
  }
  scalar JSON
`;

/** A schema whose resolvers count their calls: a refused request must not reach one. */
function boundedSchema() {
  const calls: string[] = [];
  const schema = buildSchema(typeDefs);
  const fields = schema.getQueryType()!.getFields();
  const product = { id: 'prd_1' };
  fields.product!.resolve = () => (calls.push('product'), product);
  fields.products!.resolve = () => (calls.push('products'), [product]);
  fields.place!.resolve = () => (calls.push('place'), true);
  fields.lookup!.resolve = () => (calls.push('lookup'), true);
  (schema.getType('Product') as any).getFields().related.resolve = () => (calls.push('related'), []);
  return { schema: boundStringArguments(schema), calls };
}

describe('string arguments are bounded before any resolver runs', () => {
  const long = 'x'.repeat(MAX_ARGUMENT_LENGTH + 1);
  const atLimit = 'x'.repeat(MAX_ARGUMENT_LENGTH);

  it.each([
    ['an ID argument', '{ product(id: $v) { id } }', 'ID!', long, 'id', []],
    ['a search string', '{ products(search: $v) { id } }', 'String', long, 'search', []],
    ['a cursor', '{ products(after: $v) { id } }', 'String', long, 'after', []],
    ['a list element', '{ products(tags: $v) { id } }', '[String!]', ['ok', long], 'tags[1]', []],
    ['an input object field in a list', '{ place(input: $v) }', 'OrderInput!', { items: [{ productId: 'prd_1' }, { productId: long }] }, 'input.items[1].productId', []],
    ['a nullable input field', '{ place(input: $v) }', 'OrderInput!', { items: [{ productId: 'prd_1', note: long }] }, 'input.items[0].note', []],
    ['an entity representation', '{ lookup(representations: $v) }', '[JSON!]!', [{ __typename: 'Product', id: long }], 'representations[0].id', []],
    ['a deeply nested representation', '{ lookup(representations: $v) }', '[JSON!]!', [JSON.parse(`${'{"a":'.repeat(5000)}"${long}"${'}'.repeat(5000)}`)], `representations[0]${'.a'.repeat(5000)}`, []],
    ['an argument of a nested field', '{ product(id: "prd_1") { related(after: $v) { id } } }', 'String', long, 'after', ['product']],
  ])('%s over the limit is BAD_USER_INPUT naming it, and its resolver never runs', async (_, selection, type, value, path, ran) => {
    const { schema, calls } = boundedSchema();
    const result = await graphql({ schema, source: `query($v: ${type}) ${selection}`, variableValues: { v: value } });
    expect(result.errors?.map((e) => [e.message, e.extensions])).toEqual([
      [`${path} is longer than ${MAX_ARGUMENT_LENGTH} characters`, { code: 'BAD_USER_INPUT', argument: path }],
    ]);
    expect(calls).toEqual(ran);
  });

  it('a string literal in the document is bounded like a variable', async () => {
    const { schema, calls } = boundedSchema();
    const result = await graphql({ schema, source: `{ products(search: "${long}") { id } }` });
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'search' });
    expect(calls).toEqual([]);
  });

  it.each([
    ['a NUL in an ID argument', '{ product(id: $v) { id } }', 'ID!', 'prd_1\u0000', 'id'],
    ['a NUL in a search string', '{ products(search: $v) { id } }', 'String', '\u0000', 'search'],
    ['a lone high surrogate in a list element', '{ products(tags: $v) { id } }', '[String!]', ['ok', 'a\ud800'], 'tags[1]'],
    ['a lone low surrogate in an input object field', '{ place(input: $v) }', 'OrderInput!', { items: [{ productId: '\udc00prd_1' }] }, 'input.items[0].productId'],
    ['a surrogate pair in the wrong order in a representation', '{ lookup(representations: $v) }', '[JSON!]!', [{ __typename: 'Product', id: '\udc00\ud800' }], 'representations[0].id'],
  ])('%s is BAD_USER_INPUT naming it, and no resolver runs: PostgreSQL cannot store it', async (_, selection, type, value, path) => {
    const { schema, calls } = boundedSchema();
    const result = await graphql({ schema, source: `query($v: ${type}) ${selection}`, variableValues: { v: value } });
    expect(result.errors?.map((e) => [e.message, e.extensions])).toEqual([
      [`${path} contains U+0000 or a lone surrogate, which are not text`, { code: 'BAD_USER_INPUT', argument: path }],
    ]);
    expect(calls).toEqual([]);
  });

  it('a NUL written as an escape in a literal is refused like one in a variable', async () => {
    const { schema, calls } = boundedSchema();
    const result = await graphql({ schema, source: '{ products(search: "a\\u0000") { id } }' });
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'search' });
    expect(calls).toEqual([]);
  });

  it('text outside the Basic Multilingual Plane (a valid surrogate pair) passes', async () => {
    const { schema, calls } = boundedSchema();
    const result = await graphql({ schema, source: 'query($v: String) { products(search: $v) { id } }', variableValues: { v: '🔥 lamp' } });
    expect(result).toEqual({ data: { products: [{ id: 'prd_1' }] } });
    expect(calls).toEqual(['products']);
  });

  it('strings up to the limit, and non-string arguments, pass to the resolver', async () => {
    const { schema, calls } = boundedSchema();
    const result = await graphql({
      schema,
      source: 'query($s: String, $i: OrderInput!) { products(first: 5, search: $s) { id } place(input: $i) }',
      variableValues: { s: atLimit, i: { items: [{ productId: atLimit }] } },
    });
    expect(result).toEqual({ data: { products: [{ id: 'prd_1' }], place: true } });
    expect(calls.sort()).toEqual(['place', 'products']);
  });
});
