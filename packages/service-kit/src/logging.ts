import pino from 'pino';
import { activeTraceIds } from './telemetry/tracing';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type Logger = pino.Logger;

/**
 * Credentials a log line may never show, wherever a careless log call puts them: request headers as
 * Node or Fastify name them, and password fields. pino's redact compiles these paths once (fast-redact).
 */
export const REDACTED_PATHS = [
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
  '*.headers["x-api-key"]',
  'password',
  '*.password',
  '*.*.password',
  'variables.password',
  '*.variables.password',
];

/**
 * One JSON object per line on stderr (pino), so log shippers need no parsing rules and stdout stays for
 * humans. Fastify binds a child of it to each request, carrying the request id; with tracing on, every
 * line also carries the active span's trace_id and span_id, so logs and traces join.
 */
export function createLogger(service: string, level: LogLevel = 'info', destination: pino.DestinationStream = pino.destination({ fd: 2, sync: false })): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: activeTraceIds,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}
