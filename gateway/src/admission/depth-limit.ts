import { GraphQLError, Kind, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/** Depth of the deepest field path in an operation, following fragments; introspection is not counted. */
export function operationDepth(operation: OperationDefinitionNode, fragments: Record<string, FragmentDefinitionNode>): number {
  const depthOf = (set: SelectionSetNode, visiting: Set<string>): number => {
    let deepest = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === '__schema' || selection.name.value === '__type') continue;
        deepest = Math.max(deepest, 1 + (selection.selectionSet ? depthOf(selection.selectionSet, visiting) : 0));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, depthOf(selection.selectionSet, visiting));
      } else {
        const name = selection.name.value;
        const fragment = fragments[name];
        if (!fragment || visiting.has(name)) continue;
        deepest = Math.max(deepest, depthOf(fragment.selectionSet, new Set(visiting).add(name)));
      }
    }
    return deepest;
  };
  return depthOf(operation.selectionSet, new Set());
}

export function enforceMaxDepth(
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  maxDepth: number,
): void {
  const depth = operationDepth(operation, fragments);
  if (depth > maxDepth) {
    throw new GraphQLError(`operation depth ${depth} exceeds the limit of ${maxDepth}`, {
      extensions: { code: 'OPERATION_TOO_DEEP', depth, maxDepth, http: { status: 400 } },
    });
  }
}
