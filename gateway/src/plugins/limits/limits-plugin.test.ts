import { startTestGateway, type TestAnswer, type TestGateway } from '../../testing/test-gateway';
import type { Decision } from '../../core/context';

const NODES = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { a: Int, node: Node, list(values: [Int]): Int }
  type Node { a: Int, node: Node }
`;
const resolvers = { Query: { a: () => 1, node: () => ({}), list: () => 1 }, Node: { a: () => 1, node: () => ({}) } };

const gateways: TestGateway[] = [];
afterAll(() => Promise.all(gateways.map((g) => g.close())));

/** Every operation limit out of the way (1000) except the ones a test sets; logs kept from warn up. */
async function gatewayWith(limits: Record<string, unknown> = {}) {
  const overrides = { max_depth: 1000, max_height: 1000, max_aliases: 1000, max_root_fields: 1000, max_directives: 1000, ...limits };
  const gateway = await startTestGateway({
    subgraphs: { nodes: { sdl: NODES, resolvers } },
    config: { ...Object.fromEntries(Object.entries(overrides).map(([key, value]) => [`limits.${key}`, value])), 'telemetry.exporters.logging.level': 'warn' },
  });
  gateways.push(gateway);
  /** Posts one operation through the whole gateway: the answer, the decisions its context holds and the limit warnings it logged. */
  return async (query: string): Promise<TestAnswer & { decisions: Decision[]; warnings: Record<string, unknown>[] }> => {
    const logged = gateway.logs.length;
    const answer = await gateway.graphql(query);
    const warnings = gateway.logs.slice(logged).filter((line) => String(line.msg).startsWith('operation limit exceeded'));
    return { ...answer, decisions: gateway.contexts.at(-1)!.decisions, warnings };
  };
}

const repeat = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(' ');
const nested = (levels: number): unknown => (levels === 0 ? { a: 1 } : { node: nested(levels - 1) });

/** A valid operation that measures exactly n by one limit, and the data the subgraph answers it with. */
const operationMeasuring = {
  depth: { query: (n: number) => `{ ${'node { '.repeat(n - 1)}a${' }'.repeat(n - 1)} }`, data: (n: number) => nested(n - 1) },
  height: { query: (n: number) => `{ ${repeat(n - 1, () => 'node { a }')} }`, data: () => ({ node: { a: 1 } }) },
  aliases: { query: (n: number) => `{ node { ${repeat(n, (i) => `a${i}: a`)} } }`, data: (n: number) => ({ node: Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, 1])) }) },
  root_fields: { query: (n: number) => `{ ${repeat(n, (i) => `r${i}: a`)} }`, data: (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`r${i}`, 1])) },
  directives: { query: (n: number) => `{ ${repeat(n, () => 'a @include(if: true)')} }`, data: () => ({ a: 1 }) },
};

const OPERATION_LIMITS = [
  { measure: 'depth', key: 'max_depth', code: 'MAX_DEPTH_LIMIT', message: 'Maximum depth limit exceeded in this operation' },
  { measure: 'height', key: 'max_height', code: 'MAX_HEIGHT_LIMIT', message: 'Maximum height (field count) limit exceeded in this operation' },
  { measure: 'aliases', key: 'max_aliases', code: 'MAX_ALIASES_LIMIT', message: 'Maximum aliases limit exceeded in this operation' },
  { measure: 'root_fields', key: 'max_root_fields', code: 'MAX_ROOT_FIELDS_LIMIT', message: 'Maximum root fields limit exceeded in this operation' },
  { measure: 'directives', key: 'max_directives', code: 'MAX_DIRECTIVES_LIMIT', message: 'Maximum directives limit exceeded in this operation' },
] as const;

describe.each(OPERATION_LIMITS)('limits.$key through the gateway', ({ measure, key, code, message }) => {
  const details = { [measure]: 6, [key]: 5 };
  const refusal = `${message} (${measure}: 6, ${key}: 5)`;
  const { query, data } = operationMeasuring[measure];

  it(`answers an operation at the maximum and refuses one past it: 400 ${code} with the measured value and the maximum, an enforced decision`, async () => {
    const send = await gatewayWith({ [key]: 5 });
    const atMax = await send(query(5));
    expect([atMax.status, atMax.body, atMax.decisions]).toEqual([200, { data: data(5) }, []]);

    const past = await send(query(6));
    expect(past.status).toBe(400);
    expect(past.body).toEqual({ errors: [{ message: refusal, extensions: { code, ...details } }] });
    expect(past.decisions).toEqual([{ stage: 'admission', code, enforced: true, message: refusal, details }]);
  });

  it('in warn_only mode answers one past it, logs a warning and records a decision that was not enforced, for cached documents too', async () => {
    const send = await gatewayWith({ [key]: 5, warn_only: true });
    expect((await send(query(5))).decisions).toEqual([]);
    // The second request reuses the document the core parsed and validated for the first.
    for (let request = 0; request < 2; request++) {
      const past = await send(query(6));
      expect([past.status, past.body]).toEqual([200, { data: data(6) }]);
      expect(past.decisions).toEqual([{ stage: 'admission', code, enforced: false, message: refusal, details }]);
      expect(past.warnings).toEqual([expect.objectContaining({ level: 'warn', code, ...details, msg: `operation limit exceeded (warn_only): ${refusal}` })]);
    }
  });
});

describe('parser limits through the gateway, enforced in warn_only mode too', () => {
  it.each([false, true])('parser_max_tokens: a document of exactly that many tokens is parsed, the next token refused (warn_only: %s)', async (warn_only) => {
    const send = await gatewayWith({ parser_max_tokens: 10, warn_only });
    // { a a a a a a a a } is 10 tokens.
    expect(await send(`{ ${'a '.repeat(8)}}`)).toMatchObject({ status: 200, body: { data: { a: 1 } } });
    const past = await send(`{ ${'a '.repeat(9)}}`);
    const message = 'Parser token limit exceeded: parsing stopped at token 11 (tokens: 11, parser_max_tokens: 10)';
    expect([past.status, past.body]).toEqual([400, { errors: [{ message, extensions: { code: 'PARSER_MAX_TOKENS', tokens: 11, parser_max_tokens: 10 } }] }]);
    expect(past.decisions).toEqual([{ stage: 'admission', code: 'PARSER_MAX_TOKENS', enforced: true, message, details: { tokens: 11, parser_max_tokens: 10 } }]);
  });

  it('comments, which graphql-js does not count as tokens, have the same maximum of their own', async () => {
    const send = await gatewayWith({ parser_max_tokens: 10 });
    expect(await send(`{ a ${'#\n'.repeat(10)}}`)).toMatchObject({ status: 200, body: { data: { a: 1 } } });
    const past = await send(`{ a ${'#\n'.repeat(11)}}`);
    const message = 'Parser token limit exceeded: parsing stopped at comment 11 (comments: 11, parser_max_tokens: 10)';
    expect([past.status, past.body]).toEqual([400, { errors: [{ message, extensions: { code: 'PARSER_MAX_TOKENS', comments: 11, parser_max_tokens: 10 } }] }]);
  });

  it.each([false, true])('parser_max_recursion: nesting at the maximum is read, one deeper refused (warn_only: %s)', async (warn_only) => {
    const send = await gatewayWith({ parser_max_recursion: 5, warn_only });
    // Nested as deep as allowed, the value only fails graphql-js's own validation ([Int] is one list deep).
    const atMax = await send('{ list(values: [[[[1]]]]) }');
    expect([atMax.status, atMax.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)]).toEqual([400, ['GRAPHQL_VALIDATION_FAILED']]);
    const past = await send('{ list(values: [[[[[1]]]]]) }');
    const message = 'Parser recursion limit exceeded in this document (recursion: 6, parser_max_recursion: 5)';
    expect([past.status, past.body]).toEqual([400, { errors: [{ message, extensions: { code: 'PARSER_MAX_RECURSION', recursion: 6, parser_max_recursion: 5 } }] }]);
    expect(past.decisions).toEqual([{ stage: 'admission', code: 'PARSER_MAX_RECURSION', enforced: true, message, details: { recursion: 6, parser_max_recursion: 5 } }]);
  });

  // Lists, object values and selection sets: whichever nests, graphql-js's recursive parser would overflow its stack.
  it.each([
    ['list values', `{ list(values: ${'['.repeat(20_000)}${']'.repeat(20_000)}) }`],
    ['object values', `{ list(values: ${'{a: '.repeat(20_000)}1${'}'.repeat(20_000)}) }`],
    ['selection sets', `{ ${'node { '.repeat(20_000)}a${' }'.repeat(20_000)} }`],
  ])('%s nested deeper than graphql-js’s parser can follow are refused with PARSER_MAX_RECURSION and their real nesting', async (_shape, query) => {
    const send = await gatewayWith({ parser_max_tokens: 100_000 });
    const past = await send(query);
    const message = 'Parser recursion limit exceeded in this document (recursion: 20001, parser_max_recursion: 500)';
    expect([past.status, past.body]).toEqual([400, { errors: [{ message, extensions: { code: 'PARSER_MAX_RECURSION', recursion: 20001, parser_max_recursion: 500 } }] }]);
    // The gateway still answers the next operation.
    expect((await send('{ a }')).body).toEqual({ data: { a: 1 } });
  });
});

describe('what the limits leave alone', () => {
  it('other syntax and validation errors keep their codes, and no decision is recorded', async () => {
    const send = await gatewayWith();
    const syntax = await send('{ a');
    expect([syntax.status, syntax.body, syntax.decisions]).toEqual([
      400,
      { errors: [{ message: 'Syntax Error: Expected Name, found <EOF>.', locations: [{ line: 1, column: 4 }], extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] },
      [],
    ]);
    const invalid = await send('{ b }');
    expect([invalid.status, invalid.body, invalid.decisions]).toEqual([
      400,
      { errors: [{ message: 'Cannot query field "b" on type "Query". Did you mean "a"?', locations: [{ line: 1, column: 3 }], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] },
      [],
    ]);
  });
});
