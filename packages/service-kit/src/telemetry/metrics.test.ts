import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { registerMetricsRoute, startMetrics } from './metrics';

describe('startMetrics', () => {
  it('serves its instruments at GET /metrics as Prometheus text, with service_name on every series', async () => {
    const metrics = startMetrics({ serviceName: 'products', env: {} });
    metrics.meter.createCounter('switchyard.test.things').add(3, { kind: 'a' });
    const app = Fastify();
    registerMetricsRoute(app, metrics);
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.body).toContain('target_info{service_name="products"} 1');
    expect(res.body).toContain('switchyard_test_things_total{kind="a",otel_scope_name="switchyard",service_name="products"} 3');
    expect(res.body).toMatch(/^process_cpu_time_seconds_total\{cpu_mode="user",/m);
    await app.close();
    await metrics.shutdown();
  });

  it('names each metric with its unit as OpenTelemetry\'s Prometheus rules do, the unit before _total and _bucket, annotations dropped', async () => {
    const metrics = startMetrics({ serviceName: 'gateway', env: {} });
    metrics.meter.createHistogram('switchyard.test.wait', { unit: 's' }).record(0.5);
    metrics.meter.createCounter('switchyard.test.sent', { unit: 'By' }).add(10);
    metrics.meter.createCounter('switchyard.test.calls', { unit: '{call}' }).add(2);
    metrics.meter.createHistogram('switchyard.test.already_seconds', { unit: 's' }).record(1);
    const text = await metrics.scrape();
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]).filter((name) => name!.startsWith('switchyard_test'));
    expect(names).toEqual(['switchyard_test_wait_seconds', 'switchyard_test_sent_bytes_total', 'switchyard_test_calls_total', 'switchyard_test_already_seconds']);
    expect(text).toMatch(/^switchyard_test_wait_seconds_bucket\{/m);
    await metrics.shutdown();
  });

  it('with OTEL_EXPORTER_OTLP_METRICS_ENDPOINT set, also pushes them there as OTLP http/protobuf, flushed on shutdown', async () => {
    const received: { path?: string; contentType?: string; body: Buffer }[] = [];
    const collector = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url, contentType: req.headers['content-type'], body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    const metrics = startMetrics({
      serviceName: 'orders',
      prometheus: false,
      env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${port}/v1/metrics`, OTEL_METRIC_EXPORT_INTERVAL: '60000' },
    });
    metrics.meter.createCounter('switchyard.test.pushed').add(1);
    await expect(metrics.scrape()).rejects.toThrow('without the Prometheus exporter');
    await metrics.shutdown();
    collector.close();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ path: '/v1/metrics', contentType: 'application/x-protobuf' });
    // Protobuf carries strings as they are: the service and the metric are there by name.
    expect(received[0]!.body.includes('orders')).toBe(true);
    expect(received[0]!.body.includes('switchyard.test.pushed')).toBe(true);
  });
});
