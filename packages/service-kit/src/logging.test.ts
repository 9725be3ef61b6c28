import { Writable } from 'node:stream';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createLogger } from './logging';
import { createHttpServer } from './server';
import { shutdownTracing, startTracing, withSpan } from './telemetry/tracing';

/** Collects a logger's JSON lines. */
function memoryLog() {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger('test', 'info', stream) };
}

describe('log lines', () => {
  it('a request carrying a token, an API key, cookies and a password logs none of them, even when its headers and body are logged whole', async () => {
    const { lines, logger } = memoryLog();
    const app = createHttpServer({ logger, bodyLimitBytes: 10_000 });
    app.post('/login', async (request) => {
      // The careless call redaction exists for.
      request.log.warn({ headers: request.headers, body: request.body, request: { headers: request.headers } }, 'login attempt');
      return { ok: true };
    });
    const res = await app.inject({
      method: 'POST',
      url: '/login',
      headers: { authorization: 'Bearer eyJ.secret-token', 'x-api-key': 'sk_live_secret', cookie: 'session=secret-cookie', 'x-request-id': 'req-42' },
      payload: { user: 'ada', password: 'secret-password', variables: { password: 'secret-variable' } },
    });
    expect(res.statusCode).toBe(200);
    const line = lines.find((l) => l.msg === 'login attempt')!;
    expect(line.requestId).toBe('req-42');
    expect(line.headers).toMatchObject({ authorization: '[redacted]', 'x-api-key': '[redacted]', cookie: '[redacted]' });
    expect(line.request.headers).toMatchObject({ authorization: '[redacted]', 'x-api-key': '[redacted]', cookie: '[redacted]' });
    expect(line.body).toEqual({ user: 'ada', password: '[redacted]', variables: { password: '[redacted]' } });
    expect(JSON.stringify(lines)).not.toMatch(/secret/);
    await app.close();
  });

  it('a line written inside a span carries its trace_id and span_id; one outside carries neither', async () => {
    const { lines, logger } = memoryLog();
    const exporter = new InMemorySpanExporter();
    startTracing({ serviceName: 'test', sampleRatio: 1, exporter: { exporter } });
    try {
      // A root span of ours is internal, which the request-root sampler would drop: start from a server span.
      const { trace, SpanKind, context } = await import('@opentelemetry/api');
      const server = trace.getTracer('test').startSpan('GET /', { kind: SpanKind.SERVER });
      let ids: { traceId: string; spanId: string } | undefined;
      await context.with(trace.setSpan(context.active(), server), () =>
        withSpan('work', {}, async (span) => {
          ids = span.spanContext();
          logger.info('inside');
        }),
      );
      server.end();
      logger.info('outside');
      expect(lines.find((l) => l.msg === 'inside')).toMatchObject({ trace_id: ids!.traceId, span_id: ids!.spanId });
      expect(lines.find((l) => l.msg === 'outside')).not.toHaveProperty('trace_id');
    } finally {
      await shutdownTracing();
    }
  });
});
