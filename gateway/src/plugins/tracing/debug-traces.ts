import { formatWaterfall, spanDetail, waterfall, type StoredSpan } from '@switchyard/service-kit';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * /debug/traces (development only, telemetry.exporters.tracing.debug_traces): the development trace
 * store's recent traces as a waterfall page. Rendered on the server as HTML and SVG with one local
 * stylesheet: no script, no CDN, nothing for the page to fetch but that file.
 */
const STYLES = `
body { font: 13px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2430; }
h1 { font-size: 1.2rem; margin: 0 0 .25rem; } p.sub { color: #5b6578; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; } td, th { padding: 2px 6px; text-align: left; white-space: nowrap; }
tr:nth-child(even) { background: #f5f7fa; } th { border-bottom: 1px solid #ccd3de; font-weight: 600; }
td.name { font-family: ui-monospace, monospace; } td.ms { text-align: right; font-variant-numeric: tabular-nums; }
td.detail { color: #5b6578; font-family: ui-monospace, monospace; max-width: 38rem; overflow: hidden; text-overflow: ellipsis; }
td.bar { width: 40%; } svg { display: block; width: 100%; height: 12px; }
rect.track { fill: #e6eaf0; } rect.err { fill: #d23c3c !important; }
rect.s0 { fill: #3a6fd8; } rect.s1 { fill: #2e9e6a; } rect.s2 { fill: #d98a1c; } rect.s3 { fill: #8a4fd3; } rect.s4 { fill: #1f9bb0; } rect.s5 { fill: #b0457a; }
span.svc { display: inline-block; width: .7em; height: .7em; border-radius: 2px; margin-right: .3em; }
span.s0 { background: #3a6fd8; } span.s1 { background: #2e9e6a; } span.s2 { background: #d98a1c; } span.s3 { background: #8a4fd3; } span.s4 { background: #1f9bb0; } span.s5 { background: #b0457a; }
a { color: #2353b5; }
`;

const escape = (text: unknown) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<link rel="stylesheet" href="/debug/traces/assets/traces.css"></head>
<body>${body}</body></html>
`;

interface TraceSummary {
  traceId: string;
  root: string;
  service: string;
  startMs: number;
  durationMs: number;
  spans: number;
  services: string[];
}

/** The waterfall of one trace: a row per span, indented under its parent, with a bar on the trace's timeline. */
export function traceHtml(traceId: string, spans: StoredSpan[]): string {
  const start = Math.min(...spans.map((s) => s.startMs));
  const total = Math.max(...spans.map((s) => s.startMs + s.durationMs)) - start || 1;
  const services = [...new Set(spans.map((s) => s.service))];
  const rows = waterfall(spans).map(({ span, depth }) => {
    const x = ((span.startMs - start) / total) * 100;
    const width = Math.max(0.3, (span.durationMs / total) * 100);
    const colour = `s${services.indexOf(span.service) % 6}`;
    return `<tr data-span="${escape(span.spanId)}" data-depth="${depth}">
<td class="name">${'&nbsp;&nbsp;'.repeat(depth)}<span class="svc ${colour}"></span>${escape(span.name)}</td>
<td>${escape(span.service)}</td><td class="ms">${span.durationMs.toFixed(1)} ms</td>
<td class="bar"><svg viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="${escape(`${span.name}: +${(span.startMs - start).toFixed(1)} ms, ${span.durationMs.toFixed(1)} ms`)}"><rect class="track" x="0" y="0" width="100" height="10"/><rect class="${colour}${span.error ? ' err' : ''}" x="${x.toFixed(3)}" y="0" width="${Math.min(width, 100 - x).toFixed(3)}" height="10"/></svg></td>
<td class="detail" title="${escape(spanDetail(span))}">${escape(spanDetail(span))}</td></tr>`;
  });
  return page(
    `trace ${traceId}`,
    `<h1>Trace ${escape(traceId)}</h1>
<p class="sub">${spans.length} spans across ${services.map((s) => escape(s)).join(', ')}; ${total.toFixed(1)} ms. <a href="/debug/traces">All recent traces</a></p>
<table><thead><tr><th>span</th><th>service</th><th>duration</th><th>timeline</th><th>detail</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`,
  );
}

function listHtml(traces: TraceSummary[]): string {
  const rows = traces.map(
    (t) => `<tr><td class="name"><a href="/debug/traces/${escape(t.traceId)}">${escape(t.root)}</a></td><td>${escape(t.services.join(', '))}</td>
<td class="ms">${t.durationMs.toFixed(1)} ms</td><td class="ms">${t.spans}</td><td>${escape(new Date(t.startMs).toISOString())}</td></tr>`,
  );
  return page(
    'recent traces',
    `<h1>Recent traces</h1><p class="sub">Newest first, from the development trace store. <code>npm run trace -- '&lt;query&gt;'</code> prints one as text.</p>
${traces.length ? `<table><thead><tr><th>root span</th><th>services</th><th>duration</th><th>spans</th><th>started</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>` : '<p>No traces yet: send the gateway a request.</p>'}`,
  );
}

export function registerDebugTraces(app: FastifyInstance, storeUrl: string): void {
  const fromStore = async (path: string): Promise<{ status: number; body: unknown } | undefined> => {
    try {
      const res = await fetch(`${storeUrl}${path}`, { signal: AbortSignal.timeout(3000) });
      return { status: res.status, body: await res.json() };
    } catch {
      return undefined;
    }
  };
  const html = (reply: FastifyReply, status: number, text: string) =>
    reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; style-src 'self'")
      .send(text);
  const unreachable = (reply: FastifyReply) =>
    html(reply, 502, page('trace store unreachable', `<h1>The trace store at ${escape(storeUrl)} does not answer</h1><p>npm start runs it; see debug_traces.store_url.</p>`));

  app.get('/debug/traces/assets/traces.css', (_request, reply) => reply.header('content-type', 'text/css; charset=utf-8').send(STYLES));
  app.get('/debug/traces', async (_request, reply) => {
    const answer = await fromStore('/traces');
    return answer && Array.isArray(answer.body) ? html(reply, 200, listHtml(answer.body as TraceSummary[])) : unreachable(reply);
  });
  app.get<{ Params: { id: string } }>('/debug/traces/:id', async (request, reply) => {
    const id = request.params.id.toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(id)) return html(reply, 400, page('bad trace id', '<h1>A trace id is 32 hex digits</h1>'));
    const answer = await fromStore(`/traces/${id}`);
    if (!answer) return unreachable(reply);
    const spans = (answer.body as { spans?: StoredSpan[] }).spans;
    if (answer.status !== 200 || !Array.isArray(spans) || !spans.length) {
      return html(reply, 404, page('no such trace', '<h1>No such trace</h1><p>The store keeps the last few only. <a href="/debug/traces">Recent traces</a></p>'));
    }
    return html(reply, 200, traceHtml(id, spans));
  });
  // Same text as `npm run trace`, for curl.
  app.get<{ Params: { id: string } }>('/debug/traces/:id/text', async (request, reply) => {
    const id = request.params.id.toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(id)) return reply.code(400).type('text/plain').send('a trace id is 32 hex digits\n');
    const answer = await fromStore(`/traces/${id}`);
    const spans = (answer?.body as { spans?: StoredSpan[] } | undefined)?.spans;
    if (!Array.isArray(spans)) return reply.code(answer ? 404 : 502).type('text/plain').send(answer ? 'no such trace\n' : 'trace store unreachable\n');
    return reply.type('text/plain; charset=utf-8').send(formatWaterfall(spans));
  });
}
