import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  typeFromAST,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { ResolvedOperation } from '../../core/context';

/** Per schema and document, the coordinates each of its operations uses: documents are cached and reused, so walks are few. */
const walked = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<OperationDefinitionNode, readonly string[]>>>();

/**
 * The deprecated schema coordinates an operation uses, each once, sorted: fields (`Product.sku`),
 * arguments (`Query.products(search:)`), input fields and enum values (`Status.DRAFT`), written in the
 * document (through every fragment the operation spreads) or sent as variables. Read against the schema
 * the operation was validated on, so a contract's operation is judged by the contract.
 */
export function deprecatedUsesOf(operation: ResolvedOperation): readonly string[] {
  const inDocument = deprecatedUsesInDocument(operation);
  const inVariables = deprecatedUsesInVariables(operation);
  if (inVariables.size === 0) return inDocument;
  return [...new Set([...inDocument, ...inVariables])].sort();
}

function deprecatedUsesInDocument(operation: ResolvedOperation): readonly string[] {
  const schema = operation.served.apiSchema;
  let byDocument = walked.get(schema);
  if (!byDocument) walked.set(schema, (byDocument = new WeakMap()));
  let byOperation = byDocument.get(operation.document);
  if (!byOperation) byDocument.set(operation.document, (byOperation = new Map()));
  let uses = byOperation.get(operation.operation);
  if (!uses) byOperation.set(operation.operation, (uses = walk(schema, operation.document, operation.operation)));
  return uses;
}

function walk(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): readonly string[] {
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  // The operation and the fragments it reaches, not the document's other operations.
  const reached: DefinitionNode[] = [];
  const pending: DefinitionNode[] = [operation];
  const seen = new Set<string>();
  while (pending.length) {
    const definition = pending.pop()!;
    reached.push(definition);
    visit(definition, {
      FragmentSpread(node) {
        const fragment = fragments.get(node.name.value);
        if (fragment && !seen.has(node.name.value)) {
          seen.add(node.name.value);
          pending.push(fragment);
        }
      },
    });
  }
  const uses = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  for (const definition of reached) {
    visit(
      definition,
      visitWithTypeInfo(typeInfo, {
        Field() {
          const field = typeInfo.getFieldDef();
          const parent = typeInfo.getParentType();
          if (field?.deprecationReason != null && parent) uses.add(`${parent.name}.${field.name}`);
        },
        Argument() {
          const argument = typeInfo.getArgument();
          const field = typeInfo.getFieldDef();
          const parent = typeInfo.getParentType();
          if (argument?.deprecationReason != null && field && parent) uses.add(`${parent.name}.${field.name}(${argument.name}:)`);
        },
        ObjectField(node) {
          const parent = typeInfo.getParentInputType();
          const field = parent && isInputObjectType(getNamedType(parent)) ? (getNamedType(parent) as { getFields(): Record<string, { deprecationReason?: string | null }> }).getFields()[node.name.value] : undefined;
          if (field?.deprecationReason != null) uses.add(`${getNamedType(parent!)!.name}.${node.name.value}`);
        },
        EnumValue() {
          const value = typeInfo.getEnumValue();
          const type = typeInfo.getInputType();
          if (value?.deprecationReason != null && type) uses.add(`${String(type).replace(/[[\]!]/g, '')}.${value.name}`);
        },
      }),
    );
  }
  return [...uses].sort();
}

/** Deprecated enum values and input fields in the coerced variables: they change per request, so are not cached. */
function deprecatedUsesInVariables(operation: ResolvedOperation): Set<string> {
  const uses = new Set<string>();
  const schema = operation.served.apiSchema;
  const visitValue = (type: GraphQLInputType, value: unknown): void => {
    if (value === null || value === undefined) return;
    if (isNonNullType(type)) return visitValue(type.ofType, value);
    if (isListType(type)) {
      if (Array.isArray(value)) for (const item of value) visitValue(type.ofType, item);
      else visitValue(type.ofType, value);
      return;
    }
    if (isEnumType(type)) {
      const enumValue = type.getValues().find((v) => v.value === value);
      if (enumValue?.deprecationReason != null) uses.add(`${type.name}.${enumValue.name}`);
    } else if (isInputObjectType(type) && typeof value === 'object') {
      const fields = type.getFields();
      for (const [name, fieldValue] of Object.entries(value as Record<string, unknown>)) {
        const field = fields[name];
        if (!field) continue;
        if (field.deprecationReason != null) uses.add(`${type.name}.${name}`);
        visitValue(field.type, fieldValue);
      }
    }
  };
  for (const definition of operation.operation.variableDefinitions ?? []) {
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    const named = type && getNamedType(type);
    if (named && (isEnumType(named) || isInputObjectType(named))) visitValue(type!, operation.variables[definition.variable.name.value]);
  }
  return uses;
}
