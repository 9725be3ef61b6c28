import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { CursorCodec } from './cursors';
import type { Logger } from './logging';

/** ISO-8601 timestamps, shared by every subgraph so the composed type is identical. */
export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An ISO-8601 timestamp in UTC.',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError(`DateTime cannot represent ${String(value)}`);
    return date.toISOString();
  },
  parseValue(value) {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return new Date(ast.value);
  },
});

export const MAX_PAGE_SIZE = 100;

export function pageSize(first: number | null | undefined, fallback = 20): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE}`);
  return n;
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Builds a page from rows fetched with LIMIT first + 1: the extra row only says whether more exist. */
export function toPage<T>(rows: T[], first: number, keyOf: (row: T) => string, cursors: CursorCodec): Page<T> {
  const nodes = rows.slice(0, first);
  const edges = nodes.map((node) => ({ cursor: cursors.encode(keyOf(node)), node }));
  return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
}

export const badInput = (message: string, extensions: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...extensions } });

/**
 * Errors we raised on purpose (a GraphQLError, or any error with a code) reach the client as they are;
 * anything else is an internal failure (a database error, a bug) and is logged in full but shown only
 * as a generic message. Apollo Server wraps an Error thrown outside a resolver (in a plugin, say) in a
 * GraphQLError that keeps its message, so the wrapped original decides, not the wrapper.
 */
export function maskUnexpectedErrors(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const code = formatted.extensions?.code;
    if (code && code !== 'INTERNAL_SERVER_ERROR') return formatted;
    const cause = original instanceof GraphQLError ? original.originalError : original;
    if (original instanceof GraphQLError && (!cause || cause instanceof GraphQLError)) return formatted;
    logger.error({ path: formatted.path, err: cause ?? original }, 'unexpected error');
    return { message: 'internal server error', path: formatted.path, locations: formatted.locations, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
