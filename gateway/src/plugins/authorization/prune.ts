import {
  getNamedType,
  isAbstractType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { satisfies, type Grant, type Policy } from './policy';

/**
 * The response key of the `__typename` the pruned operation asks for where it must: in a selection set
 * the removal left empty (GraphQL forbids `{}`), and in every selection set on an interface or union, so
 * that the response can be completed by the runtime type. Stripped from the response before it is sent.
 */
export const TYPENAME_KEY = 'switchyard__typename';

/** One removed selection: a field, or a fragment on a type the caller may not see. */
export interface Denial {
  node: ASTNode;
  /** The schema element whose requirement denied it: a field ("Query.me") or a type ("Order"). */
  coordinate: string;
}

export interface Pruned {
  /** The operation without the denied selections; valid against the API schema. */
  document: DocumentNode;
  denials: Denial[];
  removed: ReadonlySet<ASTNode>;
  /** Identifies what was removed, for the plan-cache key. */
  cacheKey: string;
}

const typenameField: FieldNode = {
  kind: Kind.FIELD,
  alias: { kind: Kind.NAME, value: TYPENAME_KEY },
  name: { kind: Kind.NAME, value: '__typename' },
};

/**
 * Removes from the document every field the grant does not satisfy (its own requirement or its return
 * type's) and every fragment on a type it does not satisfy. undefined when nothing is removed.
 */
export function prune(document: DocumentNode, schema: GraphQLSchema, policy: Policy, grant: Grant): Pruned | undefined {
  const denials: Denial[] = [];
  const typeInfo = new TypeInfo(schema);
  const deniedType = (name: string | undefined) => name !== undefined && !satisfies(grant, policy.types.get(name));
  const fragmentTypes = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d.typeCondition.name.value]),
  );
  const edited = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (!parent || !field || node.name.value.startsWith('__')) return undefined;
        const coordinate = `${parent.name}.${field.name}`;
        const returned = getNamedType(field.type).name;
        const fieldAllowed = satisfies(grant, policy.fields.get(coordinate));
        if (fieldAllowed && !deniedType(returned)) return undefined;
        denials.push({ node, coordinate: fieldAllowed ? returned : coordinate });
        return null;
      },
      InlineFragment(node) {
        const name = node.typeCondition?.name.value;
        if (!deniedType(name)) return undefined;
        denials.push({ node, coordinate: name! });
        return null;
      },
      FragmentSpread(node) {
        const name = fragmentTypes.get(node.name.value);
        if (!deniedType(name)) return undefined;
        denials.push({ node, coordinate: name! });
        return null;
      },
      SelectionSet: {
        leave(node) {
          const parent = typeInfo.getParentType();
          if (node.selections.length > 0 && !(parent && isAbstractType(parent))) return undefined;
          return { ...node, selections: [...node.selections, typenameField] } satisfies SelectionSetNode;
        },
      },
    }),
  );
  if (denials.length === 0) return undefined;
  return {
    document: withoutUnused(edited),
    denials,
    removed: new Set(denials.map((d) => d.node)),
    cacheKey: denials.map((d) => `${d.coordinate}@${d.node.loc?.start ?? ''}`).join(','),
  };
}

/** Drops fragments no operation spreads any more and variables no operation uses: GraphQL forbids both. */
function withoutUnused(document: DocumentNode): DocumentNode {
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const usedFragments = new Set<string>();
  const usesOf = (root: ASTNode) => {
    const variables = new Set<string>();
    const pending: ASTNode[] = [root];
    const seen = new Set<string>();
    while (pending.length) {
      visit(pending.pop()!, {
        VariableDefinition: () => false,
        Variable(node) {
          variables.add(node.name.value);
        },
        FragmentSpread(node) {
          const name = node.name.value;
          if (seen.has(name)) return;
          seen.add(name);
          usedFragments.add(name);
          const fragment = fragments.get(name);
          if (fragment) pending.push(fragment);
        },
      });
    }
    return variables;
  };
  const definitions = document.definitions.map((definition) => {
    if (definition.kind !== Kind.OPERATION_DEFINITION) return definition;
    const used = usesOf(definition);
    const variableDefinitions = definition.variableDefinitions?.filter((v) => used.has(v.variable.name.value));
    return { ...definition, variableDefinitions } satisfies OperationDefinitionNode;
  });
  return {
    ...document,
    definitions: definitions.filter((d) => d.kind !== Kind.FRAGMENT_DEFINITION || usedFragments.has(d.name.value)),
  };
}
