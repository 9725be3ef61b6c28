import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { trace, type Span } from '@opentelemetry/api';
import { startTracing, traceExportFromEnv, withSpan, type Tracing } from '@switchyard/service-kit';
import type { Stage } from '../context';
import { sampleRatio, type TracingConfig } from './config';

/** Starts the SDK when the environment names an OTLP endpoint; instrument.ts has patched the modules already. */
export function startGatewayTracing(config: TracingConfig, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const exporter = traceExportFromEnv(env);
  if (!exporter) return undefined;
  const ratio = sampleRatio(config.common.sampler);
  // Router's parent_based_sampler: false samples every trace by ratio, whatever the caller decided;
  // env OTEL_TRACES_SAMPLER still wins over both.
  const samplerEnv = config.common.parent_based_sampler || env.OTEL_TRACES_SAMPLER ? {} : { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: String(ratio) };
  return startTracing({ serviceName: config.common.service_name, sampleRatio: ratio, exporter, env: { ...env, ...samplerEnv } });
}

/**
 * A span for one of our stages (identity, admission, authorization), named `switchyard.<stage>` plus
 * what it checks, so a trace shows where a request spent its time before and around execution.
 */
export function withStageSpan<T>(stage: Stage, check: string | undefined, fn: (span: Span) => Promise<T> | T): Promise<T> {
  return withSpan(check ? `${stage} ${check}` : stage, { 'switchyard.stage': stage }, fn);
}

/**
 * The GraphQL semantic conventions' operation attributes on the request's server span, once the
 * operation is known. Never variables: they carry user data.
 */
export function operationAttributesPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, operationName }) {
          const span = trace.getActiveSpan();
          if (!span) return;
          span.setAttribute('graphql.operation.type', operation?.operation ?? 'unknown');
          if (operationName) span.setAttribute('graphql.operation.name', operationName);
        },
      };
    },
  };
}

/**
 * Wraps an admission plugin so that its didResolveOperation check (where limits, cost and rate are
 * decided) runs in a stage span; a refusal marks the span failed. The plugin is otherwise unchanged.
 */
export function tracedPlugin<C extends object>(stage: Stage, check: string, plugin: ApolloServerPlugin<C>): ApolloServerPlugin<C> {
  if (!plugin.requestDidStart) return plugin;
  const requestDidStart = plugin.requestDidStart.bind(plugin);
  return {
    ...plugin,
    async requestDidStart(requestContext) {
      const listener: GraphQLRequestListener<C> | void = await requestDidStart(requestContext);
      if (!listener?.didResolveOperation) return listener;
      const didResolveOperation = listener.didResolveOperation.bind(listener);
      return {
        ...listener,
        didResolveOperation: (ctx) =>
          withStageSpan(stage, check, async (span) => {
            span.setAttribute('graphql.operation.type', ctx.operation?.operation ?? 'unknown');
            if (ctx.operationName) span.setAttribute('graphql.operation.name', ctx.operationName);
            return didResolveOperation(ctx);
          }),
      };
    },
  };
}
