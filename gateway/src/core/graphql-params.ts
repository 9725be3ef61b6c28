import type { GraphQLParams } from './context';
import { Refusal } from './plugin';

/** The GraphQL-over-HTTP parameter names; any other is ignored, as the spec allows. */
const PARAMS = ['query', 'operationName', 'variables', 'extensions'] as const;

/**
 * Variables nested deeper than this are refused before anything walks them: no input type of a real
 * schema nests this far, and a 300 000-deep JSON value overflows any recursive reader (a cache key, a
 * logger, a coercion) further on.
 */
export const MAX_VARIABLES_DEPTH = 64;

const badRequest = (message: string) => new Refusal(400, 'BAD_REQUEST', message);

/**
 * Reads the GraphQL parameters of a GET from the raw request target, once. Ambiguous targets are refused
 * rather than read one way here and another way elsewhere: a fragment (a client never sends `#`, and URL
 * parsers drop what follows it), a parameter given twice, or one that is not valid percent-encoding.
 */
export function paramsFromQueryString(target: string): GraphQLParams {
  if (target.includes('#')) throw badRequest('The request target must not contain "#".');
  const search = target.indexOf('?') < 0 ? '' : target.slice(target.indexOf('?') + 1);
  const values = new Map<string, string>();
  for (const pair of search.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeComponent(eq < 0 ? '' : pair.slice(eq + 1));
    if (!(PARAMS as readonly string[]).includes(name)) continue;
    if (values.has(name)) throw badRequest(`The parameter "${name}" is given more than once.`);
    values.set(name, value);
  }
  return checked({
    query: values.get('query'),
    operationName: values.get('operationName'),
    variables: jsonParam(values.get('variables'), 'variables'),
    extensions: jsonParam(values.get('extensions'), 'extensions'),
  });
}

/** Reads the GraphQL parameters of a POST from its JSON body (already parsed by the HTTP server), once. */
export function paramsFromBody(body: unknown): GraphQLParams {
  if (Array.isArray(body)) throw badRequest('Batched operations are not supported: send one operation per request.');
  if (typeof body !== 'object' || body === null) throw badRequest('The body must be a JSON object with a "query" or a persisted query id.');
  const fields = body as Record<string, unknown>;
  return checked({
    query: fields.query,
    operationName: fields.operationName,
    variables: fields.variables,
    extensions: fields.extensions,
  });
}

function checked(raw: Record<'query' | 'operationName' | 'variables' | 'extensions', unknown>): GraphQLParams {
  if (raw.query !== undefined && raw.query !== null && typeof raw.query !== 'string') throw badRequest('"query" must be a string.');
  if (raw.operationName !== undefined && raw.operationName !== null && typeof raw.operationName !== 'string') {
    throw badRequest('"operationName" must be a string or null.');
  }
  const variables = objectOrNull(raw.variables, 'variables');
  const extensions = objectOrNull(raw.extensions, 'extensions');
  if (depthExceeds(variables, MAX_VARIABLES_DEPTH)) throw badRequest(`"variables" are nested deeper than ${MAX_VARIABLES_DEPTH} levels.`);
  if (depthExceeds(extensions, MAX_VARIABLES_DEPTH)) throw badRequest(`"extensions" are nested deeper than ${MAX_VARIABLES_DEPTH} levels.`);
  return {
    query: typeof raw.query === 'string' ? raw.query : undefined,
    // An empty operationName is no name, as graphql-js reads it.
    operationName: typeof raw.operationName === 'string' && raw.operationName !== '' ? raw.operationName : undefined,
    variables,
    extensions,
  };
}

function objectOrNull(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`"${name}" must be a JSON object.`);
  return value as Record<string, unknown>;
}

function jsonParam(text: string | undefined, name: string): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest(`"${name}" is not valid JSON.`);
  }
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw badRequest('The query string is not valid percent-encoding.');
  }
}

/** Whether a JSON value nests deeper than max: iterative, so no depth can overflow the stack. */
export function depthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
