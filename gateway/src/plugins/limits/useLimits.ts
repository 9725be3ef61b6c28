import type { GatewayPlugin } from '../../core/plugin';
import type { OperationLimitsConfig } from './config';
import { exceededOperationLimits, lexicalNesting, operationLimitsRule, parserRecursionError, parserTokensError } from './limits';
import { measureDocument } from './measure';

/**
 * Operation limits under Apollo Router's names and codes (limits.max_depth, parser_max_tokens, ...):
 * - graphql-js counts tokens and comments while parsing and stops at the maximum, so a 1 MB token soup
 *   is never parsed whole (it does not count comments as tokens, so they get the same maximum of their own);
 * - the limits run as the first validation rule, before graphql-js's own (OverlappingFieldsCanBeMerged is
 *   quadratic on alias floods), so a refused document is never walked by them;
 * - in warn_only, an operation over a limit is logged and recorded, and runs.
 */
export function useLimits(config: OperationLimitsConfig): GatewayPlugin {
  const max = config.parser_max_tokens;
  return {
    name: 'limits',
    stage: 'admission',
    // maxTokens, not 16.15's alias maxLexicalTokens: an older graphql 16 would silently ignore the new name.
    parseOptions: { maxTokens: max, maxComments: max } as GatewayPlugin['parseOptions'],
    validationRules: [operationLimitsRule(config)],
    explainParseFailure(error, source) {
      // graphql-js's wording for its maxTokens and maxComments aborts ("more that" is its typo in 16.15).
      const aborted = /^Syntax Error: Document contains more tha[nt] \d+ (tokens|comments)\. Parsing aborted\.$/.exec(error.message);
      if (aborted) return parserTokensError(aborted[1] as 'tokens' | 'comments', max);
      // graphql-js's parser has no recursion limit: a deep enough document overflows its stack.
      if (error instanceof RangeError) return parserRecursionError(lexicalNesting(source, max), config.parser_max_recursion);
      return undefined;
    },
    onOperation(context, { document, operation, operationName }) {
      if (!config.warn_only) return;
      const measured = measureDocument(document).operations.find((o) => o.node === operation);
      if (!measured) return;
      for (const warning of exceededOperationLimits(measured.measure, config)) {
        context.decisions.push({ stage: 'admission', code: warning.code, enforced: false, message: warning.message, details: warning.details });
        context.logger.warn({ code: warning.code, ...warning.details, operationName }, `operation limit exceeded (warn_only): ${warning.message}`);
      }
    },
  };
}

