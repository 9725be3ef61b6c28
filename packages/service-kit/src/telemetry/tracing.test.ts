import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { AlwaysOnSampler, SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { requestRootSampler, traceExportFromEnv } from './tracing';

describe('whether and how tracing starts', () => {
  it('is off without an OTLP endpoint, or when OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none say so', () => {
    expect(traceExportFromEnv({})).toBeUndefined();
    expect(traceExportFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(traceExportFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  });

  it('exports OTLP/HTTP protobuf by default, JSON when asked, and refuses gRPC by name', () => {
    expect(traceExportFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toEqual({ otlp: 'http/protobuf' });
    expect(traceExportFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual({ otlp: 'http/json' });
    expect(() => traceExportFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/"grpc" is not supported/);
  });

  it('with tracing off, a service loads no SDK and registers no context manager: only the no-op API runs', () => {
    const tracing = join(__dirname, 'tracing.ts');
    const script = `const t = require(${JSON.stringify(tracing)}); t.startSubgraphTracing('users', {}); t.instrumentForTracing('gateway', {});
      const api = require('@opentelemetry/api');
      const sdk = Object.keys(require.cache).filter((k) => /@opentelemetry[\\\\/](sdk|instrumentation|context-async)/.test(k));
      console.log(JSON.stringify({ sdk, manager: api.context._getContextManager().constructor.name }));`;
    const env = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' };
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--conditions=source', '-e', script], { env, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ sdk: [], manager: 'NoopContextManager' });
  });
});

describe('the request-root sampler', () => {
  const sampler = requestRootSampler(new AlwaysOnSampler());
  const decide = (kind: SpanKind) => sampler.shouldSample(ROOT_CONTEXT, '4bf92f3577b34da6a3ce929d0e0e4736', 'x', kind, {}, []).decision;

  it('records a trace that begins with a request the service serves', () => {
    expect(decide(SpanKind.SERVER)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('does not record start-up work or outgoing probes as traces of their own', () => {
    expect(decide(SpanKind.INTERNAL)).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(SpanKind.CLIENT)).toBe(SamplingDecision.NOT_RECORD);
  });

  it('is left to the no-op API when tracing is off: a stage span is then not recording', () => {
    expect(trace.getTracer('t').startSpan('identity').isRecording()).toBe(false);
  });
});
