import { createHash } from 'node:crypto';
import {
  getOperationAST,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  getVariableValues,
  NoSchemaIntrospectionCustomRule,
  type DocumentNode,
  type GraphQLSchema,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';

import type { ServedSupergraph } from '../execution/supergraph-gateway';
import type { GraphQLParams, ResolvedOperation } from './context';
import { Refusal } from './plugin';

/** How the core reads documents: the plugins' parser limits and rules, and the schema-hiding settings. */
export interface DocumentReading {
  parseOptions: ParseOptions;
  rules: readonly ValidationRule[];
  explainParseFailure(error: Error, source: string): GraphQLError | undefined;
  introspection: boolean;
}

interface CachedDocument {
  document?: DocumentNode;
  errors?: readonly GraphQLError[];
  queryHash: string;
}

/**
 * Documents kept per supergraph version, by text, the least recently used going first: at most this many
 * and this many characters of text, so that a flood of distinct operations cannot grow the cache. Sized for
 * the few operations real clients send.
 */
const MAX_CACHED_DOCUMENTS = 1000;
const MAX_CACHED_CHARACTERS = 8 * 1024 * 1024;
/** A text longer than this is parsed every time rather than kept (the body limit bounds it anyway). */
const MAX_CACHED_SOURCE_LENGTH = 64 * 1024;
/** At most this many variable errors are reported, as graphql-js's own default. */
const MAX_VARIABLE_ERRORS = 50;

/**
 * Parses and validates an operation text once per supergraph version and keeps the outcome, so a client
 * that repeats an operation costs a map lookup; then resolves the operation and coerces its variables.
 * Every refusal here is a 400 with the spec's codes.
 */
export class OperationReader {
  private readonly cache = new WeakMap<ServedSupergraph, { documents: Map<string, CachedDocument>; characters: number }>();
  private readonly rules: readonly ValidationRule[];

  constructor(private readonly reading: DocumentReading) {
    this.rules = [...reading.rules, ...specifiedRules, ...(reading.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
  }

  read(served: ServedSupergraph, params: GraphQLParams, method: string): ResolvedOperation {
    const source = params.query;
    if (source === undefined || source.trim() === '') throw new Refusal(400, 'BAD_REQUEST', 'GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.');
    const { document, errors, queryHash } = this.document(served, source);
    if (errors) throw new Refusal(400, errors[0]!.extensions.code as string, errors[0]!.message, { errors });
    const operation = getOperationAST(document!, params.operationName);
    if (!operation) {
      const name = params.operationName;
      const message = name ? `Unknown operation named "${name.length > 100 ? `${name.slice(0, 100)}…` : name}".` : 'Must provide operation name if query contains multiple operations.';
      throw new Refusal(400, 'OPERATION_RESOLUTION_FAILURE', message);
    }
    if (operation.operation === 'subscription') throw new Refusal(400, 'BAD_REQUEST', 'Subscriptions are not supported by this gateway.');
    // A GET must not change anything: a link or an <img> could trigger it (GraphQL over HTTP, 6.3).
    if (method === 'GET' && operation.operation !== 'query') {
      throw new Refusal(405, 'METHOD_NOT_ALLOWED', `Can only perform a ${operation.operation} operation from a POST request.`, { headers: { allow: 'POST' } });
    }
    const coerced = getVariableValues(served.apiSchema, operation.variableDefinitions ?? [], params.variables, { maxErrors: MAX_VARIABLE_ERRORS });
    if (coerced.errors) {
      // Coercing a variable suggests enum values and input fields just as validation does.
      const errors = coerced.errors.map((e) => withCode(this.reading.introspection ? e : withoutSuggestions(e), 'BAD_USER_INPUT'));
      throw new Refusal(400, 'BAD_USER_INPUT', errors[0]!.message, { errors });
    }
    return {
      served,
      source,
      queryHash,
      document: document!,
      operation,
      operationName: operation.name?.value,
      type: operation.operation,
      variables: coerced.coerced,
    };
  }

  private document(served: ServedSupergraph, source: string): CachedDocument {
    let cache = this.cache.get(served);
    if (!cache) this.cache.set(served, (cache = { documents: new Map(), characters: 0 }));
    const { documents } = cache;
    const cached = documents.get(source);
    if (cached) {
      // Least recently used goes first: re-insert on every hit.
      documents.delete(source);
      documents.set(source, cached);
      return cached;
    }
    const read = this.parseAndValidate(served.apiSchema, source);
    if (source.length <= MAX_CACHED_SOURCE_LENGTH) {
      documents.set(source, read);
      cache.characters += source.length;
      while (documents.size > MAX_CACHED_DOCUMENTS || cache.characters > MAX_CACHED_CHARACTERS) {
        const oldest = documents.keys().next().value!;
        documents.delete(oldest);
        cache.characters -= oldest.length;
      }
    }
    return read;
  }

  private parseAndValidate(schema: GraphQLSchema, source: string): CachedDocument {
    const queryHash = createHash('sha256').update(source).digest('hex');
    let document: DocumentNode;
    try {
      document = parse(source, this.reading.parseOptions);
    } catch (err) {
      const explained = this.reading.explainParseFailure(err as Error, source);
      if (explained) return { queryHash, errors: [explained] };
      if (err instanceof GraphQLError) return { queryHash, errors: [withCode(err, 'GRAPHQL_PARSE_FAILED')] };
      throw err;
    }
    const errors = validate(schema, document, this.rules);
    if (errors.length > 0) {
      const shown = errors.map((e) => withCode(this.reading.introspection ? e : withoutSuggestions(e), 'GRAPHQL_VALIDATION_FAILED'));
      return { queryHash, errors: shown };
    }
    return { queryHash, document };
  }
}

/** The error with extensions.code set, unless it already has one (a limit's own code). */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code) return error;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, originalError: error.originalError, extensions: { ...error.extensions, code } });
}

/** Without introspection, "Did you mean ...?" would still spell out the schema. */
function withoutSuggestions(error: GraphQLError): GraphQLError {
  const message = error.message.replace(/ ?Did you mean(.+?)\?$/, '');
  if (message === error.message) return error;
  return new GraphQLError(message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: error.extensions });
}

/** What ApolloGateway keys its query-plan cache by for a changed operation: the original text's hash and every change's key. */
export function changedQueryHash(queryHash: string, changes: readonly [plugin: string, cacheKey: string][]): string {
  return createHash('sha256').update(JSON.stringify([queryHash, changes])).digest('hex');
}
