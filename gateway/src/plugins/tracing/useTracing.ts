import { trace } from '@opentelemetry/api';
import type { GatewayPlugin } from '../../core/plugin';

/**
 * The GraphQL semantic conventions' operation attributes on the request's server span, once the operation
 * is known, and the client application's name and version (capped in length); never variables, which carry user data. The SDK itself is started by main.ts before anything
 * else loads (startGatewayTracing), and the core wraps each stage's hooks in its own span.
 */
export function useTracing(): GatewayPlugin {
  return {
    name: 'tracing',
    stage: 'execution',
    onRequest({ client }) {
      const span = trace.getActiveSpan();
      if (!span) return;
      span.setAttribute('client.name', client.name);
      span.setAttribute('client.version', client.version);
    },
    onOperation(_context, operation) {
      const span = trace.getActiveSpan();
      if (!span) return;
      span.setAttribute('graphql.operation.type', operation.type);
      if (operation.operationName) span.setAttribute('graphql.operation.name', operation.operationName);
    },
  };
}
