import { z } from 'zod';

export const identityConfigSchema = z
  .object({
    /** Bearer JWT verification; without it every request is anonymous and presented tokens are refused. */
    jwt: z
      .object({
        issuer: z.string().min(1),
        audience: z.string().min(1),
        /** Keys are fetched from here and re-fetched when a token names an unknown key id (rotation). */
        jwksUrl: z.string().url(),
        algorithms: z.array(z.string().min(1)).min(1).default(['RS256', 'ES256', 'EdDSA']),
        clockToleranceSeconds: z.coerce.number().int().nonnegative().default(30),
      })
      .strict()
      .optional(),
  })
  .strict()
  .default({});

export type IdentityConfig = z.infer<typeof identityConfigSchema>;
