import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { print, visit, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { z } from 'zod';

/** Apollo's persisted query manifest, as @apollo/generate-persisted-query-manifest writes it. */
const manifestSchema = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(
    z.object({
      id: z.string().regex(/^[0-9a-f]{64}$/, 'must be the sha256 of the body in lower-case hex'),
      name: z.string(),
      type: z.enum(['query', 'mutation', 'subscription']),
      body: z.string().min(1),
    }),
  ),
});

export type PersistedQueryManifest = z.infer<typeof manifestSchema>;
export type ManifestOperation = PersistedQueryManifest['operations'][number];

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Reads and checks one manifest; every id must be its body's sha256, which is what clients send. */
export function readManifest(path: string): PersistedQueryManifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`persisted_queries.local_manifests: cannot read ${path}: ${(err as Error).message}`);
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`persisted_queries.local_manifests: ${path} is not a version 1 Apollo manifest: ${issue.path.join('.')}: ${issue.message}`);
  }
  for (const operation of result.data.operations) {
    if (sha256Hex(operation.body) !== operation.id) throw new Error(`persisted_queries.local_manifests: ${path}: operation ${operation.name}'s id is not the sha256 of its body`);
  }
  return result.data;
}

/**
 * One manifest entry per named operation of the documents: the operation printed with the fragments it
 * uses (sorted by name), so the body is exactly what a client built from the same files sends.
 */
export function manifestFrom(documents: DocumentNode[]): PersistedQueryManifest {
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const document of documents) {
    for (const definition of document.definitions) {
      if (definition.kind === 'FragmentDefinition') {
        if (fragments.has(definition.name.value)) throw new Error(`fragment ${definition.name.value} is defined twice`);
        fragments.set(definition.name.value, definition);
      } else if (definition.kind === 'OperationDefinition') {
        if (!definition.name) throw new Error('every operation needs a name: the manifest lists operations by name');
        operations.push(definition);
      }
    }
  }
  const names = new Set<string>();
  return {
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: operations.map((operation) => {
      const name = operation.name!.value;
      if (names.has(name)) throw new Error(`operation ${name} is defined twice`);
      names.add(name);
      const used = [...fragmentsUsedBy(operation, fragments)].sort().map((n) => fragments.get(n)!);
      const body = [operation, ...used].map((definition) => print(definition)).join('\n\n');
      return { id: sha256Hex(body), name, type: operation.operation, body };
    }),
  };
}

function fragmentsUsedBy(root: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>): Set<string> {
  const used = new Set<string>();
  const pending: (OperationDefinitionNode | FragmentDefinitionNode)[] = [root];
  while (pending.length) {
    visit(pending.pop()!, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (used.has(name)) return;
        const fragment = fragments.get(name);
        if (!fragment) throw new Error(`operation ${root.name?.value} spreads the unknown fragment ${name}`);
        used.add(name);
        pending.push(fragment);
      },
    });
  }
  return used;
}
