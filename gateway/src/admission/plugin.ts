import type { ApolloServerOptionsWithGateway, ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { RequestContext } from '../context';
import type { OperationLimitsConfig } from './config';
import { exceededOperationLimits, lexicalNesting, OperationLimitError, operationLimitsRule, parserRecursionError, parserTokensError } from './limits';
import { measureDocument } from './measure';

const STAGE = 'admission';

/**
 * What the ApolloServer constructor needs besides the plugin: graphql-js counts tokens while parsing
 * and stops at the limit (so a 1 MB token soup is never parsed whole), and the limits rule runs first
 * thing in validation. graphql-js does not count comments as tokens (a 1 MB soup of comments took
 * 570 ms to parse under a 5000-token limit), so comments get the same maximum of their own.
 *
 * Keep Apollo's maxRecursiveSelections option off: with it on, Apollo moves validationRules to a
 * second validation pass that runs only after graphql-js's own rules.
 */
export function operationLimitsServerOptions(
  config: OperationLimitsConfig,
): Required<Pick<ApolloServerOptionsWithGateway<RequestContext>, 'parseOptions' | 'validationRules'>> {
  const max = config.parser_max_tokens;
  return {
    // maxTokens, not 16.15's alias maxLexicalTokens: an older graphql 16 would silently ignore the new name.
    parseOptions: { maxTokens: max, maxComments: max },
    validationRules: [operationLimitsRule(config)],
  };
}

/**
 * The admission stage's operation limits around Apollo's parse and validation:
 * - refusals leave Apollo as GRAPHQL_PARSE_FAILED or GRAPHQL_VALIDATION_FAILED (400); this gives them
 *   back their own code (PARSER_MAX_TOKENS, MAX_DEPTH_LIMIT, ...) and records each as an enforced decision;
 * - in warn_only, every request whose operation exceeds a limit is logged and recorded, including
 *   requests whose document Apollo serves from its cache without validating it again.
 */
export function operationLimitsPlugin(config: OperationLimitsConfig): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, operationName, contextValue }) {
          if (!config.warn_only || !operation) return;
          const measured = measureDocument(document).operations.find((o) => o.node === operation);
          if (!measured) return;
          for (const warning of exceededOperationLimits(measured.measure, config)) {
            contextValue.decisions.push({ stage: STAGE, code: warning.code, enforced: false, message: warning.message, details: warning.details });
            contextValue.logger.warn({ code: warning.code, ...warning.details, operationName }, `operation limit exceeded (warn_only): ${warning.message}`);
          }
        },

        async willSendResponse({ errors, source, response, contextValue }) {
          if (!errors || response.body.kind !== 'single' || !response.body.singleResult.errors) return;
          const refusals = errors.map((error) => asLimitRefusal(error, source, config));
          if (!refusals.some(Boolean)) return;
          response.body.singleResult.errors = response.body.singleResult.errors.map((formatted, i) => {
            const refusal = refusals[i];
            if (!refusal) return formatted;
            contextValue.decisions.push({ stage: STAGE, code: refusal.code, enforced: true, message: refusal.message, details: refusal.details });
            return withRefusal(formatted, refusal);
          });
        },
      };
    },
  };
}

/**
 * The limit behind an error Apollo reports, if any. Apollo formats errors one for one, so the i-th
 * error here is the i-th error in the response.
 */
function asLimitRefusal(error: unknown, source: string | undefined, config: OperationLimitsConfig): OperationLimitError | null {
  // Not every entry is a GraphQLError, whatever the types say: Apollo Gateway passes on what a subgraph fetch threw (ECONNREFUSED, say).
  if (!(error instanceof GraphQLError)) return null;
  const cause = error.originalError;
  if (cause instanceof OperationLimitError) return cause;
  if (error.extensions.code !== 'GRAPHQL_PARSE_FAILED' || !cause) return null;
  // Apollo wraps what parse() threw in a GraphQLError when it was not one (a RangeError, say).
  const thrown = cause instanceof GraphQLError && cause.originalError ? cause.originalError : cause;
  // graphql-js's wording for its maxTokens and maxComments aborts ("more that" is its typo in 16.15).
  const aborted = /^Syntax Error: Document contains more tha[nt] \d+ (tokens|comments)\. Parsing aborted\.$/.exec(thrown.message);
  if (aborted) return parserTokensError(aborted[1] as 'tokens' | 'comments', config.parser_max_tokens);
  if (thrown instanceof RangeError && source !== undefined) {
    return parserRecursionError(lexicalNesting(source, config.parser_max_tokens), config.parser_max_recursion);
  }
  return null;
}

function withRefusal(formatted: GraphQLFormattedError, refusal: OperationLimitError): GraphQLFormattedError {
  return { ...formatted, message: refusal.message, extensions: { ...formatted.extensions, code: refusal.code, ...refusal.details } };
}
