import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getNullableType,
  GraphQLSkipDirective,
  GraphQLIncludeDirective,
  isCompositeType,
  isInputObjectType,
  isListType,
  isObjectType,
  isInterfaceType,
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

/** A field's @listSize sizedFields, with the size its slicing arguments gave them. */
interface SizedChildren {
  size: number;
  fields: readonly string[];
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
 */
export function estimateCost(
  cost: CostSchema,
  operation: OperationDefinitionNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  variables: Readonly<Record<string, unknown>>,
): number {
  const { schema } = cost;
  const fragmentCosts = new Map<string, number>();

  const weightOf = (node: ASTNode | null | undefined): number | undefined => {
    if (!cost.cost || !node || !('directives' in node)) return undefined;
    const values = getDirectiveValues(cost.cost, node as { directives?: readonly DirectiveNode[] }, variables);
    return values ? Number(values.weight) : undefined;
  };

  const included = (node: { directives?: readonly DirectiveNode[] }): boolean => {
    try {
      if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
      return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
    } catch {
      // A missing or bad variable: execution refuses the request; until then, count the field.
      return true;
    }
  };

  const selectionSetCost = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, sized: SizedChildren | null): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (!included(selection)) continue;
      if (selection.kind === 'Field') {
        total += fieldCost(selection, parent, sized);
      } else if (selection.kind === 'InlineFragment') {
        const type = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType | undefined) : parent;
        if (type) total += selectionSetCost(selection.selectionSet, type, sized);
      } else {
        const fragment = fragments[selection.name.value];
        const type = fragment && (schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined);
        if (!fragment || !type) continue;
        const key = `${fragment.name.value}|${sized ? `${sized.size}|${sized.fields.join(',')}` : ''}`;
        let fragmentCost = fragmentCosts.get(key);
        if (fragmentCost === undefined) {
          fragmentCost = selectionSetCost(fragment.selectionSet, type, sized);
          fragmentCosts.set(key, fragmentCost);
        }
        total += fragmentCost;
      }
    }
    return total;
  };

  const fieldCost = (node: FieldNode, parent: GraphQLCompositeType, sized: SizedChildren | null): number => {
    const name = node.name.value;
    if (name.startsWith('__')) return 0;
    if (!isObjectType(parent) && !isInterfaceType(parent)) return 0;
    const field = parent.getFields()[name];
    if (!field) return 0;
    const args = argumentValues(field, node, variables);
    const type = getNamedType(field.type);
    const typeWeight = weightOf(field.astNode) ?? weightOf(type.astNode) ?? (isCompositeType(type) ? 1 : 0);
    const listSize = cost.listSize && field.astNode ? getDirectiveValues(cost.listSize, field.astNode, variables) : undefined;
    const ownSize = listSize ? expectedSize(listSize, args) : undefined;
    const isList = isListType(getNullableType(field.type));
    const count = !isList ? 1 : sized?.fields.includes(name) ? sized.size : (ownSize ?? cost.defaultListSize);
    const sizedFields = listSize?.sizedFields as string[] | undefined;
    const childSized = sizedFields?.length ? { size: ownSize ?? cost.defaultListSize, fields: sizedFields } : null;
    const selections = node.selectionSet && isCompositeType(type) ? selectionSetCost(node.selectionSet, type, childSized) : 0;
    return count * (typeWeight + selections) + argumentsCost(field, args);
  };

  const inputCost = (value: unknown, type: GraphQLInputType, definition: ASTNode | null | undefined): number => {
    if (value === null || value === undefined) return 0;
    const weight = weightOf(definition);
    const nullable = getNullableType(type);
    if (isListType(nullable) && Array.isArray(value)) {
      return (weight ?? 0) + value.reduce((sum: number, item) => sum + inputCost(item, nullable.ofType, definition), 0);
    }
    if (isInputObjectType(nullable) && typeof value === 'object') {
      const fields = nullable.getFields();
      let total = weight ?? weightOf(nullable.astNode) ?? 1;
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        const field = fields[key];
        if (field) total += inputCost(item, field.type, field.astNode);
      }
      return total;
    }
    return weight ?? 0;
  };

  const argumentsCost = (field: GraphQLField<unknown, unknown>, args: Record<string, unknown>): number =>
    field.args.reduce((sum, arg) => sum + (Object.hasOwn(args, arg.name) ? inputCost(args[arg.name], arg.type, arg.astNode) : 0), 0);

  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  return (operation.operation === 'mutation' ? 10 : 0) + selectionSetCost(operation.selectionSet, root, null);
}

/** The slicing size @listSize gives: the largest slicing argument present, else assumedSize. */
function expectedSize(listSize: Record<string, unknown>, args: Record<string, unknown>): number | undefined {
  const slicing = (listSize.slicingArguments as string[] | undefined) ?? [];
  const given = slicing.map((name) => args[name]).filter((v): v is number => typeof v === 'number');
  if (given.length) return Math.max(...given);
  return typeof listSize.assumedSize === 'number' ? listSize.assumedSize : undefined;
}

/** The field's arguments with variables and defaults applied; variables that do not coerce are execution's to report. */
function argumentValues(field: GraphQLField<unknown, unknown>, node: FieldNode, variables: Readonly<Record<string, unknown>>): Record<string, unknown> {
  try {
    return getArgumentValues(field, node, variables as Record<string, unknown>);
  } catch {
    return {};
  }
}
