import { parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { enforceMaxDepth, operationDepth } from './depth-limit';

function depthOf(source: string): number {
  const doc = parse(source);
  const operation = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
  const fragments = Object.fromEntries(
    doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === 'FragmentDefinition').map((f) => [f.name.value, f]),
  );
  return operationDepth(operation, fragments);
}

describe('operation depth', () => {
  it('counts the deepest field path', () => {
    expect(depthOf('{ me { id } }')).toBe(2);
    expect(depthOf('{ a: me { id } users { edges { node { id } } } }')).toBe(4);
  });

  it('follows named and inline fragments', () => {
    expect(depthOf('{ users { ...Page } } fragment Page on UserConnection { edges { node { ... on User { id } } } }')).toBe(4);
  });

  it('does not count introspection, so tools can load the schema', () => {
    expect(depthOf('{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } me { id } }')).toBe(2);
  });

  it('refuses an operation over the limit with OPERATION_TOO_DEEP and the numbers', () => {
    const doc = parse('{ users { edges { node { id } } } }');
    const op = doc.definitions[0] as OperationDefinitionNode;
    expect(() => enforceMaxDepth(op, {}, 4)).not.toThrow();
    try {
      enforceMaxDepth(op, {}, 3);
      throw new Error('expected a refusal');
    } catch (err) {
      expect((err as { extensions: unknown }).extensions).toMatchObject({ code: 'OPERATION_TOO_DEEP', depth: 4, maxDepth: 3 });
    }
  });
});
