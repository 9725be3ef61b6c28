/**
 * Distributed tracing on the OpenTelemetry SDK. Off unless an OTLP endpoint is configured
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): then nothing here loads the SDK or
 * registers a context manager, so every span call is the API's no-op. That matters: the
 * AsyncLocalStorage context manager the SDK needs cost ~30% of the gateway's throughput on Node 20.
 * Only @opentelemetry/api is imported at the top; the SDK is required when tracing starts.
 */
import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace-base';

export const TRACER_NAME = 'switchyard';

/** Where finished spans go: an OTLP/HTTP endpoint (from the OTEL_EXPORTER_OTLP_* variables), or an exporter (tests). */
export type TraceExport = { otlp: 'http/protobuf' | 'http/json' } | { exporter: SpanExporter };

export interface TracingOptions {
  serviceName: string;
  /** Share of new traces recorded, 0..1; a request that arrives with a trace follows its parent's decision. */
  sampleRatio: number;
  exporter: TraceExport;
  env?: NodeJS.ProcessEnv;
}

export interface Tracing {
  /** Exports what is buffered and stops; runMain calls it before the process exits. */
  shutdown(): Promise<void>;
}

/** Which instrumentations a process gets: subgraphs resolve fields, the gateway executes a query plan. */
export type ServiceRole = 'gateway' | 'subgraph';

/** The OTLP export the environment asks for, or undefined when tracing is off. */
export function traceExportFromEnv(env: NodeJS.ProcessEnv = process.env): TraceExport | undefined {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: "${protocol}" is not supported; use http/protobuf or http/json`);
  }
  return { otlp: protocol };
}

let instrumented = false;

/**
 * Patches http, undici, pg and (in subgraphs) graphql so that they make spans. Must run before those
 * modules load, which is why each service's main.ts imports its instrument.ts first. The spans go to
 * whichever tracer provider startTracing registers later (the API's proxy tracer delegates to it).
 * Does nothing when tracing is off.
 */
export function instrumentForTracing(role: ServiceRole, env: NodeJS.ProcessEnv = process.env): boolean {
  if (instrumented || !traceExportFromEnv(env)) return instrumented;
  instrumented = true;
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const probes = new Set(['/healthz', '/readyz', '/metrics']);
  const instrumentations = [
    new HttpInstrumentation({
      // Probes and scrapes every few seconds would bury the requests people look for.
      // The trace pages' own requests would crowd out the traces they show.
      ignoreIncomingRequestHook: (request) => {
        const path = (request.url ?? '').split('?')[0]!;
        return probes.has(path) || path.startsWith('/debug/traces');
      },
      // The gateway and orders call out with undici, which has its own instrumentation.
      ignoreOutgoingRequestHook: () => true,
    }),
    new UndiciInstrumentation(),
    // Statements only, never their parameters (they hold user data).
    new PgInstrumentation({ enhancedDatabaseReporting: false }),
  ];
  if (role === 'subgraph') {
    // Field resolution is where a subgraph spends its time. Not at the gateway: it executes a query plan
    // (Apollo Gateway's own gateway.plan / gateway.fetch spans say what it did); graphql-js there only
    // shapes the merged result, so a resolver span per field would be noise around the fetches.
    const { GraphQLInstrumentation } = require('@opentelemetry/instrumentation-graphql') as typeof import('@opentelemetry/instrumentation-graphql');
    instrumentations.push(new GraphQLInstrumentation({ mergeItems: true, ignoreTrivialResolveSpans: true, allowValues: false }) as never);
  }
  registerInstrumentations({ instrumentations });
  return true;
}

/**
 * Starts the SDK: a tracer provider for this service (service.name), W3C trace context propagation,
 * parent-based ratio sampling (OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG win when set, as the
 * OpenTelemetry spec says), and batched export.
 */
export function startTracing(options: TracingOptions): Tracing {
  const env = options.env ?? process.env;
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const base = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const exporter = 'exporter' in options.exporter ? options.exporter.exporter : otlpExporter(options.exporter.otlp);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || options.serviceName }),
    // Left out when the environment names a sampler: the SDK then builds that one.
    ...(env.OTEL_TRACES_SAMPLER
      ? {}
      : { sampler: new base.ParentBasedSampler({ root: requestRootSampler(new base.TraceIdRatioBasedSampler(options.sampleRatio)) }) }),
    spanProcessors: [new base.BatchSpanProcessor(exporter)],
  });
  // Registers the AsyncLocalStorage context manager and the W3C traceparent/tracestate propagator.
  provider.register();
  active = provider;
  return { shutdown: () => provider.shutdown() };
}

/**
 * A trace starts with a request a service serves: a root span of any other kind (start-up SQL and
 * schema parsing, the gateway's health probes and supergraph polls) is not recorded, so the traces a
 * person looks at are requests. Below a server span everything follows the parent, as usual.
 */
export function requestRootSampler(ratio: Sampler): Sampler {
  return {
    shouldSample(context, traceId, spanName, spanKind, attributes, links) {
      if (spanKind !== SpanKind.SERVER) return { decision: 0 /* SamplingDecision.NOT_RECORD */ };
      return ratio.shouldSample(context, traceId, spanName, spanKind, attributes, links);
    },
    toString: () => `RequestRoot{${ratio.toString()}}`,
  };
}

function otlpExporter(protocol: 'http/protobuf' | 'http/json'): SpanExporter {
  // Both read OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT themselves.
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter();
  }
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter();
}

let active: { shutdown(): Promise<void> } | undefined;

/** Flushes and stops the provider startTracing registered, if any. */
export async function shutdownTracing(): Promise<void> {
  const provider = active;
  active = undefined;
  await provider?.shutdown().catch(() => undefined);
}

/** A subgraph's start: instruments and starts the SDK from the environment alone (it has no YAML). */
export function startSubgraphTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): void {
  const exporter = traceExportFromEnv(env);
  if (!exporter || !instrumentForTracing('subgraph', env)) return;
  startTracing({ serviceName, sampleRatio: 1, exporter, env });
}

const tracer = () => trace.getTracer(TRACER_NAME);

/**
 * Runs fn inside an active internal span (its children nest under it), ending it when fn settles and
 * marking it failed if fn throws. With tracing off it is the API's no-op span.
 */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T> | T): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** A client span per SQL statement, named by its operation (SELECT, INSERT...), for databases no instrumentation covers (PGlite). */
export async function withStatementSpan<T>(sql: string, fn: () => Promise<T>): Promise<T> {
  const operation = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SQL';
  return tracer().startActiveSpan(
    operation,
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.system': 'postgresql', 'db.operation.name': operation, 'db.query.text': sql } },
    async (span) => {
      try {
        return await fn();
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** trace_id and span_id of the active span, for log lines; empty when there is none (tracing off). */
export function activeTraceIds(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
