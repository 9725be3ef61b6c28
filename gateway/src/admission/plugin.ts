import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestContext } from '../context';
import { enforceMaxDepth } from './depth-limit';

/**
 * The admission stage: checks run on the parsed, validated operation before the query planner sees it,
 * so a refused operation costs no planning and no subgraph traffic.
 */
export function admissionPlugin(config: { maxDepth: number }): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document }) {
          if (!operation) return;
          const fragments = Object.fromEntries(
            document.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d]] : [])),
          );
          enforceMaxDepth(operation, fragments, config.maxDepth);
        },
      };
    },
  };
}
