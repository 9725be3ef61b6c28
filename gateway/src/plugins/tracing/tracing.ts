import { startTracing, traceExportFromEnv, type Tracing } from '@switchyard/service-kit';
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
