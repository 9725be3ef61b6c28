import { defaultFieldResolver, isObjectType, type GraphQLSchema } from 'graphql';
import { badInput } from './graphql-util';

/** The longest string a subgraph accepts anywhere in a field's arguments: ids, cursors, search terms. */
export const MAX_ARGUMENT_LENGTH = 256;

/**
 * Bounds every string in every field's arguments (top-level arguments, input object fields, list
 * elements, entity representations), checked before the field's resolver runs, so no resolver and no
 * SQL statement ever sees an unbounded string: a 1 MB search term once held the database for seconds.
 * Applied to the whole schema rather than argument by argument, so a field added later is bounded too.
 */
export function boundStringArguments(schema: GraphQLSchema, maxLength = MAX_ARGUMENT_LENGTH): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.length === 0) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => {
        const overlong = overlongString(args, maxLength);
        if (overlong !== undefined) throw badInput(`${overlong} is longer than ${maxLength} characters`, { argument: overlong });
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}

/** The path of a string over maxLength in a field's arguments, if any; walked without recursion, whatever the nesting. */
function overlongString(args: Record<string, unknown>, maxLength: number): string | undefined {
  const pending: [unknown, string][] = Object.entries(args).map(([name, value]) => [value, name]);
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, path] = next;
    if (typeof value === 'string') {
      if (value.length > maxLength) return path;
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => pending.push([item, `${path}[${i}]`]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) pending.push([item, `${path}.${key}`]);
    }
  }
  return undefined;
}
