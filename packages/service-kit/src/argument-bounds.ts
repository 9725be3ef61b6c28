import { defaultFieldResolver, isObjectType, type GraphQLSchema } from 'graphql';
import { badInput } from './graphql-util';

/** The longest string a subgraph accepts anywhere in a field's arguments: ids, cursors, search terms. */
export const MAX_ARGUMENT_LENGTH = 256;

/** U+0000, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const NOT_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether a string can be stored and compared as it is: PostgreSQL text cannot hold U+0000 (the
 * statement fails), and a lone surrogate is not Unicode text at all (the driver's UTF-8 encoding turns
 * it into U+FFFD, silently another string). GraphQL's own lexer refuses a lone surrogate in a literal;
 * a variable can still carry one.
 */
export function isStorableText(value: string): boolean {
  return !NOT_TEXT.test(value);
}

/**
 * Bounds every string in every field's arguments (top-level arguments, input object fields, list
 * elements, entity representations), checked before the field's resolver runs, so no resolver and no
 * SQL statement ever sees an unbounded string (a 1 MB search term once held the database for seconds)
 * or one the database cannot store (a NUL failed the statement: an internal error for a client's typo).
 * Applied to the whole schema rather than argument by argument, so a field added later is bounded too.
 */
export function boundStringArguments(schema: GraphQLSchema, maxLength = MAX_ARGUMENT_LENGTH): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.length === 0) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => {
        const refused = refusedString(args, maxLength);
        if (refused) throw badInput(`${refused.path} ${refused.reason}`, { argument: refused.path });
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}

/** The path of a string in a field's arguments that is too long or not storable, if any; walked without recursion, whatever the nesting. */
function refusedString(args: Record<string, unknown>, maxLength: number): { path: string; reason: string } | undefined {
  const pending: [unknown, string][] = Object.entries(args).map(([name, value]) => [value, name]);
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, path] = next;
    if (typeof value === 'string') {
      if (value.length > maxLength) return { path, reason: `is longer than ${maxLength} characters` };
      if (!isStorableText(value)) return { path, reason: 'contains U+0000 or a lone surrogate, which are not text' };
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => pending.push([item, `${path}[${i}]`]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) pending.push([item, `${path}.${key}`]);
    }
  }
  return undefined;
}
