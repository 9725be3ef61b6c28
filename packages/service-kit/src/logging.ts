import pino from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type Logger = pino.Logger;

/**
 * One JSON object per line on stderr (pino), so log shippers need no parsing rules and stdout stays for
 * humans. Fastify binds a child of it to each request, carrying the request id.
 */
export function createLogger(service: string, level: LogLevel = 'info'): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
