import {
  getDirectiveValues,
  getNamedType,
  GraphQLError,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isAbstractType,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { DenialExplanation } from './explain';
import { TYPENAME_KEY } from './prune';

export const UNAUTHORIZED = 'UNAUTHORIZED_FIELD_OR_TYPE';

export function unauthorizedError(path: readonly (string | number)[], explanation?: DenialExplanation): GraphQLError {
  return new GraphQLError(explanation?.message ?? 'Unauthorized field or type', { path, extensions: { code: UNAUTHORIZED, ...explanation?.extensions } });
}

/** A removed selection (a field, or a fragment on a type the caller may not see) where the client sees it. */
export interface Removal {
  path: (string | number)[];
  node: object;
}

interface Walk {
  schema: GraphQLSchema;
  fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  removed: ReadonlySet<object>;
  variables: Readonly<Record<string, unknown>>;
  /** Removed selections at their response paths, in response order. */
  removals: Removal[];
}

/** Marks a non-null value that became null: its parent must become null too (GraphQL's null propagation). */
const BUBBLE = Symbol('null bubbles up');

/**
 * Puts back into an executed result what the client asked for and the pruned operation left out: null
 * at every removed field, with null propagating past non-null types as execution would have done, the
 * placeholder `__typename`s stripped. Walks the original operation beside the data, so paths (list
 * indices included) are the ones the client sees. Returns the removed selections at their paths.
 */
export function completeResponse(
  data: Record<string, unknown> | null | undefined,
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  removed: ReadonlySet<object>,
  variables: Readonly<Record<string, unknown>>,
): { data: Record<string, unknown> | null | undefined; removals: Removal[] } {
  const root = schema.getRootType(operation.operation);
  if (!data || !root) return { data, removals: [] };
  const walk: Walk = { schema, fragments, removed, variables, removals: [] };
  const completed = completeObject(walk, root, data, [operation.selectionSet], []);
  return { data: completed, removals: walk.removals };
}

function completeValue(walk: Walk, type: GraphQLOutputType, value: unknown, selectionSets: SelectionSetNode[], path: (string | number)[]): unknown {
  if (value === null || value === undefined) return value;
  if (isNonNullType(type)) {
    const inner = completeValue(walk, type.ofType, value, selectionSets, path);
    return inner === null || inner === BUBBLE ? BUBBLE : inner;
  }
  if (isListType(type)) {
    if (!Array.isArray(value)) return value;
    let bubbled = false;
    for (let i = 0; i < value.length; i++) {
      const item = completeValue(walk, type.ofType, value[i], selectionSets, [...path, i]);
      if (item === BUBBLE) bubbled = true;
      else value[i] = item;
    }
    return bubbled ? null : value;
  }
  if (isCompositeType(type) && typeof value === 'object') return completeObject(walk, type, value as Record<string, unknown>, selectionSets, path);
  return value;
}

function completeObject(
  walk: Walk,
  type: GraphQLCompositeType,
  object: Record<string, unknown>,
  selectionSets: SelectionSetNode[],
  path: (string | number)[],
): Record<string, unknown> | null {
  const runtimeName = isAbstractType(type) ? object[TYPENAME_KEY] : type.name;
  const runtime = typeof runtimeName === 'string' ? walk.schema.getType(runtimeName) : undefined;
  delete object[TYPENAME_KEY];
  if (!isObjectType(runtime)) return object;
  const fields = new Map<string, { nodes: FieldNode[]; removed?: FieldNode }>();
  const collect = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (!included(walk, selection)) continue;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const entry = fields.get(key) ?? { nodes: [] };
        entry.nodes.push(selection);
        if (walk.removed.has(selection)) entry.removed ??= selection;
        fields.set(key, entry);
        continue;
      }
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : walk.fragments.get(selection.name.value);
      if (!fragment) continue;
      const condition: GraphQLNamedType | null | undefined = fragment.typeCondition ? walk.schema.getType(fragment.typeCondition.name.value) : runtime;
      const applies = condition === runtime || (condition && isAbstractType(condition) && walk.schema.isSubType(condition, runtime));
      if (!applies) continue;
      // A removed fragment's fields are simply absent; its error is at the object it would have applied to.
      if (walk.removed.has(selection)) walk.removals.push({ path, node: selection });
      else collect(fragment.selectionSet);
    }
  };
  for (const selectionSet of selectionSets) collect(selectionSet);
  let bubbled = false;
  for (const [key, { nodes, removed }] of fields) {
    const name = nodes[0]!.name.value;
    if (name === '__typename') continue;
    const field = runtime.getFields()[name];
    if (!field) continue;
    if (removed) {
      object[key] = null;
      walk.removals.push({ path: [...path, key], node: removed });
      if (isNonNullType(field.type)) bubbled = true;
      continue;
    }
    if (!isCompositeType(getNamedType(field.type)) || !(key in object)) continue;
    const childSets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
    const value = completeValue(walk, field.type, object[key], childSets, [...path, key]);
    if (value === BUBBLE) {
      object[key] = null;
      bubbled = true;
    } else object[key] = value;
  }
  return bubbled ? null : object;
}

/** @skip and @include, evaluated as execution does, so a skipped removed field is not reported. */
function included(walk: Walk, node: { directives?: readonly { name: { value: string } }[] }): boolean {
  if (!node.directives?.length) return true;
  const skip = getDirectiveValues(GraphQLSkipDirective, node as FieldNode, walk.variables as Record<string, unknown>);
  if (skip?.if === true) return false;
  const include = getDirectiveValues(GraphQLIncludeDirective, node as FieldNode, walk.variables as Record<string, unknown>);
  return include?.if !== false;
}

/**
 * The removed selections and their paths without executing (for reject_unauthorized): response keys
 * without list indices, every fragment followed whatever its type condition.
 */
export function removedPaths(
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  removed: ReadonlySet<object>,
  variables: Readonly<Record<string, unknown>>,
): Removal[] {
  const walk = { variables } as Walk;
  const removals: Removal[] = [];
  const visitSet = (selectionSet: SelectionSetNode, path: string[], spread: ReadonlySet<string>) => {
    for (const selection of selectionSet.selections) {
      if (!included(walk, selection)) continue;
      if (selection.kind === Kind.FIELD) {
        const at = [...path, selection.alias?.value ?? selection.name.value];
        if (removed.has(selection)) removals.push({ path: at, node: selection });
        else if (selection.selectionSet) visitSet(selection.selectionSet, at, spread);
      } else if (removed.has(selection)) {
        removals.push({ path, node: selection });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visitSet(selection.selectionSet, path, spread);
      } else {
        const fragment = fragments.get(selection.name.value);
        // Validation forbids cycles; the set only guards against a document that skipped it.
        if (fragment && !spread.has(fragment.name.value)) visitSet(fragment.selectionSet, path, new Set([...spread, fragment.name.value]));
      }
    }
  };
  visitSet(operation.selectionSet, [], new Set());
  return removals;
}
