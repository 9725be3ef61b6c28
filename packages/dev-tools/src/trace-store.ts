/**
 * The development trace store: an OTLP/HTTP receiver (JSON encoding) keeping the last traces of every
 * service in memory, for `npm run trace` and the gateway's /debug/traces. npm start runs it and points
 * the services at it with OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL=http/json.
 * It keeps GraphQL requests only: a browser's GraphiQL assets, favicon and landing page would crowd them out.
 * Written by hand because the collector is a separate binary to install, and all that is needed is to
 * hold a few hundred spans; it never leaves the laptop (it binds to loopback by default).
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { StoredSpan } from '@switchyard/service-kit';

export interface TraceStore {
  readonly url: string;
  readonly port: number;
  /** Spans received for a trace so far, in arrival order. */
  spans(traceId: string): StoredSpan[];
  close(): Promise<void>;
}

export interface TraceStoreOptions {
  port?: number;
  host?: string;
  /** Traces kept; the oldest is dropped first. */
  maxTraces?: number;
  /** Spans kept per trace, so one runaway trace cannot take the memory. */
  maxSpansPerTrace?: number;
}

interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number };
}
interface OtlpExport {
  resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

function attributeValue(value: OtlpAnyValue | undefined): string | number | boolean | undefined {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return String(value.stringValue);
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.boolValue !== undefined) return Boolean(value.boolValue);
  return undefined;
}

function attributes(list: OtlpKeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of Array.isArray(list) ? list : []) {
    const value = attributeValue(kv?.value);
    if (typeof kv?.key === 'string' && value !== undefined) out[kv.key] = value;
  }
  return out;
}

/** OTLP/JSON ids are hex; some encoders send the protobuf bytes as base64. */
function hexId(id: unknown, bytes: number): string | undefined {
  if (typeof id !== 'string' || !id) return undefined;
  if (new RegExp(`^[0-9a-f]{${bytes * 2}}$`, 'i').test(id)) return id.toLowerCase();
  const decoded = Buffer.from(id, 'base64');
  return decoded.length === bytes ? decoded.toString('hex') : undefined;
}

const nanosToMs = (nanos: string | number | undefined) => Number(BigInt(String(nanos ?? 0).split('.')[0] || '0') / 1000n) / 1000;

/** The spans of one export request, flattened; malformed spans are left out, never thrown on. */
export function spansFromOtlp(body: unknown): StoredSpan[] {
  const out: StoredSpan[] = [];
  for (const resourceSpans of (body as OtlpExport)?.resourceSpans ?? []) {
    const service = String(attributes(resourceSpans?.resource?.attributes)['service.name'] ?? 'unknown');
    for (const scope of resourceSpans?.scopeSpans ?? []) {
      for (const span of scope?.spans ?? []) {
        const traceId = hexId(span?.traceId, 16);
        const spanId = hexId(span?.spanId, 8);
        if (!traceId || !spanId) continue;
        let startMs: number;
        let endMs: number;
        try {
          startMs = nanosToMs(span.startTimeUnixNano);
          endMs = nanosToMs(span.endTimeUnixNano);
        } catch {
          continue;
        }
        out.push({
          traceId,
          spanId,
          parentSpanId: hexId(span.parentSpanId, 8),
          name: String(span.name ?? ''),
          service,
          kind: Number(span.kind ?? 0),
          startMs,
          durationMs: Math.max(0, endMs - startMs),
          attributes: attributes(span.attributes),
          error: span.status?.code === 2,
        });
      }
    }
  }
  return out;
}

const SERVER = 2;

/** A span of GraphQL work: the gateway's request span names its operation, a subgraph's graphql-js spans theirs. */
const isGraphQL = (span: StoredSpan) => span.name.startsWith('graphql') || Object.keys(span.attributes).some((key) => key.startsWith('graphql.'));

/**
 * The trace's entry span (a server span with no parent: a request from outside) ends last, so once it is
 * in, so are the rest of its process's spans: a trace with no GraphQL work by then was no GraphQL request.
 * Judged over each export as a whole, since an exporter need not list a batch's spans in the order they ended.
 */
const entered = (spans: readonly StoredSpan[]) => spans.some((span) => span.kind === SERVER && !span.parentSpanId);

/** How the list names a trace: its root span, the path, and the operation's name, or its type when it has none. */
function traceName(root: StoredSpan): string {
  const operation = root.attributes['graphql.operation.name'] ?? root.attributes['graphql.operation.type'];
  const what = [root.attributes['url.path'], operation].filter(Boolean).join(' ');
  return what ? `${root.name} ${what}` : root.name;
}

export async function startTraceStore(options: TraceStoreOptions = {}): Promise<TraceStore> {
  const maxTraces = options.maxTraces ?? 100;
  const maxSpans = options.maxSpansPerTrace ?? 2000;
  // A Map keeps insertion order: the first key is the oldest trace.
  const traces = new Map<string, StoredSpan[]>();
  /** Traces found not to be GraphQL requests, so that their stragglers are not kept either. */
  const dropped = new Set<string>();
  const app = Fastify({ bodyLimit: 8 * 1024 * 1024 });
  app.post('/v1/traces', async (request, reply) => {
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return reply.code(415).send({ error: 'this development store takes OTLP/HTTP JSON: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json' });
    }
    const received = new Map<string, StoredSpan[]>();
    for (const span of spansFromOtlp(request.body)) received.set(span.traceId, [...(received.get(span.traceId) ?? []), span]);
    for (const [traceId, batch] of received) {
      const all = [...(traces.get(traceId) ?? []), ...batch];
      if (!dropped.has(traceId) && !(entered(batch) && !all.some(isGraphQL))) continue;
      traces.delete(traceId);
      received.delete(traceId);
      dropped.add(traceId);
      if (dropped.size > maxTraces) dropped.delete(dropped.values().next().value!);
    }
    for (const span of [...received.values()].flat()) {
      let spans = traces.get(span.traceId);
      if (!spans) {
        traces.set(span.traceId, (spans = []));
        if (traces.size > maxTraces) traces.delete(traces.keys().next().value!);
      }
      if (spans.length < maxSpans) spans.push(span);
    }
    return {};
  });
  /** Newest first: each trace's root span, services and duration. */
  app.get('/traces', async () =>
    [...traces.entries()].reverse().map(([traceId, spans]) => {
      const ids = new Set(spans.map((s) => s.spanId));
      const root = spans.find((s) => !s.parentSpanId || !ids.has(s.parentSpanId)) ?? spans[0]!;
      const start = Math.min(...spans.map((s) => s.startMs));
      const end = Math.max(...spans.map((s) => s.startMs + s.durationMs));
      return { traceId, root: traceName(root), service: root.service, startMs: start, durationMs: end - start, spans: spans.length, services: [...new Set(spans.map((s) => s.service))] };
    }),
  );
  app.get<{ Params: { id: string } }>('/traces/:id', async (request, reply) => {
    const spans = traces.get(request.params.id.toLowerCase());
    return spans ? { traceId: request.params.id.toLowerCase(), spans } : reply.code(404).send({ error: 'no such trace (the store keeps the last few only)' });
  });
  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 4318 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    spans: (traceId) => traces.get(traceId) ?? [],
    close: () => app.close(),
  };
}
