import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isInputObjectType, isObjectType, type GraphQLSchema } from 'graphql';
import { apiSchemaOf } from '@switchyard/schema-tools';
import { afterCategory, leaksIn, observeCase, outcomeOf, postGraphql, recordedCounts, sendToGateway, sentSince, type Outcome } from '../support/hostile';
import { CUSTOMER_SCOPES, startPlatform, type Caller, type Platform } from '../support/platform';

/**
 * Operations an attacker or a broken client sends: bombs (depth, aliases, fragments, directives),
 * lexical token soups, hostile Unicode, and SQL in every argument of every field of the API schema.
 * Each case has its exact status and error codes; none leaks a stack, a path or an internal address;
 * a refusal (4xx) never reaches a subgraph; after each category every service answers and no data changed.
 */

interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** Anonymous unless given. */
  as?: Caller;
  expected: Outcome;
}

/** Support staff's reach and a customer's: every field of the schema is resolved for this caller. */
const EVERYONE: Caller = { sub: 'usr_002', scopes: [...CUSTOMER_SCOPES, 'users:read'] };

const ok = (data: unknown): Outcome => ({ status: 200, codes: [], data });
const refused = (...codes: string[]): Outcome => ({ status: 400, codes });
const repeat = (n: number, f: (i: number) => string, separator = ' ') => Array.from({ length: n }, (_, i) => f(i)).join(separator);

/** A valid operation `depth` fields deep (the leaf included): user -> orders -> edges -> node -> user -> ... */
function deepQuery(depth: number): string {
  const cycle = ['orders', 'edges', 'node', 'user'];
  const path = ['user(id: "usr_002")', ...Array.from({ length: depth - 2 }, (_, i) => cycle[i % 4]!)];
  const leaf = { orders: '__typename', edges: 'cursor', node: 'id', user: 'id' }[path[path.length - 1] as 'edges'] ?? 'id';
  return `{ ${path.map((field) => `${field} { `).join('')}${leaf}${' }'.repeat(path.length)} }`;
}

/** `{ ...F<n> }` on `on`, where each F<i> spreads F<i-1> twice: 2^n copies of `leaf` in about 10n tokens. */
function doubling(n: number, leaf: string, on = 'Query', root = `{ ...F${n} }`): string {
  let source = `${root}\nfragment F0 on ${on} { ${leaf} }\n`;
  for (let i = 1; i <= n; i++) source += `fragment F${i} on ${on} { ...F${i - 1} ...F${i - 1} }\n`;
  return source;
}

const BOMBS: Case[] = [
  { name: 'a query 16 fields deep (one over the limit)', query: deepQuery(16), expected: refused('MAX_DEPTH_LIMIT') },
  { name: 'a query 200 fields deep', query: deepQuery(200), expected: refused('MAX_DEPTH_LIMIT') },
  { name: 'a query 600 selection sets deep (past the parser’s recursion limit)', query: deepQuery(600), expected: refused('PARSER_MAX_RECURSION') },
  { name: 'depth built from fragments that each nest one level', query: `{ user(id: "usr_002") { ...D0 } } ${repeat(20, (i) => `fragment D${i} on User { orders { edges { node { user { ${i === 19 ? 'id' : `...D${i + 1}`} } } } } }`)}`, expected: refused('MAX_DEPTH_LIMIT') },
  { name: 'depth built from nested inline fragments', query: `{ user(id: "usr_002") { ${'... on User { orders { edges { node { user { '.repeat(5)}id${' } } } } }'.repeat(5)} } }`, expected: refused('MAX_DEPTH_LIMIT') },
  { name: 'introspection 20 levels deep', query: `{ __schema { types { ${'fields { type { '.repeat(9)}name${' } }'.repeat(9)} } } }`, expected: refused('MAX_DEPTH_LIMIT') },
  { name: '31 aliases of __typename (one over the limit)', query: `{ ${repeat(31, (i) => `a${i}: __typename`)} }`, expected: refused('MAX_ROOT_FIELDS_LIMIT', 'MAX_ALIASES_LIMIT') },
  { name: '31 aliases of a product field, below the root', query: `{ product(id: "prd_0001") { ${repeat(31, (i) => `n${i}: name`)} } }`, expected: refused('MAX_ALIASES_LIMIT') },
  { name: '21 aliased root fields, within the alias limit', query: `{ ${repeat(21, (i) => `p${i}: product(id: "prd_0001") { id }`)} }`, expected: refused('MAX_ROOT_FIELDS_LIMIT') },
  { name: '10 000 aliases', query: `{ ${repeat(10_000, (i) => `a${i}: __typename`)} }`, expected: refused('PARSER_MAX_TOKENS') },
  { name: 'two aliases of one name with different arguments (a merge conflict)', query: '{ a: product(id: "prd_0001") { id } a: product(id: "prd_0002") { id } }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: 'an alias over a field of another type (name: id)', query: '{ product(id: "prd_0001") { name: id name } }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: 'aliases multiplied by doubling fragments', query: doubling(12, 'x: __typename'), expected: refused('MAX_HEIGHT_LIMIT', 'MAX_ROOT_FIELDS_LIMIT', 'MAX_ALIASES_LIMIT') },
  { name: 'a fragment cycle', query: '{ ...A } fragment A on Query { ...B } fragment B on Query { __typename ...A }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a fragment spreading itself', query: '{ ...A } fragment A on Query { __typename ...A }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a fragment cycle through a field', query: '{ user(id: "usr_001") { ...U } } fragment U on User { id orders { edges { node { user { ...U } } } } }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: 'an unused fragment', query: '{ __typename } fragment U on Query { __typename }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a spread of an undefined fragment', query: '{ ...Nowhere }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a fragment on a type that cannot apply', query: '{ ...O } fragment O on Order { id }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a fragment on a type that does not exist', query: '{ ...X } fragment X on Nothing { id }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a fragment defined twice', query: '{ ...A } fragment A on Query { __typename } fragment A on Query { __typename }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: '2^10 copies of products(first: 100) through doubling fragments', query: doubling(10, 'products(first: 100) { edges { node { id name } } }'), expected: refused('MAX_HEIGHT_LIMIT', 'MAX_ROOT_FIELDS_LIMIT') },
  { name: '2^60 fragment expansions', query: doubling(60, '__typename'), expected: refused('MAX_HEIGHT_LIMIT', 'MAX_ROOT_FIELDS_LIMIT') },
  { name: '2^30 expansions below a field', query: doubling(30, 'name', 'Product', '{ product(id: "prd_0001") { ...F30 } }'), expected: refused('MAX_HEIGHT_LIMIT') },
  { name: '2 000 inline fragments of __typename', query: `{ ${repeat(2000, () => '... on Query { __typename }')} }`, expected: refused('PARSER_MAX_TOKENS') },
  { name: '51 @include directives (one over the limit)', query: `{ ${'__typename @include(if: true) '.repeat(51)}}`, expected: refused('MAX_DIRECTIVES_LIMIT') },
  { name: '10 000 @skip directives', query: `{ ${'__typename @skip(if: false) '.repeat(10_000)}}`, expected: refused('PARSER_MAX_TOKENS') },
  { name: 'directives multiplied by doubling fragments', query: doubling(16, '__typename @include(if: true)'), expected: refused('MAX_HEIGHT_LIMIT', 'MAX_ROOT_FIELDS_LIMIT', 'MAX_DIRECTIVES_LIMIT') },
  { name: 'an unknown directive', query: '{ __typename @admin }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a non-repeatable directive repeated', query: '{ __typename @skip(if: false) @skip(if: false) }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: '@include without its argument', query: '{ __typename @include }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: '@include(if: "yes")', query: '{ __typename @include(if: "yes") }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: '@skip on the operation', query: 'query @skip(if: true) { __typename }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: '@deprecated in an operation', query: '{ __typename @deprecated }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a supergraph-only directive (@join__field)', query: '{ product(id: "prd_0001") @join__field(graph: PRODUCTS) { id } }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: 'an authorization directive in an operation (@authenticated)', query: '{ me @authenticated { id } }', expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a query 15 fields deep, signed in (at the limit: served)', query: deepQuery(15), as: 'usr_002', expected: { status: 200, codes: [] } },
];

const TOKEN_SOUPS: Case[] = [
  { name: '300 identical __typename fields (merged into one)', query: `{ ${'__typename '.repeat(300)}}`, expected: ok({ __typename: 'Query' }) },
  // Within the token limit, but comparing every pair of same-named fields is quadratic: graphql-js's own budget for it stops validation.
  { name: '4 998 identical __typename fields (5 000 tokens with the braces, at the token limit)', query: `{ ${'__typename '.repeat(4998)}}`, expected: refused('GRAPHQL_VALIDATION_FAILED') },
  { name: '4 999 __typename (one token over the limit)', query: `{ ${'__typename '.repeat(4999)}}`, expected: refused('PARSER_MAX_TOKENS') },
  { name: '100 000 __typename', query: `{ ${'__typename '.repeat(90_000)}}`, expected: refused('PARSER_MAX_TOKENS') },
  { name: '900 000 commas (commas are not tokens): answered in linear time', query: `{ __typename ${','.repeat(900_000)} }`, expected: ok({ __typename: 'Query' }) },
  { name: '300 000 byte order marks (ignored like whitespace)', query: `{ __typename ${'\ufeff'.repeat(300_000)} }`, expected: ok({ __typename: 'Query' }) },
  { name: '400 000 line breaks', query: `{ __typename ${'\n'.repeat(400_000)} }`, expected: ok({ __typename: 'Query' }) },
  { name: '10 000 punctuators', query: `{ __typename ${'!'.repeat(10_000)} }`, expected: refused('GRAPHQL_PARSE_FAILED') },
  { name: '10 000 spread operators', query: `{ ${'... '.repeat(10_000)} }`, expected: refused('GRAPHQL_PARSE_FAILED') },
  { name: '6 000 variable definitions', query: `query (${repeat(6000, (i) => `$v${i}: Int`)}) { __typename }`, expected: refused('PARSER_MAX_TOKENS') },
  { name: '100 unused variable definitions', query: `query (${repeat(100, (i) => `$v${i}: Int`)}) { __typename }`, expected: refused(...Array(100).fill('GRAPHQL_VALIDATION_FAILED')) },
  { name: 'a list literal of 10 000 items', query: `{ product(id: [${'1,'.repeat(10_000)}]) { id } }`, expected: refused('PARSER_MAX_TOKENS') },
  { name: 'an object literal of 3 000 fields', query: `mutation { placeOrder(input: { ${repeat(3000, (i) => `f${i}: 1`)} }) { id } }`, expected: refused('PARSER_MAX_TOKENS') },
  { name: '3 000 fragment definitions', query: `{ __typename } ${repeat(3000, (i) => `fragment F${i} on Query { __typename }`)}`, expected: refused('PARSER_MAX_TOKENS') },
  { name: '10 000 string literals', query: `{ product(id: ${'"a" '.repeat(10_000)}) { id } }`, expected: refused('GRAPHQL_PARSE_FAILED') },
  { name: '10 000 block strings', query: `{ __typename } ${'"""x""" '.repeat(10_000)}`, expected: refused('GRAPHQL_PARSE_FAILED') },
  { name: 'a soup of 6 000 comments', query: `{ __typename ${'#c\n'.repeat(6000)}}`, expected: refused('PARSER_MAX_TOKENS') },
  { name: '10 000 numbers', query: `{ __typename ${'1 '.repeat(10_000)}}`, expected: refused('GRAPHQL_PARSE_FAILED') },
  { name: '10 000 operations', query: repeat(10_000, (i) => `query Q${i} { __typename }`), expected: refused('PARSER_MAX_TOKENS') },
];

const UNICODE: Case[] = [
  { name: 'a NUL character in the document, outside a string', query: '{ __typename \u0000 }', expected: refused('GRAPHQL_PARSE_FAILED') },
  { name: 'a raw NUL character inside a string literal (GraphQL allows it)', query: '{ product(id: "a\u0000b") { id } }', expected: { status: 200, codes: ['BAD_USER_INPUT'], data: { product: null } } },
  { name: 'an escaped NUL (\\u0000) in an id literal', query: '{ product(id: "prd_0001\\u0000") { id } }', expected: { status: 200, codes: ['BAD_USER_INPUT'], data: { product: null } } },
  { name: 'an escaped NUL in a search literal', query: '{ products(search: "lamp\\u0000") { edges { cursor } } }', expected: { status: 200, codes: ['BAD_USER_INPUT'], data: null } },
  { name: 'a NUL in a product id variable', query: 'query ($v: ID!) { product(id: $v) { id } }', variables: { v: 'prd_\u00000001' }, expected: { status: 200, codes: ['BAD_USER_INPUT'], data: { product: null } } },
  { name: 'a NUL in a user id variable', query: 'query ($v: ID!) { user(id: $v) { id } }', variables: { v: '\u0000' }, expected: { status: 200, codes: ['BAD_USER_INPUT'], data: { user: null } } },
  { name: 'a NUL in an order id variable', query: 'query ($v: ID!) { order(id: $v) { id } }', variables: { v: 'ord_s00001\u0000' }, as: EVERYONE, expected: { status: 200, codes: ['BAD_USER_INPUT'], data: { order: null } } },
  { name: 'a NUL in a search variable', query: 'query ($v: String) { products(search: $v) { edges { cursor } } }', variables: { v: '\u0000' }, expected: { status: 200, codes: ['BAD_USER_INPUT'], data: null } },
  { name: 'a NUL in a cursor variable', query: 'query ($v: String) { products(after: $v) { edges { cursor } } }', variables: { v: 'AQ\u0000' }, expected: { status: 200, codes: ['BAD_USER_INPUT'], data: null } },
  { name: 'a NUL in the id of an order to cancel', query: 'mutation ($v: ID!) { cancelOrder(id: $v) { id } }', variables: { v: 'ord_s00001\u0000' }, as: EVERYONE, expected: { status: 200, codes: ['BAD_USER_INPUT'], data: null } },
  { name: 'a NUL in the product id of an order line', query: 'mutation ($v: ID!) { placeOrder(input: { items: [{ productId: $v, quantity: 1 }] }) { id } }', variables: { v: 'prd_0001\u0000' }, as: 'usr_nul_1', expected: { status: 200, codes: ['BAD_USER_INPUT'], data: null } },
  { name: 'a lone high surrogate in an id variable', query: 'query ($v: ID!) { product(id: $v) { id } }', variables: { v: 'prd_0001\ud800' }, expected: { status: 200, codes: ['BAD_USER_INPUT'], data: { product: null } } },
  { name: 'a lone low surrogate in a search variable', query: 'query ($v: String) { products(search: $v) { edges { cursor } } }', variables: { v: '\udc00lamp' }, expected: { status: 200, codes: ['BAD_USER_INPUT'], data: null } },
  { name: 'a surrogate pair in the wrong order in a user id variable', query: 'query ($v: ID!) { user(id: $v) { id } }', variables: { v: '\udc00\ud800' }, expected: { status: 200, codes: ['BAD_USER_INPUT'], data: { user: null } } },
  { name: 'a lone surrogate in the product id of an order line', query: 'mutation ($v: ID!) { placeOrder(input: { items: [{ productId: $v, quantity: 1 }] }) { id } }', variables: { v: 'prd_0001\udfff' }, as: 'usr_nul_2', expected: { status: 200, codes: ['BAD_USER_INPUT'], data: null } },
  { name: 'an escaped lone surrogate in a literal', query: '{ product(id: "\\ud800") { id } }', expected: refused('GRAPHQL_PARSE_FAILED') },
  { name: 'a raw lone surrogate in a literal', query: '{ product(id: "\ud800") { id } }', expected: refused('GRAPHQL_PARSE_FAILED') },
  { name: 'an emoji (a valid surrogate pair) in an id', query: '{ product(id: "prd_0001😀") { id } }', expected: ok({ product: null }) },
  { name: 'an emoji in a search', query: '{ products(search: "🔥lamp") { edges { cursor } } }', expected: ok({ products: { edges: [] } }) },
  { name: 'a right-to-left override in an id', query: '{ product(id: "\u202e1000_drp") { id } }', expected: ok({ product: null }) },
  { name: 'a right-to-left override in a search', query: '{ products(search: "\u202epmal") { edges { cursor } } }', expected: ok({ products: { edges: [] } }) },
  { name: 'a zero-width space inside an id: not another way to write prd_0001', query: '{ product(id: "prd\u200b_0001") { id } }', expected: ok({ product: null }) },
  { name: 'full-width digits in an id: not prd_0001 (no normalisation)', query: '{ product(id: "prd_\uff10\uff10\uff10\uff11") { id } }', expected: ok({ product: null }) },
  { name: 'a Cyrillic homoglyph in a user id: not usr_001', query: '{ user(id: "us\u0440_001") { id } }', expected: ok({ user: null }) },
  { name: 'a combining accent after an id', query: '{ user(id: "usr_001\u0301") { id } }', expected: ok({ user: null }) },
  { name: 'a byte order mark inside an id', query: '{ user(id: "\ufeffusr_001") { id } }', expected: ok({ user: null }) },
  { name: 'the noncharacter U+FFFF in an id', query: '{ user(id: "usr_001\uffff") { id } }', expected: ok({ user: null }) },
  { name: '128 emoji as an id (256 UTF-16 units: the longest allowed)', query: `{ product(id: "${'😀'.repeat(128)}") { id } }`, expected: ok({ product: null }) },
  { name: '129 emoji as an id (258 UTF-16 units: too long)', query: `{ product(id: "${'😀'.repeat(129)}") { id } }`, expected: { status: 200, codes: ['BAD_USER_INPUT'], data: { product: null } } },
  { name: 'a non-ASCII letter in a field name', query: '{ prodüct(id: "prd_0001") { id } }', expected: refused('GRAPHQL_PARSE_FAILED') },
  { name: 'a non-ASCII letter in an operation name', query: 'query Café { __typename }', expected: refused('GRAPHQL_PARSE_FAILED') },
  { name: 'a Unicode escape in a field name', query: '{ \\u0070roduct(id: "prd_0001") { id } }', expected: refused('GRAPHQL_PARSE_FAILED') },
  { name: 'a line separator (U+2028) between tokens', query: '{ __typename\u2028}', expected: refused('GRAPHQL_PARSE_FAILED') },
  { name: 'a right-to-left override between tokens', query: '{ \u202e__typename }', expected: refused('GRAPHQL_PARSE_FAILED') },
];

/** Raw UTF-8 the JSON body carries inside the id string: decoded as the WHATWG decoder does, so never to the character an overlong form spells. */
const UTF8_BYTES: [name: string, bytes: number[]][] = [
  ['an overlong "/" (C0 AF)', [0xc0, 0xaf]],
  ['an overlong NUL (C0 80)', [0xc0, 0x80]],
  ['a three-byte overlong "/" (E0 80 AF)', [0xe0, 0x80, 0xaf]],
  ['a four-byte overlong "/" (F0 80 80 AF)', [0xf0, 0x80, 0x80, 0xaf]],
  ['a surrogate encoded in UTF-8 (ED A0 80)', [0xed, 0xa0, 0x80]],
  ['a five-byte sequence (F8 88 80 80 80)', [0xf8, 0x88, 0x80, 0x80, 0x80]],
  ['a lone continuation byte (80)', [0x80]],
  ['the byte FF', [0xff]],
  ['a sequence cut short (E2 82)', [0xe2, 0x82]],
  ['a code point past U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
];

interface ArgumentSite {
  /** How the argument is declared in an operation's variables. */
  type: string;
  /** The operation, with `$v` where the argument's value goes. */
  operation: string;
  as: Caller;
}

/**
 * Every argument of every field of the API schema (and every input field), and an operation that
 * reaches it. A test below reads the schema and fails when an argument is missing here.
 */
const ARGUMENT_SITES: Record<string, ArgumentSite> = {
  'Query.order(id)': { type: 'ID!', operation: '{ order(id: $v) { id } }', as: EVERYONE },
  'Query.product(id)': { type: 'ID!', operation: '{ product(id: $v) { id } }', as: EVERYONE },
  'Query.products(first)': { type: 'Int', operation: '{ products(first: $v) { edges { cursor } } }', as: EVERYONE },
  'Query.products(after)': { type: 'String', operation: '{ products(after: $v) { edges { cursor } } }', as: EVERYONE },
  'Query.products(search)': { type: 'String', operation: '{ products(search: $v) { edges { cursor } } }', as: EVERYONE },
  'Query.user(id)': { type: 'ID!', operation: '{ user(id: $v) { id } }', as: EVERYONE },
  'Query.users(first)': { type: 'Int', operation: '{ users(first: $v) { edges { cursor } } }', as: EVERYONE },
  'Query.users(after)': { type: 'String', operation: '{ users(after: $v) { edges { cursor } } }', as: EVERYONE },
  'User.orders(first)': { type: 'Int', operation: '{ user(id: "usr_002") { orders(first: $v) { edges { cursor } } } }', as: EVERYONE },
  'User.orders(after)': { type: 'String', operation: '{ user(id: "usr_002") { orders(after: $v) { edges { cursor } } } }', as: EVERYONE },
  'Mutation.placeOrder(input)': { type: 'PlaceOrderInput!', operation: 'mutation { placeOrder(input: $v) { id } }', as: EVERYONE },
  'Mutation.placeOrder(idempotencyKey)': {
    type: 'String',
    // A product that does not exist: the key is stored with the attempt, which then fails, so nothing changes.
    operation: 'mutation { placeOrder(input: { items: [{ productId: "prd_none", quantity: 1 }] }, idempotencyKey: $v) { status } }',
    as: EVERYONE,
  },
  'PlaceOrderInput.items': { type: '[OrderLineInput!]!', operation: 'mutation { placeOrder(input: { items: $v }) { id } }', as: EVERYONE },
  'OrderLineInput.productId': { type: 'ID!', operation: 'mutation { placeOrder(input: { items: [{ productId: $v, quantity: 1 }] }) { id } }', as: EVERYONE },
  'OrderLineInput.quantity': { type: 'Int!', operation: 'mutation { placeOrder(input: { items: [{ productId: "prd_0001", quantity: $v }] }) { id } }', as: EVERYONE },
  'Mutation.cancelOrder(id)': { type: 'ID!', operation: 'mutation { cancelOrder(id: $v) { id } }', as: EVERYONE },
};

/** The arguments and input fields the API schema has: what ARGUMENT_SITES must cover. */
function argumentsOf(schema: GraphQLSchema): string[] {
  const names: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type)) for (const field of Object.values(type.getFields())) for (const arg of field.args) names.push(`${type.name}.${field.name}(${arg.name})`);
    if (isInputObjectType(type)) for (const field of Object.values(type.getFields())) names.push(`${type.name}.${field.name}`);
  }
  return names.sort();
}

/** SQL an attacker tries in a string: none may match a row, change one, or take time. */
const SQL_STRINGS = [
  "' OR '1'='1",
  "' OR 1=1 --",
  "'; DROP TABLE products; --",
  '"; DROP TABLE users; --',
  "prd_0001' UNION SELECT id, email, name, 1, 1, 'USD', 1 FROM users --",
  "1; UPDATE products SET stock = 0 WHERE ''='",
  "%' OR name ILIKE '%",
  "\\'; DELETE FROM orders WHERE 'a'='a",
  "'||(SELECT pg_sleep(10))||'",
  "usr_001' --",
];

/** What each kind of argument does with a SQL string: a string is data (no match, or a refusal); an Int or an object refuses it. */
function sqlOutcome(site: string, mode: 'literal' | 'variable'): Outcome {
  const wrongType = mode === 'literal' ? refused('GRAPHQL_VALIDATION_FAILED') : refused('BAD_USER_INPUT');
  const outcomes: Record<string, Outcome> = {
    'Query.order(id)': ok({ order: null }),
    'Query.product(id)': ok({ product: null }),
    'Query.products(after)': { status: 200, codes: ['BAD_USER_INPUT'], data: null },
    'Query.products(search)': ok({ products: { edges: [] } }),
    'Query.user(id)': ok({ user: null }),
    'Query.users(after)': { status: 200, codes: ['BAD_USER_INPUT'], data: null },
    'User.orders(after)': { status: 200, codes: ['BAD_USER_INPUT'], data: { user: null } },
    'OrderLineInput.productId': { status: 200, codes: ['BAD_USER_INPUT'], data: null },
    'Mutation.cancelOrder(id)': { status: 200, codes: ['NOT_FOUND'], data: null },
    // A key is the client's opaque text, stored as data: the attempt fails only on its unknown product.
    'Mutation.placeOrder(idempotencyKey)': { status: 200, codes: ['BAD_USER_INPUT'], data: null },
  };
  return outcomes[site] ?? wrongType;
}

const SQL_CASES: (Case & { site: string })[] = Object.entries(ARGUMENT_SITES).flatMap(([site, { type, operation, as }]) =>
  SQL_STRINGS.flatMap((sql, i) =>
    (['literal', 'variable'] as const).map((mode): Case & { site: string } => {
      // placeOrder is limited to 10 calls a minute per user: each case that reaches it places as another user.
      const caller = site.startsWith('OrderLineInput') || site.startsWith('PlaceOrderInput') || site.startsWith('Mutation.placeOrder') ? { sub: `usr_sql_${site.length}_${i}_${mode}`, scopes: CUSTOMER_SCOPES } : as;
      const isMutation = operation.startsWith('mutation');
      const body = isMutation ? operation.slice('mutation '.length) : operation;
      return {
        site,
        name: `${site} as a ${mode}: ${sql}`,
        query: mode === 'literal' ? `${isMutation ? 'mutation ' : ''}${body.replace('$v', JSON.stringify(sql))}` : `${isMutation ? 'mutation' : 'query'} ($v: ${type}) ${body}`,
        variables: mode === 'variable' ? { v: sql } : undefined,
        as: caller,
        expected: sqlOutcome(site, mode),
      };
    }),
  ),
);

describe('hostile operations against the platform', () => {
  let platform: Platform;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    platform = await startPlatform('pglite', {}, { record: true });
  });
  afterAll(() => platform?.close());

  async function headersFor(as: Caller | undefined): Promise<Record<string, string>> {
    if (!as) return {};
    const { sub, scopes } = typeof as === 'string' ? { sub: as, scopes: CUSTOMER_SCOPES } : as;
    const key = `${sub} ${scopes.join(' ')}`;
    if (!tokens.has(key)) tokens.set(key, await platform.issuer.issue(sub, { scopes }));
    return { authorization: `Bearer ${tokens.get(key)}` };
  }

  const run = async ({ query, variables, as, expected }: Case) => observeCase(platform, async () => postGraphql(platform, { query, variables }, await headersFor(as)), expected);

  describe.each([
    ['depth, alias, fragment and directive bombs', BOMBS],
    ['token soups', TOKEN_SOUPS],
  ] as const)('%s', (_category, cases) => {
    it.each(cases)('$name', async (c) => {
      const { actual, wanted } = await run(c);
      expect(actual).toEqual(wanted);
    });

    afterCategory(() => platform);
  });

  describe('unicode', () => {
    it.each(UNICODE)('$name', async (c) => {
      const { actual, wanted } = await run(c);
      expect(actual).toEqual(wanted);
    });

    it.each(UTF8_BYTES)('%s in an id, sent as raw bytes: read as U+FFFD, not as the character it spells', async (_name, bytes) => {
      const before = recordedCounts(platform);
      const body = Buffer.concat([Buffer.from('{"query":"{ product(id: \\"prd_0001'), Buffer.from(bytes), Buffer.from('\\") { id } }"}')]);
      const answer = await sendToGateway(platform, { headers: { 'content-type': 'application/json' }, body });
      expect({ ...outcomeOf(answer, true), leaks: leaksIn(answer.text, platform) }).toEqual({ ...ok({ product: null }), leaks: [] });
      const [sent] = sentSince(platform, before).products;
      expect(sent).toContain('prd_0001\ufffd');
    });

    afterCategory(() => platform);
  });

  describe('SQL strings in every argument of every field', () => {
    it('ARGUMENT_SITES covers every argument and input field of the API schema', () => {
      const schema = apiSchemaOf(readFileSync(join(__dirname, '../../gateway/supergraph.graphql'), 'utf8'));
      expect(Object.keys(ARGUMENT_SITES).sort()).toEqual(argumentsOf(schema));
    });

    it.each(SQL_CASES)('$name', async (c) => {
      const { actual, wanted, elapsedMs } = await run(c);
      expect(actual).toEqual(wanted);
      // pg_sleep(10) would show here had it run.
      expect(elapsedMs).toBeLessThan(5_000);
    });

    afterCategory(() => platform);
  });
});
