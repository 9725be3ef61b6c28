import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Attributes, Meter } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type IMetricReader, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { FastifyInstance } from 'fastify';

/** Bucket boundaries for durations in seconds: OpenTelemetry's advice for http.server.request.duration. */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export interface ServiceMetrics {
  /** The service's meter: every instrument of this service is made from it. */
  readonly meter: Meter;
  /** Every metric of this service in the Prometheus text format (0.0.4). */
  scrape(): Promise<string>;
  /** Flushes the OTLP export, if any, and stops collecting. */
  shutdown(): Promise<void>;
}

export interface StartMetricsOptions {
  serviceName: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_METRICS_ENDPOINT switch on OTLP export; the exporter reads the rest of OTEL_*. */
  env?: NodeJS.ProcessEnv;
  /** Keep the metrics for scrape() (GET /metrics); true unless said otherwise. */
  prometheus?: boolean;
}

/** Whether OTLP metrics export is configured in this environment. */
export const otlpMetricsConfigured = (env: NodeJS.ProcessEnv = process.env): boolean => !!(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);

/**
 * One MeterProvider per service, not the global one: the tests run the gateway and three subgraphs in
 * one process, and each service's /metrics must show that service alone. The Prometheus exporter is
 * a pull reader whose own HTTP server is not started; its text is served on the service's own port.
 */
export function startMetrics(options: StartMetricsOptions): ServiceMetrics {
  const env = options.env ?? process.env;
  const prometheus = options.prometheus === false ? undefined : new PrometheusExporter({ preventServerStart: true });
  const readers: IMetricReader[] = prometheus ? [prometheus] : [];
  if (otlpMetricsConfigured(env)) {
    const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL);
    // The URL as the OTLP spec derives it, given explicitly so that `env` decides (the exporter reads
    // process.env itself for the rest: headers, timeout, compression).
    const url = env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT || `${env.OTEL_EXPORTER_OTLP_ENDPOINT!.replace(/\/$/, '')}/v1/metrics`;
    readers.push(new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url }), exportIntervalMillis: interval > 0 ? interval : 60_000 }));
  }
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': options.serviceName }), readers });
  const meter = provider.getMeter('switchyard');
  const stopProcessMetrics = observeProcess(meter);
  // No timestamps (the exporter's default); service.name on every series as well as on target_info, so
  // a query needs no join to tell the services apart, whatever labels the scraper adds.
  const serializer = new PrometheusSerializer(undefined, false, /^service\.name$/);
  return {
    meter,
    async scrape() {
      if (!prometheus) throw new Error('metrics were started without the Prometheus exporter');
      const { resourceMetrics } = await prometheus.collect();
      return serializer.serialize(withUnitSuffixes(resourceMetrics));
    },
    async shutdown() {
      stopProcessMetrics();
      await provider.shutdown();
    },
  };
}

/** OpenTelemetry units and the suffix Prometheus names carry for them; annotations ({request}) carry none. */
const UNIT_SUFFIXES: Record<string, string> = { s: 'seconds', ms: 'milliseconds', By: 'bytes', '1': 'ratio' };

/**
 * The metrics renamed as OpenTelemetry's Prometheus compatibility rules name them, the unit before
 * `_total`: `http.server.request.duration` in seconds is `http_server_request_duration_seconds`, as Apollo
 * Router and ready-made dashboards expect. The exporter writes only a `# UNIT` comment, so the names are
 * changed here, for the Prometheus text alone: OTLP keeps the semantic-convention names.
 */
function withUnitSuffixes(resourceMetrics: ResourceMetrics): ResourceMetrics {
  return {
    ...resourceMetrics,
    scopeMetrics: resourceMetrics.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.map((metric) => {
        const suffix = UNIT_SUFFIXES[metric.descriptor.unit];
        if (!suffix || metric.descriptor.name.endsWith(`.${suffix}`) || metric.descriptor.name.endsWith(`_${suffix}`)) return metric;
        return { ...metric, descriptor: { ...metric.descriptor, name: `${metric.descriptor.name}_${suffix}` } } as MetricData;
      }),
    })),
  };
}

/** GET /metrics: Prometheus' text format, through the OpenTelemetry Prometheus exporter. */
export function registerMetricsRoute(app: FastifyInstance, metrics: ServiceMetrics, path = '/metrics'): void {
  app.get(path, async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metrics.scrape()));
}

const USER: Attributes = { 'cpu.mode': 'user' };
const SYSTEM: Attributes = { 'cpu.mode': 'system' };
const HEAP: Attributes = { 'v8js.heap.space.name': 'total' };

/**
 * A few process metrics under their semantic-convention names, read at collection time. By hand: the
 * packages that do this (host-metrics, runtime-node instrumentation) pull in systeminformation or the
 * instrumentation machinery, for four numbers Node reports itself.
 */
function observeProcess(meter: Meter): () => void {
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  meter
    .createObservableCounter('process.cpu.time', { unit: 's', description: 'CPU time used by the process, by mode.' })
    .addCallback((result) => {
      const usage = process.cpuUsage();
      result.observe(usage.user / 1e6, USER);
      result.observe(usage.system / 1e6, SYSTEM);
    });
  meter
    .createObservableUpDownCounter('process.memory.usage', { unit: 'By', description: 'Resident set size of the process.' })
    .addCallback((result) => result.observe(process.memoryUsage.rss()));
  meter
    .createObservableUpDownCounter('v8js.memory.heap.used', { unit: 'By', description: 'V8 heap in use.' })
    .addCallback((result) => result.observe(process.memoryUsage().heapUsed, HEAP));
  meter
    .createObservableGauge('nodejs.eventloop.delay.p99', { unit: 's', description: 'Event loop delay, 99th percentile since the previous collection.' })
    .addCallback((result) => {
      result.observe(delay.percentile(99) / 1e9);
      delay.reset();
    });
  return () => delay.disable();
}
