import { booleanFromEnv, port } from '@switchyard/service-kit';
import { z } from 'zod';

/** Env vars carry lists as comma-separated strings. */
const list = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)),
);

export const httpConfigSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(4000),
    /** Largest accepted request body; larger ones get 413 before they are buffered. */
    bodyLimitBytes: z.coerce.number().int().positive().default(1_048_576),
    /** On SIGTERM, in-flight requests get this long to finish. */
    drainMs: z.coerce.number().int().nonnegative().default(10_000),
    cors: z
      .object({
        /** Exact origins allowed to call from browsers ("*" for any); Apollo Studio's by default. */
        allowedOrigins: list.default(['https://studio.apollographql.com', 'https://sandbox.embed.apollographql.com']),
      })
      .strict()
      .default({}),
    /** What a browser sees at GET /graphql: Apollo Sandbox (needs internet) or nothing. */
    landingPage: z.enum(['sandbox', 'none']).default('sandbox'),
    /** Self-contained GraphiQL at /graphiql, served from npm assets with no internet needed. */
    graphiql: booleanFromEnv.default(true),
    introspection: booleanFromEnv.default(true),
  })
  .strict()
  .default({});

export type HttpConfig = z.infer<typeof httpConfigSchema>;
