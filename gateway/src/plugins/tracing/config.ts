import { booleanFromEnv } from '@switchyard/service-kit';
import { z } from 'zod';

/**
 * telemetry.exporters.tracing, Apollo Router's keys. Where spans go is the standard OTEL_EXPORTER_OTLP_*
 * environment (no endpoint, no tracing); the file says how much to sample and whether to show traces.
 */
export const tracingConfigSchema = z
  .object({
    common: z
      .object({
        sampler: z
          .union([z.coerce.number().min(0).max(1), z.enum(['always_on', 'always_off'])])
          .default('always_on')
          .describe('Share of new traces recorded: 0..1, always_on or always_off. env OTEL_TRACES_SAMPLER/_ARG win when set.'),
        parent_based_sampler: booleanFromEnv
          .default(true)
          .describe("Follow the caller's traceparent sampling decision; only traces the gateway starts are sampled by ratio."),
        service_name: z.string().min(1).default('gateway').describe('service.name of the gateway. env OTEL_SERVICE_NAME'),
      })
      .strict()
      .default({}),
    debug_traces: z
      .object({
        enabled: booleanFromEnv
          .default(false)
          .describe('Development only: serve /debug/traces, a waterfall of recent traces (SQL text, internal URLs); refused under NODE_ENV=production. env DEBUG_TRACES'),
        store_url: z
          .string()
          .regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL')
          .default('http://127.0.0.1:4318')
          .describe('The development trace store (npm start runs one) the page reads. env DEBUG_TRACES_STORE_URL'),
      })
      .strict()
      .default({}),
  })
  .strict()
  .default({});

export const tracingEnvBindings = {
  DEBUG_TRACES: 'telemetry.exporters.tracing.debug_traces.enabled',
  DEBUG_TRACES_STORE_URL: 'telemetry.exporters.tracing.debug_traces.store_url',
};

export type TracingConfig = z.infer<typeof tracingConfigSchema>;

/** The sampler key as a ratio. */
export function sampleRatio(sampler: TracingConfig['common']['sampler']): number {
  return sampler === 'always_on' ? 1 : sampler === 'always_off' ? 0 : sampler;
}
