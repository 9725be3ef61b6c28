import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { RequestContext } from '../context';

/**
 * A request whose operationName picks no operation (unknown name, several operations and no name) is
 * the client's error. Apollo Server leaves it to the executor, and Apollo Gateway's executor throws,
 * which Apollo Server reports as a 500; refusing it here gives graphql-js's message and a 400.
 */
export function operationResolutionPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request }) {
          if (operation) return;
          const name = request.operationName;
          const message =
            typeof name === 'string' && name !== ''
              ? `Unknown operation named "${name.length > 100 ? `${name.slice(0, 100)}…` : name}".`
              : 'Must provide operation name if query contains multiple operations.';
          throw new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } });
        },
      };
    },
  };
}
