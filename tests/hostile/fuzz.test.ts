import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
} from 'graphql';
import { apiSchemaOf } from '@switchyard/schema-tools';
import { EVERY_SERVICE_ANSWERS, leaksIn, sendToGateway, typenames } from '../support/hostile';
import { CUSTOMER_SCOPES, startPlatform, type Platform } from '../support/platform';

/**
 * A seeded generative fuzzer on the real platform: operations built from the supergraph's API schema
 * (valid and invalid fields, arguments, variables of the right and the wrong types, fragments,
 * directives, aliases) and bodies of any shape (JSON of any kind, GraphQL-ish token soups, random
 * bytes and content types), under each kind of caller. Whatever is sent, the gateway answers it with a
 * status under 500 and a JSON body that reports no internal failure and leaks nothing, and every
 * service keeps answering.
 *
 * The real platform rather than the in-process harness: real resolvers, SQL and the subgraphs' own
 * HTTP servers are where a hostile value turns into a 500 (a NUL in an id once failed the SQL
 * statement), which stand-in resolvers would never show; a run costs a few milliseconds either way.
 *
 * FUZZ_SEED replays a run (the seed a failure prints); FUZZ_RUNS scales it.
 */
/** Support staff who also place orders: every field of the schema answers them. */
const STAFF_SCOPES = ['users:read', 'orders:read', 'orders:read:any', 'orders:write'];

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_101);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const schema = apiSchemaOf(readFileSync(join(__dirname, '../../gateway/supergraph.graphql'), 'utf8'));

/** Strings a hostile or broken client sends: real ids, SQL, Unicode of every kind (lone surrogates and NUL included), long ones. */
const stringValue = fc.oneof(
  fc.constantFrom('prd_0001', 'prd_0200', 'usr_002', 'usr_003', 'ord_s00001', 'ord_s00002', 'lamp', '', ' ', '%', '_', "' OR '1'='1", "'; DROP TABLE products; --", '\u0000', '\ud800', '\u202e', '😀'),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 20 }),
  fc.string({ minLength: 250, maxLength: 300 }),
  fc.base64String({ maxLength: 80 }),
);
const intValue = fc.oneof(fc.integer({ min: -5, max: 105 }), fc.constantFrom(0, -1, 1000, 1001, 2 ** 31 - 1, -(2 ** 31)), fc.integer());
const jsonValue = fc.jsonValue({ maxDepth: 3 });

/** The random material an operation is built from: a stream of choices (shrinking toward 0, the plainest) and pools of values. */
const operationMaterial = fc.record({
  choices: fc.array(fc.nat(), { maxLength: 300 }),
  strings: fc.array(stringValue, { minLength: 1, maxLength: 6 }),
  ints: fc.array(intValue, { minLength: 1, maxLength: 6 }),
  json: fc.array(jsonValue, { minLength: 1, maxLength: 4 }),
  caller: fc.record({
    kind: fc.oneof(
      { arbitrary: fc.constant('customer' as const), weight: 4 },
      { arbitrary: fc.constant('staff' as const), weight: 3 },
      { arbitrary: fc.constant('anonymous' as const), weight: 2 },
      { arbitrary: fc.constant('forged token' as const), weight: 1 },
    ),
    // One of the 25 seeded users: placeOrder allows each user 10 calls a minute, and a fuzzer stuck at RATE_LIMITED tests nothing.
    user: fc.integer({ min: 1, max: 25 }).map((n) => `usr_${String(n).padStart(3, '0')}`),
  }),
});
type Material = typeof operationMaterial extends fc.Arbitrary<infer T> ? T : never;

/** Reads decisions off the stream; past its end every decision is the plainest (0). */
class Choices {
  private next = 0;
  constructor(private readonly material: Material) {}

  below(n: number): number {
    return n <= 1 ? 0 : (this.material.choices[this.next++] ?? 0) % n;
  }

  /** True in about `percent` of cases; never once the stream is exhausted, so shrinking takes away the unusual (keep it the rarer branch). */
  chance(percent: number): boolean {
    return this.below(100) >= 100 - percent;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.below(list.length)]!;
  }

  string = () => this.pick(this.material.strings);
  int = () => this.pick(this.material.ints);
  json = () => this.pick(this.material.json);
}

const WRONG_LITERALS = ['1', '"x"', 'true', 'null', '[1]', '{ a: 1 }', '1.5', 'PLACED', '$undefined'];
const OTHER_TYPES = ['Int', 'Int!', 'String', 'ID!', 'Boolean', '[Int]', '[ID!]!', 'Float', 'PlaceOrderInput!', 'OrderStatus', 'Nope'];

/**
 * One operation from the API schema, built as the choices say: mostly valid, with invalid fields,
 * arguments, selections and variables mixed in, so both the refusals and the execution paths are walked.
 */
function buildOperation(c: Choices): { query: string; variables: Record<string, unknown> } {
  const definitions: string[] = [];
  const variables: Record<string, unknown> = {};
  const fragments: string[] = [];

  // Mostly one to three items; sometimes none.
  const listLength = () => (c.chance(5) ? 0 : 1 + c.below(3));

  const literalFor = (type: GraphQLInputType): string => {
    if (isNonNullType(type)) return literalFor(type.ofType);
    if (isListType(type)) return c.chance(20) ? literalFor(type.ofType) : `[${Array.from({ length: listLength() }, () => literalFor(type.ofType)).join(', ')}]`;
    if (isInputObjectType(type)) {
      const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type) || c.chance(50));
      return `{ ${fields.map((f) => `${f.name}: ${literalFor(f.type)}`).join(', ')} }`;
    }
    if (isEnumType(type)) return c.pick(type.getValues()).name;
    if (type.name === 'Int') return String(c.int());
    if (type.name === 'Boolean') return c.chance(50) ? 'true' : 'false';
    if (type.name === 'Float') return String(c.int() / 7);
    return JSON.stringify(c.string());
  };

  const jsonFor = (type: GraphQLInputType): unknown => {
    if (isNonNullType(type)) return jsonFor(type.ofType);
    if (isListType(type)) return c.chance(20) ? jsonFor(type.ofType) : Array.from({ length: listLength() }, () => jsonFor(type.ofType));
    if (isInputObjectType(type)) {
      return Object.fromEntries(Object.values(type.getFields()).filter((f) => isNonNullType(f.type) || c.chance(50)).map((f) => [f.name, jsonFor(f.type)]));
    }
    if (isEnumType(type)) return c.pick(type.getValues()).name;
    if (type.name === 'Int') return c.int();
    if (type.name === 'Boolean') return c.chance(50);
    return c.string();
  };

  const argumentValue = (type: GraphQLInputType): string => {
    if (c.chance(30)) {
      const name = `v${definitions.length}`;
      definitions.push(`$${name}: ${c.chance(15) ? c.pick(OTHER_TYPES) : String(type)}`);
      if (!c.chance(5)) variables[name] = c.chance(15) ? c.json() : jsonFor(type);
      return `$${name}`;
    }
    if (!c.chance(12)) return literalFor(type);
    return c.chance(50) ? JSON.stringify(c.string()) : c.pick(WRONG_LITERALS);
  };

  const fieldSelection = (field: GraphQLField<unknown, unknown>, depth: number): string => {
    const args = field.args.filter((arg) => (isNonNullType(arg.type) ? !c.chance(5) : c.chance(50))).map((arg) => `${arg.name}: ${argumentValue(arg.type)}`);
    if (c.chance(5)) args.push(`bogus: ${literalFor(c.pick([schema.getType('Int'), schema.getType('String')]) as GraphQLInputType)}`);
    const alias = c.chance(10) ? `a${c.below(5)}: ` : '';
    const directive = c.chance(10) ? ` @${c.pick(['include', 'skip'])}(if: ${c.chance(30) ? argumentValue(schema.getType('Boolean') as GraphQLInputType) : c.pick(['true', 'false'])})` : '';
    const named = getNamedType(field.type);
    let sub = '';
    if (isCompositeType(named)) sub = c.chance(3) ? '' : ` ${selectionSet(named, depth + 1)}`;
    else if (c.chance(3)) sub = ' { id }';
    return `${alias}${field.name}${args.length > 0 ? `(${args.join(', ')})` : ''}${directive}${sub}`;
  };

  const selectionSet = (type: GraphQLNamedType, depth: number): string => {
    if (!isObjectType(type)) return '{ __typename }';
    const fields = Object.values(type.getFields());
    const selections = Array.from({ length: 1 + c.below(3) }, () => {
      if (c.chance(4)) return c.pick(['nope', '__typename', '__schema { queryType { name } }', 'email', 'stock']);
      const field = depth >= 2 + c.below(6) ? fields.find((f) => isScalarType(getNamedType(f.type))) ?? fields[0]! : c.pick(fields);
      const selection = fieldSelection(field, depth);
      if (c.chance(8)) return `... on ${c.chance(10) ? c.pick(['Query', 'User', 'Order', 'Product']) : type.name} { ${selection} }`;
      if (c.chance(5)) {
        const name = `F${fragments.length}`;
        fragments.push(`fragment ${name} on ${type.name} { ${selection} }`);
        return `...${name}`;
      }
      return selection;
    });
    return `{ ${selections.join(' ')} }`;
  };

  const mutation = c.chance(25);
  const root = (mutation ? schema.getMutationType() : schema.getQueryType()) as GraphQLObjectType;
  const body = selectionSet(root, 0);
  const header = `${mutation ? 'mutation' : 'query'}${definitions.length > 0 ? ` (${definitions.join(', ')})` : ''}`;
  return { query: [`${header} ${body}`, ...fragments].join('\n'), variables };
}

/** Error codes that report the platform failing, not the request being refused. */
const INTERNAL_FAILURES: ReadonlySet<string> = new Set(['INTERNAL_SERVER_ERROR', 'SUBREQUEST_HTTP_ERROR', 'SERVICE_UNAVAILABLE']);

/** Operations as the counterexample of a failure prints them: the text, the variables and the caller. */
const operations = operationMaterial.map((material) => ({ ...buildOperation(new Choices(material)), caller: material.caller }));

/** Header values fetch can send (Latin-1 without controls). */
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 60 });
const headersOf = (...names: string[]) => fc.dictionary(fc.constantFrom(...names), headerValue, { maxKeys: 3 });
/** Headers that do not decide who is calling, for operations: most of them should reach execution. */
const plainHeaders = headersOf('accept', 'x-request-id', 'apollographql-client-name', 'apollographql-client-version', 'apollo-require-preflight', 'x-forwarded-for');
/** Any header a client sends, credentials included, for bodies of any shape. */
const anyHeaders = headersOf('accept', 'authorization', 'x-api-key', 'cookie', 'x-request-id', 'apollographql-client-name', 'apollo-require-preflight', 'x-forwarded-for');

const tokenSoup = fc
  .array(fc.constantFrom('{', '}', '(', ')', '[', ']', '...', 'query', 'mutation', 'fragment F on Query', 'on', '$v', ':', '!', '=', '@include(if: true)', '"x"', '"""y"""', '1', '-1.5e3', 'product', 'products', 'me', 'user', 'order', 'placeOrder', 'id', 'name', 'email', 'first', 'after', 'search', 'input', 'items', ',', '#c\n', '\u0000', '\ufeff'), { maxLength: 60 })
  .map((tokens) => tokens.join(' '));

/** Every UTF-8 byte of the text percent-encoded (encodeURIComponent throws on a lone surrogate, which encodes as U+FFFD here). */
const percentEncoded = (text: string) => [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');

/** A request of any shape to the GraphQL endpoint. */
const anyRequest = fc.oneof(
  fc.record({ contentType: fc.constant('application/json'), body: jsonValue.map((v) => JSON.stringify(v)) }),
  fc.record({
    contentType: fc.constant('application/json'),
    body: fc
      .record({ query: fc.oneof(tokenSoup, stringValue, jsonValue), variables: fc.oneof(jsonValue, fc.dictionary(fc.string({ maxLength: 5 }), jsonValue)), operationName: fc.oneof(stringValue, jsonValue), extensions: jsonValue }, { requiredKeys: [] })
      .map((params) => JSON.stringify(params)),
  }),
  fc.record({ contentType: fc.constantFrom('application/json', 'text/plain', 'application/graphql', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16'), body: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)) }),
  fc.record({ contentType: fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/graphql-response+json', '*/*'), body: fc.string({ unit: 'binary', maxLength: 300 }) }),
  fc.record({ method: fc.constant('GET'), search: fc.oneof(tokenSoup, stringValue, fc.string({ maxLength: 60 })).map((text) => `?query=${percentEncoded(text)}`) }),
  fc.record({ method: fc.constant('GET'), search: fc.string({ maxLength: 80 }).map((text) => `?${text.replace(/#/g, '')}`) }),
);

describe('fuzzing the gateway on the real platform', () => {
  let platform: Platform;
  const tokens = new Map<string, string>();

  /** The caller's credentials: a customer's or staff's token for the user, a forged one, or none. */
  async function credentials({ kind, user }: Material['caller']): Promise<Record<string, string>> {
    if (kind === 'anonymous') return {};
    const key = `${kind === 'staff' ? 'staff' : 'customer'} ${user}`;
    if (!tokens.has(key)) tokens.set(key, await platform.issuer.issue(user, { scopes: kind === 'staff' ? STAFF_SCOPES : CUSTOMER_SCOPES }));
    const token = tokens.get(key)!;
    return { authorization: `Bearer ${kind === 'forged token' ? `${token.slice(0, token.lastIndexOf('.'))}.AAAA` : token}` };
  }

  beforeAll(async () => {
    platform = await startPlatform('pglite', {}, { record: true });
  });
  afterAll(() => platform?.close());

  /**
   * The answer must be a JSON body under 500 that names nothing internal and reports no internal failure
   * (a masked error or a failed subgraph fetch is a 500 in all but its status); what it says otherwise is
   * the request's business.
   */
  function judge(answer: { status: number; text: string; body: any }): void {
    const codes: string[] = (Array.isArray(answer.body?.errors) ? answer.body.errors : []).map((e: { extensions?: { code?: string } }) => e.extensions?.code);
    expect({
      status: answer.status < 500 ? 'under 500' : answer.status,
      json: answer.body !== undefined,
      internalFailures: codes.filter((code) => INTERNAL_FAILURES.has(code)),
      leaks: leaksIn(answer.text, platform),
    }).toEqual({ status: 'under 500', json: true, internalFailures: [], leaks: [] });
  }

  it(`${RUNS} random operations from the API schema (seed ${SEED}) are each answered under 500 without an internal failure, and leak nothing`, async () => {
    await fc.assert(
      fc.asyncProperty(operations, plainHeaders, async ({ query, variables, caller }, headers) => {
        const answer = await sendToGateway(platform, {
          headers: { ...headers, 'content-type': 'application/json', ...(await credentials(caller)) },
          body: JSON.stringify({ query, variables }),
        });
        judge(answer);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(await typenames(platform)).toEqual(EVERY_SERVICE_ANSWERS);
  });

  it(`${RUNS} random bodies, bytes and query strings (seed ${SEED}) are each answered under 500 without an internal failure, and leak nothing`, async () => {
    await fc.assert(
      fc.asyncProperty(anyRequest, anyHeaders, async (request, headers) => {
        const { contentType, ...rest } = request as { contentType?: string; body?: string | Buffer; method?: string; search?: string };
        const answer = await sendToGateway(platform, { ...rest, headers: { ...headers, ...(contentType && { 'content-type': contentType }) } });
        judge(answer);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(await typenames(platform)).toEqual(EVERY_SERVICE_ANSWERS);
  });
});
