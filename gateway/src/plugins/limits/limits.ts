import { GraphQLError, Lexer, Source, TokenKind, type ValidationRule } from 'graphql';
import type { OperationLimitsConfig } from './config';
import { measureDocument, type DocumentMeasure, type OperationMeasure } from './measure';

/** A refusal (or, in warn_only, a warning) that names what was measured and the maximum it broke. */
export class OperationLimitError extends GraphQLError {
  constructor(
    readonly code: string,
    message: string,
    /** The measured value under its measure's name and the maximum under its config key, e.g. { depth: 200, max_depth: 15 }. */
    readonly details: Record<string, number>,
  ) {
    super(message, { extensions: { code, ...details, http: { status: 400 } } });
  }
}

/** Apollo Router's codes and messages for its operation limits; max_directives follows the same pattern. */
const OPERATION_LIMITS = [
  { measure: 'depth', key: 'max_depth', code: 'MAX_DEPTH_LIMIT', message: 'Maximum depth limit exceeded in this operation' },
  { measure: 'height', key: 'max_height', code: 'MAX_HEIGHT_LIMIT', message: 'Maximum height (field count) limit exceeded in this operation' },
  { measure: 'root_fields', key: 'max_root_fields', code: 'MAX_ROOT_FIELDS_LIMIT', message: 'Maximum root fields limit exceeded in this operation' },
  { measure: 'aliases', key: 'max_aliases', code: 'MAX_ALIASES_LIMIT', message: 'Maximum aliases limit exceeded in this operation' },
  { measure: 'directives', key: 'max_directives', code: 'MAX_DIRECTIVES_LIMIT', message: 'Maximum directives limit exceeded in this operation' },
] as const;

/** One error per operation limit the measure exceeds, in Router's order. */
export function exceededOperationLimits(measure: OperationMeasure, config: OperationLimitsConfig): OperationLimitError[] {
  return OPERATION_LIMITS.filter((limit) => measure[limit.measure] > config[limit.key]).map((limit) => {
    const measured = measure[limit.measure];
    const max = config[limit.key];
    return new OperationLimitError(limit.code, `${limit.message} (${limit.measure}: ${measured}, ${limit.key}: ${max})`, {
      [limit.measure]: measured,
      [limit.key]: max,
    });
  });
}

export function parserRecursionError(recursion: number, max: number): OperationLimitError {
  return new OperationLimitError(
    'PARSER_MAX_RECURSION',
    `Parser recursion limit exceeded in this document (recursion: ${recursion}, parser_max_recursion: ${max})`,
    { recursion, parser_max_recursion: max },
  );
}

/** Parsing stops at the first token (or comment) past the maximum, so that is the count measured. */
export function parserTokensError(kind: 'tokens' | 'comments', max: number): OperationLimitError {
  const what = kind === 'tokens' ? 'token' : 'comment';
  return new OperationLimitError(
    'PARSER_MAX_TOKENS',
    `Parser token limit exceeded: parsing stopped at ${what} ${max + 1} (${kind}: ${max + 1}, parser_max_tokens: ${max})`,
    { [kind]: max + 1, parser_max_tokens: max },
  );
}

/**
 * What a document is refused for, in the order a parser-based implementation would find it: nesting
 * first (Router checks it while parsing), then fragment cycles (invalid whatever the limits), then
 * every operation limit any operation exceeds. All operations are checked, not only the one a request
 * selects, because Apollo caches a validated document by its text and serves it to later requests
 * that may select another operation without validating again.
 */
export function documentRefusals(measure: DocumentMeasure, config: OperationLimitsConfig): GraphQLError[] {
  if (measure.recursion > config.parser_max_recursion) return [parserRecursionError(measure.recursion, config.parser_max_recursion)];
  if (measure.fragmentCycle) {
    // graphql-js's own wording (NoFragmentCyclesRule), which this refusal stands in for.
    const [first, ...through] = measure.fragmentCycle.slice(0, -1);
    const via = through.length > 0 ? ` via ${through.map((name) => `"${name}"`).join(', ')}` : '';
    return [new GraphQLError(`Cannot spread fragment "${first}" within itself${via}.`)];
  }
  if (config.warn_only) return [];
  const worst: OperationMeasure = { depth: 0, height: 0, aliases: 0, root_fields: 0, directives: 0 };
  for (const { measure: op } of measure.operations) {
    for (const key of Object.keys(worst) as (keyof OperationMeasure)[]) worst[key] = Math.max(worst[key], op[key]);
  }
  return exceededOperationLimits(worst, config);
}

/**
 * The limits as a validation rule, so they run inside Apollo's validation step: a refusal there is a
 * 400 (one thrown from parsingDidStart or validationDidStart is a 500), and documents in Apollo's
 * document cache are ones that passed. The whole check runs when the traversal enters the Document,
 * before any other rule has descended into it; on a refusal the rule returns null, which graphql-js's
 * visitor treats as removing the node, so no later rule (OverlappingFieldsCanBeMerged is quadratic on
 * alias floods) walks a refused document at all.
 */
export function operationLimitsRule(config: OperationLimitsConfig): ValidationRule {
  return (context) => ({
    Document(document) {
      const refusals = documentRefusals(measureDocument(document), config);
      if (refusals.length === 0) return undefined;
      for (const refusal of refusals) context.reportError(refusal);
      return null;
    },
  });
}

/**
 * graphql-js's parser has no recursion limit: a document nested a few thousand levels deep overflows
 * its stack, and Apollo answers with the RangeError's message. For that case only, this recounts the
 * nesting from the tokens (graphql-js's own lexer; braces and brackets are exactly the selection sets,
 * object and list values and list types that measureDocument counts on a parsed document), stopping
 * after maxTokens tokens like the parser would, so it stays linear.
 */
export function lexicalNesting(source: string, maxTokens: number): number {
  const lexer = new Lexer(new Source(source));
  let nesting = 0;
  let deepest = 0;
  try {
    for (let token = lexer.advance(), count = 1; token.kind !== TokenKind.EOF && count <= maxTokens; token = lexer.advance(), count++) {
      if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L) deepest = Math.max(deepest, ++nesting);
      else if (token.kind === TokenKind.BRACE_R || token.kind === TokenKind.BRACKET_R) nesting -= 1;
    }
  } catch {
    // A lexing error past the overflow point: the nesting counted so far is what overflowed the parser.
  }
  return deepest;
}
