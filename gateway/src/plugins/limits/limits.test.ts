import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { admissionLimitKeys, type OperationLimitsConfig } from './config';
import { lexicalNesting, operationLimitsRule } from './limits';
import { measureDocument } from './measure';

const schema = buildSchema(`
  type Query { a: Int, node: Node, list(values: [Int]): Int }
  type Node { a: Int, node: Node }
`);

/** Every operation limit out of the way (1000) except the ones a test sets. */
const limits = (overrides: Partial<OperationLimitsConfig> = {}): OperationLimitsConfig =>
  admissionLimitKeys.parse({ max_depth: 1000, max_height: 1000, max_aliases: 1000, max_root_fields: 1000, max_directives: 1000, ...overrides });

const errorsOf = (source: string, config: OperationLimitsConfig) =>
  validate(schema, parse(source), [...specifiedRules, operationLimitsRule(config)]).map((e) => ({ message: e.message, extensions: e.extensions }));

const nestedNodes = (depth: number) => `${'node { '.repeat(depth - 1)}a${' }'.repeat(depth - 1)}`;

// Each limit just under and just over its maximum, in both modes, is in plugin.test.ts, through Apollo Server.
describe('the operation limits validation rule', () => {
  it('reports every limit an operation exceeds, in Router’s order', () => {
    const config = limits({ max_depth: 1, max_height: 2, max_aliases: 2, max_root_fields: 2 });
    expect(errorsOf('{ ...F } fragment F on Query { a: a b: a c: a node { a } }', config).map((e) => e.message)).toEqual([
      'Maximum depth limit exceeded in this operation (depth: 2, max_depth: 1)',
      'Maximum height (field count) limit exceeded in this operation (height: 3, max_height: 2)',
      'Maximum root fields limit exceeded in this operation (root_fields: 4, max_root_fields: 2)',
      'Maximum aliases limit exceeded in this operation (aliases: 3, max_aliases: 2)',
    ]);
  });

  it('stops validation on a refusal: no later rule walks the refused document', () => {
    expect(errorsOf(`{ noSuchField ${nestedNodes(6)} }`, limits({ max_depth: 5 })).map((e) => e.extensions.code)).toEqual(['MAX_DEPTH_LIMIT']);
    // Under the limit, graphql-js's own rules run and find the unknown field.
    expect(errorsOf(`{ noSuchField ${nestedNodes(5)} }`, limits({ max_depth: 5 })).map((e) => e.message)).toEqual([
      'Cannot query field "noSuchField" on type "Query".',
    ]);
  });

  it('checks every operation of the document, since Apollo caches documents, not the operation a request selects', () => {
    const errors = errorsOf(`query Small { a } query Deep { ${nestedNodes(3)} }`, limits({ max_depth: 2 }));
    expect(errors.map((e) => e.extensions)).toEqual([{ code: 'MAX_DEPTH_LIMIT', depth: 3, max_depth: 2, http: { status: 400 } }]);
  });

  it('refuses nesting past parser_max_recursion with PARSER_MAX_RECURSION alone, in warn_only mode too', () => {
    const nestedList = (nesting: number) => `{ list(values: ${'['.repeat(nesting - 1)}${']'.repeat(nesting - 1)}) }`;
    for (const warn_only of [false, true]) {
      const config = limits({ parser_max_recursion: 10, max_depth: 1, warn_only });
      expect(errorsOf(nestedList(10), config).map((e) => e.extensions.code)).not.toContain('PARSER_MAX_RECURSION');
      expect(errorsOf(nestedList(11), config)).toEqual([
        {
          message: 'Parser recursion limit exceeded in this document (recursion: 11, parser_max_recursion: 10)',
          extensions: { code: 'PARSER_MAX_RECURSION', recursion: 11, parser_max_recursion: 10, http: { status: 400 } },
        },
      ]);
    }
  });

  it('refuses a fragment cycle with graphql-js’s own message, in warn_only mode too', () => {
    for (const warn_only of [false, true]) {
      expect(errorsOf('{ ...A } fragment A on Query { ...B } fragment B on Query { a ...A }', limits({ warn_only }))).toEqual([
        { message: 'Cannot spread fragment "A" within itself via "B".', extensions: {} },
      ]);
      expect(errorsOf('{ ...A } fragment A on Query { a ...A }', limits({ warn_only })).map((e) => e.message)).toEqual([
        'Cannot spread fragment "A" within itself.',
      ]);
    }
  });
});

describe('nesting counted from tokens, for documents too deep to parse', () => {
  it('agrees with the nesting measured on the parsed document, ignoring brackets in strings and comments', () => {
    for (const source of [
      'query GetProducts { allProducts { ...V delivery { fastestDelivery } } } fragment V on Product { variation { name } }',
      'query($x: [[Int]]) { a(x: [[{ y: [1] }]], s: "{[{[", b: """ {{{ """) # {{{{\n }',
    ]) {
      expect(lexicalNesting(source, 1000)).toBe(measureDocument(parse(source)).recursion);
    }
  });

  it('stops after the token limit, like the parser', () => {
    expect(lexicalNesting('['.repeat(100), 40)).toBe(40);
  });
});
