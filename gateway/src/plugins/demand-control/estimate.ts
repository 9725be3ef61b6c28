import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  GraphQLError,
  GraphQLSkipDirective,
  GraphQLIncludeDirective,
  isCompositeType,
  isInputObjectType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type ASTNode,
  type DirectiveNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLDirective,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

/** What the estimate reads from the supergraph: its schema and the names @cost and @listSize have in it. */
export interface CostSchema {
  schema: GraphQLSchema;
  cost?: GraphQLDirective;
  listSize?: GraphQLDirective;
  /** Assumed size of a list without @listSize (strategy.static_estimated.list_size). */
  defaultListSize: number;
}

export function costSchema(schema: GraphQLSchema, names: { cost?: string; listSize?: string }, defaultListSize: number): CostSchema {
  return {
    schema,
    cost: names.cost ? (schema.getDirective(names.cost) ?? undefined) : undefined,
    listSize: names.listSize ? (schema.getDirective(names.listSize) ?? undefined) : undefined,
    defaultListSize,
  };
}

/**
 * The highest estimate. Every sum and product stops here, so a huge list size makes an operation too
 * expensive instead of overflowing to Infinity (and 0 × Infinity to NaN, which compares under any maximum).
 */
export const MAX_ESTIMATED_COST = Number.MAX_SAFE_INTEGER;

/** A field's @listSize sizedFields, with the size its slicing arguments gave them. */
interface SizedChildren {
  size: number;
  fields: readonly string[];
}

/** A response path as a linked list: a walk as deep as the operation copies nothing per level. */
interface ResponsePath {
  key: string;
  prev: ResponsePath | undefined;
}

/**
 * Slicing arguments below zero make an operation invalid: a negative `first` would take items off the
 * estimate, so a decoy `products(first: -100000)` beside an expensive selection would bring it under the
 * maximum (and refill the client's cost budget). Run before the estimate.
 *
 * Reads the slicing arguments @listSize names (`first`, or a path into an input object such as
 * `page.first`) on every field the operation reaches, whatever @skip and @include say, each fragment
 * once, with the values execution will see: literals, variables, variables' defaults, fields' defaults.
 * Each error is BAD_USER_INPUT and names the argument, the field and its response path.
 */
export function checkSlicingArguments(
  cost: CostSchema,
  operation: OperationDefinitionNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  variables: Readonly<Record<string, unknown>>,
): GraphQLError[] {
  const { schema, listSize } = cost;
  const root = schema.getRootType(operation.operation);
  if (!listSize || !root) return [];
  const values = operationVariables(schema, operation, variables);
  const errors: GraphQLError[] = [];
  const expanded = new Set<string>();
  // Iterative, in document order: nesting and fragment chains are as deep as the client writes them.
  const stack: { selections: readonly SelectionNode[]; next: number; parent: GraphQLCompositeType; path: ResponsePath | undefined }[] = [
    { selections: operation.selectionSet.selections, next: 0, parent: root, path: undefined },
  ];
  while (stack.length) {
    const frame = stack[stack.length - 1]!;
    const selection = frame.selections[frame.next++];
    if (!selection) {
      stack.pop();
      continue;
    }
    if (selection.kind === Kind.FIELD) {
      const field = fieldOf(frame.parent, selection);
      if (!field) continue;
      const path = { key: selection.alias?.value ?? selection.name.value, prev: frame.path };
      const slicing = slicingPaths(listSizeOf(listSize, field));
      const args = slicing.length ? argumentValues(field, selection, values) : {};
      for (const argument of slicing) {
        const value = valueAt(args, argument);
        if (typeof value === 'number' && !(value >= 0)) {
          const message = `Slicing argument "${argument.join('.')}" of ${frame.parent.name}.${field.name} at "${spell(path)}" must not be negative; got ${value}.`;
          errors.push(new GraphQLError(message, { nodes: selection, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } }));
        }
      }
      const type = getNamedType(field.type);
      if (selection.selectionSet && isCompositeType(type)) stack.push({ selections: selection.selectionSet.selections, next: 0, parent: type, path });
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? compositeType(schema, selection.typeCondition.name.value) : frame.parent;
      if (type) stack.push({ selections: selection.selectionSet.selections, next: 0, parent: type, path: frame.path });
    } else {
      const fragment = fragments[selection.name.value];
      const type = fragment && compositeType(schema, fragment.typeCondition.name.value);
      if (!fragment || !type || expanded.has(fragment.name.value)) continue;
      expanded.add(fragment.name.value);
      stack.push({ selections: fragment.selectionSet.selections, next: 0, parent: type, path: frame.path });
    }
  }
  return errors;
}

/**
 * The static estimated cost of an operation, as the IBM cost directive specification defines it and
 * Apollo Router applies it:
 * - a mutation costs 10 to begin with, a query or subscription 0;
 * - a field costs its type's weight (objects, interfaces and unions 1, scalars and enums 0, unless
 *   `@cost(weight:)` on the field or on its type says otherwise) plus its selections, all times the
 *   number of items it returns when it is a list, plus its arguments;
 * - a list's size is the largest slicing argument given (or its default), else `@listSize(assumedSize:)`,
 *   else list_size; a field named in its parent's `sizedFields` takes the parent's slicing size;
 * - an argument costs its `@cost` weight, an input object 1 plus its fields, a list the sum of its items;
 * - fields skipped by @skip/@include cost nothing, nor does introspection.
 * Router estimates the subgraph fetches of the query plan; this estimates the client's operation, which
 * gives the same figure for our schemas (no @requires) and is known before planning.
 * Each fragment is costed once per place it can differ (its parent's sized fields), so doubling
 * fragments stay linear.
 *
 * Always a whole number from 0 to MAX_ESTIMATED_COST, whatever the operation and schema hold: a negative
 * size or weight counts 0 (checkSlicingArguments refuses negative slicing arguments before this runs), a
 * fractional size rounds up, and sums and products saturate. The walk is iterative, so neither deep
 * selections, long fragment chains nor deep input values can overflow the stack.
 */
export function estimateCost(
  cost: CostSchema,
  operation: OperationDefinitionNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  variables: Readonly<Record<string, unknown>>,
): number {
  const { schema } = cost;
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const values = operationVariables(schema, operation, variables);
  const defaultListSize = units(cost.defaultListSize);
  const fragmentCosts = new Map<string, number>();
  /** Fragments being costed: a spread of one of them again (a cycle, which validation refuses) adds nothing. */
  const expanding = new Set<string>();
  const weights = new Map<ASTNode, number | undefined>();

  const weightOf = (node: ASTNode | null | undefined): number | undefined => {
    if (!cost.cost || !node || !('directives' in node)) return undefined;
    if (!weights.has(node)) {
      const applied = getDirectiveValues(cost.cost, node as { directives?: readonly DirectiveNode[] });
      weights.set(node, applied ? units(applied.weight) : undefined);
    }
    return weights.get(node);
  };

  const included = (node: { directives?: readonly DirectiveNode[] }): boolean => {
    try {
      if (getDirectiveValues(GraphQLSkipDirective, node, values)?.if === true) return false;
      return getDirectiveValues(GraphQLIncludeDirective, node, values)?.if !== false;
    } catch {
      // A missing or bad variable: execution refuses the request; until then, count the field.
      return true;
    }
  };

  /** Additive all the way down, so a worklist suffices: input values are as deep as the client sends them. */
  const inputCost = (value: unknown, type: GraphQLInputType, definition: ASTNode | null | undefined): number => {
    let total = 0;
    const pending = [{ value, type, definition }];
    for (let item = pending.pop(); item; item = pending.pop()) {
      if (item.value === null || item.value === undefined) continue;
      const weight = weightOf(item.definition);
      const nullable = getNullableType(item.type);
      if (isListType(nullable) && Array.isArray(item.value)) {
        total = add(total, weight ?? 0);
        for (const element of item.value) pending.push({ value: element, type: nullable.ofType, definition: item.definition });
      } else if (isInputObjectType(nullable) && typeof item.value === 'object') {
        total = add(total, weight ?? weightOf(nullable.astNode) ?? 1);
        const fields = nullable.getFields();
        for (const [key, element] of Object.entries(item.value as Record<string, unknown>)) {
          const field = fields[key];
          if (field) pending.push({ value: element, type: field.type, definition: field.astNode });
        }
      } else {
        total = add(total, weight ?? 0);
      }
    }
    return total;
  };

  const argumentsCost = (field: GraphQLField<unknown, unknown>, args: Record<string, unknown>): number =>
    field.args.reduce((sum, arg) => (Object.hasOwn(args, arg.name) ? add(sum, inputCost(args[arg.name], arg.type, arg.astNode)) : sum), 0);

  /**
   * A selection set being costed. Its fields, inline fragments and fragments not yet costed push frames
   * of their own, whose `done` adds their cost into this one's total: a post-order walk on the heap.
   */
  interface Frame {
    selections: readonly SelectionNode[];
    next: number;
    parent: GraphQLCompositeType;
    sized: SizedChildren | null;
    total: number;
    done(total: number): void;
  }
  const stack: Frame[] = [];
  const open = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, sized: SizedChildren | null, done: (total: number) => void) =>
    stack.push({ selections: selectionSet.selections, next: 0, parent, sized, total: 0, done });

  let estimate = operation.operation === 'mutation' ? 10 : 0;
  open(operation.selectionSet, root, null, (total) => (estimate = add(estimate, total)));
  while (stack.length) {
    const frame = stack[stack.length - 1]!;
    const selection = frame.selections[frame.next++];
    if (!selection) {
      stack.pop();
      frame.done(frame.total);
      continue;
    }
    if (!included(selection)) continue;
    const addToFrame = (selectionCost: number) => (frame.total = add(frame.total, selectionCost));
    if (selection.kind === Kind.FIELD) {
      const field = fieldOf(frame.parent, selection);
      if (!field) continue;
      const args = argumentValues(field, selection, values);
      const type = getNamedType(field.type);
      const typeWeight = weightOf(field.astNode) ?? weightOf(type.astNode) ?? (isCompositeType(type) ? 1 : 0);
      const listSize = cost.listSize ? listSizeOf(cost.listSize, field) : undefined;
      const ownSize = listSize ? expectedSize(listSize, args) : undefined;
      const isList = isListType(getNullableType(field.type));
      const count = !isList ? 1 : frame.sized?.fields.includes(field.name) ? frame.sized.size : (ownSize ?? defaultListSize);
      const sizedFields = listSize?.sizedFields as string[] | undefined;
      const childSized = sizedFields?.length ? { size: ownSize ?? defaultListSize, fields: sizedFields } : null;
      const ownCost = argumentsCost(field, args);
      const fieldCost = (selections: number) => add(times(count, add(typeWeight, selections)), ownCost);
      if (selection.selectionSet && isCompositeType(type)) open(selection.selectionSet, type, childSized, (selections) => addToFrame(fieldCost(selections)));
      else addToFrame(fieldCost(0));
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? compositeType(schema, selection.typeCondition.name.value) : frame.parent;
      if (type) open(selection.selectionSet, type, frame.sized, addToFrame);
    } else {
      const fragment = fragments[selection.name.value];
      const type = fragment && compositeType(schema, fragment.typeCondition.name.value);
      if (!fragment || !type) continue;
      const key = `${fragment.name.value}|${frame.sized ? `${frame.sized.size}|${frame.sized.fields.join(',')}` : ''}`;
      const known = fragmentCosts.get(key);
      if (known !== undefined) addToFrame(known);
      else if (!expanding.has(key)) {
        expanding.add(key);
        open(fragment.selectionSet, type, frame.sized, (fragmentCost) => {
          expanding.delete(key);
          fragmentCosts.set(key, fragmentCost);
          addToFrame(fragmentCost);
        });
      }
    }
  }
  return estimate;
}

/** A term of the estimate from a number the client or the schema chose: whole (rounded up), 0 when negative or not a number, at most the maximum. */
function units(value: unknown): number {
  if (typeof value !== 'number' || !(value > 0)) return 0;
  return Math.min(Math.ceil(value), MAX_ESTIMATED_COST);
}

const add = (a: number, b: number): number => Math.min(a + b, MAX_ESTIMATED_COST);

const times = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : Math.min(a * b, MAX_ESTIMATED_COST));

/** The slicing size @listSize gives: the largest slicing argument present, else assumedSize. */
function expectedSize(listSize: Record<string, unknown>, args: Record<string, unknown>): number | undefined {
  const given = slicingPaths(listSize)
    .map((path) => valueAt(args, path))
    .filter((value): value is number => typeof value === 'number');
  if (given.length) return units(Math.max(...given));
  return listSize.assumedSize === undefined || listSize.assumedSize === null ? undefined : units(listSize.assumedSize);
}

function listSizeOf(listSize: GraphQLDirective, field: GraphQLField<unknown, unknown>): Record<string, unknown> | undefined {
  return field.astNode ? getDirectiveValues(listSize, field.astNode) : undefined;
}

/** The slicing arguments @listSize names, each a path into the field's arguments: `first`, or `page.first` inside an input object. */
function slicingPaths(listSize: Record<string, unknown> | undefined): string[][] {
  const names = listSize?.slicingArguments;
  return Array.isArray(names) ? names.filter((name): name is string => typeof name === 'string').map((name) => name.split('.')) : [];
}

/** The value at a path into a field's arguments; undefined where the path leaves the input objects given. */
function valueAt(args: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = args;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The schema field a selection reads; undefined for introspection (free) and for fields the schema lacks (validation refuses them). */
function fieldOf(parent: GraphQLCompositeType, node: FieldNode): GraphQLField<unknown, unknown> | undefined {
  if (node.name.value.startsWith('__') || !(isObjectType(parent) || isInterfaceType(parent))) return undefined;
  return parent.getFields()[node.name.value];
}

function compositeType(schema: GraphQLSchema, name: string): GraphQLCompositeType | undefined {
  const type = schema.getType(name);
  return isCompositeType(type) ? type : undefined;
}

function spell(path: ResponsePath | undefined): string {
  const keys: string[] = [];
  for (let at = path; at; at = at.prev) keys.push(at.key);
  return keys.reverse().join('.');
}

/**
 * The operation's variables as execution will see them: coerced, with the operation's own defaults
 * (`$n: Int = -5` never sent is -5). Variables that do not coerce are execution's to refuse; until then
 * the values as sent stand in.
 */
function operationVariables(schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return getVariableValues(schema, operation.variableDefinitions ?? [], variables).coerced ?? { ...variables };
}

/** The field's arguments with variables and defaults applied; variables that do not coerce are execution's to report. */
function argumentValues(field: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>): Record<string, unknown> {
  try {
    return getArgumentValues(field, node, variables);
  } catch {
    return {};
  }
}
