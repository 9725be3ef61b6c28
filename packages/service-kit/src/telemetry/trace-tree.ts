/** A finished span as the development trace store keeps it: OTLP's fields, flattened and in milliseconds. */
export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
  /** OTLP's SpanKind number: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startMs: number;
  durationMs: number;
  attributes: Record<string, string | number | boolean>;
  error: boolean;
}

export interface SpanNode {
  span: StoredSpan;
  depth: number;
}

/**
 * A trace's spans in waterfall order: each span followed by its children, earliest first. A span whose
 * parent is not in the store (still unexported, or from a caller outside) starts a tree of its own.
 */
export function waterfall(spans: StoredSpan[]): SpanNode[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | undefined, StoredSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const out: SpanNode[] = [];
  const visit = (parent: string | undefined, depth: number) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      out.push({ span, depth });
      visit(span.spanId, depth + 1);
    }
  };
  visit(undefined, 0);
  return out;
}

/** What a span did, in a few words: its SQL statement, URL or GraphQL operation when it has one. */
export function spanDetail(span: StoredSpan): string {
  const a = span.attributes;
  const detail = a['db.query.text'] ?? a['db.statement'] ?? a['url.full'] ?? a['graphql.operation.name'] ?? a['http.route'] ?? '';
  return String(detail).replace(/\s+/g, ' ').slice(0, 120);
}

/**
 * The trace as indented text, one span a line: offset from the trace's start, duration, service, name
 * and detail, with a bar placing the span on the trace's timeline.
 */
export function formatWaterfall(spans: StoredSpan[], barWidth = 30): string {
  const nodes = waterfall(spans);
  if (!nodes.length) return '(no spans)\n';
  const start = Math.min(...spans.map((s) => s.startMs));
  const total = Math.max(...spans.map((s) => s.startMs + s.durationMs)) - start || 1;
  const lines = nodes.map(({ span, depth }) => {
    const from = Math.floor(((span.startMs - start) / total) * barWidth);
    const width = Math.max(1, Math.round((span.durationMs / total) * barWidth));
    const bar = `${' '.repeat(from)}${'#'.repeat(Math.min(width, barWidth - from))}`.padEnd(barWidth);
    const detail = spanDetail(span);
    return `${`+${(span.startMs - start).toFixed(1)}`.padStart(8)} ${span.durationMs.toFixed(1).padStart(8)} ms |${bar}| ${'  '.repeat(depth)}${span.name} [${span.service}]${span.error ? ' ERROR' : ''}${detail && detail !== span.name ? `  ${detail}` : ''}`;
  });
  return `trace ${spans[0]!.traceId}: ${spans.length} spans, ${total.toFixed(1)} ms\n   start duration    |${'timeline'.padEnd(barWidth)}| span [service]\n${lines.join('\n')}\n`;
}
