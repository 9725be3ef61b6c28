import {
  getNamedType,
  isAbstractType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { ResolvedOperation } from '../../core/context';

/** An answer with more tags than this is tagged by its types alone: a Cache-Tag header has a size limit. */
const MAX_TAGS = 200;

/**
 * What an answer is about, for invalidation and Cache-Tag: every object type in it (`Product`) and every
 * object that has an `id` the operation selected (`Product:p1`). Walked alongside the selection, so it
 * needs no `__typename` for object types; an interface or union without one tags the abstract type.
 */
export function tagsOf(schema: GraphQLSchema, operation: ResolvedOperation, data: unknown): string[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of operation.document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const types = new Set<string>();
  const keys = new Set<string>();

  const walk = (declared: GraphQLCompositeType, selectionSet: SelectionSetNode, value: unknown): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      for (const item of value) walk(declared, selectionSet, item);
      return;
    }
    const object = value as Record<string, unknown>;
    const typename = object.__typename;
    const named = isAbstractType(declared) && typeof typename === 'string' ? schema.getType(typename) : undefined;
    const type = named && isObjectType(named) ? named : declared;
    types.add(type.name);
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const responseKey = selection.alias?.value ?? name;
        if (name === 'id' && isObjectType(type) && (typeof object[responseKey] === 'string' || typeof object[responseKey] === 'number')) keys.add(`${type.name}:${object[responseKey]}`);
        const field = isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
        const fieldType = field && getNamedType(field.type);
        if (selection.selectionSet && fieldType && isCompositeType(fieldType)) walk(fieldType, selection.selectionSet, object[responseKey]);
        continue;
      }
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
      if (!fragment) continue;
      const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : type;
      if (!condition || !isCompositeType(condition)) continue;
      // A fragment on another object type than the one known is not this object's.
      if (isObjectType(type) && isObjectType(condition) && condition !== type) continue;
      walk(isObjectType(type) ? type : condition, fragment.selectionSet, object);
    }
  };

  const root = schema.getRootType(operation.type);
  if (root) walk(root, operation.operation.selectionSet, data);
  types.delete(root?.name ?? '');
  const tags = [...types].sort();
  return keys.size + tags.length > MAX_TAGS ? tags : [...tags, ...[...keys].sort()];
}
