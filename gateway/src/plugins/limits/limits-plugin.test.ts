import { ApolloServer, HeaderMap } from '@apollo/server';
import { ANONYMOUS } from '@switchyard/service-kit';
import pino from 'pino';
import type { Decision, RequestContext } from '../../core/context';
import { admissionLimitKeys, type OperationLimitsConfig } from './config';
import { operationLimitsPlugin, operationLimitsServerOptions } from '../../admission/plugin';

const typeDefs = `
  type Query { a: Int, node: Node, list(values: [Int]): Int }
  type Node { a: Int, node: Node }
`;
const resolvers = { Query: { a: () => 1, node: () => ({}) }, Node: { a: () => 1, node: () => ({}) } };

/** Every operation limit out of the way (1000) except the ones a test sets. */
const limits = (overrides: Partial<OperationLimitsConfig> = {}): OperationLimitsConfig =>
  admissionLimitKeys.parse({ max_depth: 1000, max_height: 1000, max_aliases: 1000, max_root_fields: 1000, max_directives: 1000, ...overrides });

interface Answer {
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions: Record<string, unknown> }[] };
  decisions: Decision[];
  warnings: Record<string, unknown>[];
}

/** An Apollo Server wired as the gateway wires the limits; send() posts one operation over its HTTP entry point. */
async function serve(config: OperationLimitsConfig) {
  const apollo = new ApolloServer<RequestContext>({
    typeDefs,
    resolvers,
    includeStacktraceInErrorResponses: false,
    ...operationLimitsServerOptions(config),
    plugins: [operationLimitsPlugin(config)],
  });
  await apollo.start();
  servers.push(apollo);
  return async (query: string): Promise<Answer> => {
    const warnings: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) });
    const context: RequestContext = {
      requestId: 'req-1',
      clientAddress: '127.0.0.1',
      principal: ANONYMOUS,
      logger,
      deadline: Date.now() + 30_000,
      signal: new AbortController().signal,
      decisions: [],
    };
    const res = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers: new HeaderMap([['content-type', 'application/json']]), search: '', body: { query } },
      context: async () => context,
    });
    if (res.body.kind !== 'complete') throw new Error('expected a complete response');
    return { status: res.status ?? 200, body: JSON.parse(res.body.string), decisions: context.decisions, warnings };
  };
}
const servers: ApolloServer<RequestContext>[] = [];
afterAll(() => Promise.all(servers.map((s) => s.stop())));

const repeat = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(' ');

/** A valid operation that measures exactly n by one limit. */
const operationMeasuring = {
  depth: (n: number) => `{ ${'node { '.repeat(n - 1)}a${' }'.repeat(n - 1)} }`,
  height: (n: number) => `{ ${repeat(n - 1, () => 'node { a }')} }`,
  aliases: (n: number) => `{ node { ${repeat(n, (i) => `a${i}: a`)} } }`,
  root_fields: (n: number) => `{ ${repeat(n, (i) => `r${i}: a`)} }`,
  directives: (n: number) => `{ ${repeat(n, () => 'a @include(if: true)')} }`,
};

const OPERATION_LIMITS = [
  { measure: 'depth', key: 'max_depth', code: 'MAX_DEPTH_LIMIT', message: 'Maximum depth limit exceeded in this operation' },
  { measure: 'height', key: 'max_height', code: 'MAX_HEIGHT_LIMIT', message: 'Maximum height (field count) limit exceeded in this operation' },
  { measure: 'aliases', key: 'max_aliases', code: 'MAX_ALIASES_LIMIT', message: 'Maximum aliases limit exceeded in this operation' },
  { measure: 'root_fields', key: 'max_root_fields', code: 'MAX_ROOT_FIELDS_LIMIT', message: 'Maximum root fields limit exceeded in this operation' },
  { measure: 'directives', key: 'max_directives', code: 'MAX_DIRECTIVES_LIMIT', message: 'Maximum directives limit exceeded in this operation' },
] as const;

describe.each(OPERATION_LIMITS)('$key through Apollo Server', ({ measure, key, code, message }) => {
  const details = { [measure]: 6, [key]: 5 };
  const refusal = `${message} (${measure}: 6, ${key}: 5)`;

  it(`answers an operation at the maximum and refuses one past it: 400 ${code} with the measured value and the maximum, an enforced decision`, async () => {
    const send = await serve(limits({ [key]: 5 }));
    const atMax = await send(operationMeasuring[measure](5));
    expect(atMax.status).toBe(200);
    expect(atMax.body.errors).toBeUndefined();
    expect(atMax.decisions).toEqual([]);

    const past = await send(operationMeasuring[measure](6));
    expect(past.status).toBe(400);
    expect(past.body).toEqual({ errors: [{ message: refusal, extensions: { code, ...details } }] });
    expect(past.decisions).toEqual([{ stage: 'admission', code, enforced: true, message: refusal, details }]);
  });

  it('in warn_only mode answers one past it, logs a warning and records a decision that was not enforced, for cached documents too', async () => {
    const send = await serve(limits({ [key]: 5, warn_only: true }));
    expect((await send(operationMeasuring[measure](5))).decisions).toEqual([]);
    // The second request is served from Apollo's document cache, without parsing or validation.
    for (let request = 0; request < 2; request++) {
      const past = await send(operationMeasuring[measure](6));
      expect(past.status).toBe(200);
      expect(past.body.errors).toBeUndefined();
      expect(past.body.data).toBeDefined();
      expect(past.decisions).toEqual([{ stage: 'admission', code, enforced: false, message: refusal, details }]);
      expect(past.warnings).toEqual([expect.objectContaining({ level: 40, code, ...details, msg: `operation limit exceeded (warn_only): ${refusal}` })]);
    }
  });
});

describe('parser limits through Apollo Server, enforced in warn_only mode too', () => {
  it.each([false, true])('parser_max_tokens: a document of exactly that many tokens is parsed, the next token refused (warn_only: %s)', async (warn_only) => {
    const send = await serve(limits({ parser_max_tokens: 10, warn_only }));
    // { a a a a a a a a } is 10 tokens.
    expect((await send(`{ ${'a '.repeat(8)}}`)).status).toBe(200);
    const past = await send(`{ ${'a '.repeat(9)}}`);
    expect(past.status).toBe(400);
    const message = 'Parser token limit exceeded: parsing stopped at token 11 (tokens: 11, parser_max_tokens: 10)';
    expect(past.body.errors).toEqual([{ message, locations: [{ line: 1, column: 21 }], extensions: { code: 'PARSER_MAX_TOKENS', tokens: 11, parser_max_tokens: 10 } }]);
    expect(past.decisions).toEqual([{ stage: 'admission', code: 'PARSER_MAX_TOKENS', enforced: true, message, details: { tokens: 11, parser_max_tokens: 10 } }]);
  });

  it('comments, which graphql-js does not count as tokens, have the same maximum of their own', async () => {
    const send = await serve(limits({ parser_max_tokens: 10 }));
    expect((await send(`{ a ${'#\n'.repeat(10)}}`)).status).toBe(200);
    const past = await send(`{ a ${'#\n'.repeat(11)}}`);
    expect(past.status).toBe(400);
    expect(past.body.errors![0]!.extensions).toEqual({ code: 'PARSER_MAX_TOKENS', comments: 11, parser_max_tokens: 10 });
  });

  it.each([false, true])('parser_max_recursion: nesting at the maximum is answered, one deeper refused (warn_only: %s)', async (warn_only) => {
    const send = await serve(limits({ parser_max_recursion: 5, warn_only }));
    expect((await send(`{ list(values: [[[[1]]]]) }`)).body.errors![0]!.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const past = await send(`{ list(values: [[[[[1]]]]]) }`);
    expect(past.status).toBe(400);
    expect(past.body.errors).toEqual([
      {
        message: 'Parser recursion limit exceeded in this document (recursion: 6, parser_max_recursion: 5)',
        extensions: { code: 'PARSER_MAX_RECURSION', recursion: 6, parser_max_recursion: 5 },
      },
    ]);
  });

  it('a document nested deeper than graphql-js’s parser can follow is refused with PARSER_MAX_RECURSION and its real nesting', async () => {
    const send = await serve(limits({ parser_max_tokens: 100_000 }));
    const past = await send(`{ list(values: ${'['.repeat(20_000)}${']'.repeat(20_000)}) }`);
    expect(past.status).toBe(400);
    expect(past.body.errors).toEqual([
      {
        message: 'Parser recursion limit exceeded in this document (recursion: 20001, parser_max_recursion: 500)',
        extensions: { code: 'PARSER_MAX_RECURSION', recursion: 20001, parser_max_recursion: 500 },
      },
    ]);
  });
});

describe('what the limits leave alone', () => {
  it('other syntax and validation errors keep Apollo’s codes, and no decision is recorded', async () => {
    const send = await serve(limits());
    const syntax = await send('{ a');
    expect([syntax.status, syntax.body.errors![0]!.extensions.code, syntax.decisions]).toEqual([400, 'GRAPHQL_PARSE_FAILED', []]);
    const invalid = await send('{ b }');
    expect([invalid.status, invalid.body.errors![0]!.extensions.code, invalid.decisions]).toEqual([400, 'GRAPHQL_VALIDATION_FAILED', []]);
  });
});
