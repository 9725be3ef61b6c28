import { IDENTITY_SECRET_MIN_LENGTH } from '@switchyard/service-kit';
import { z } from 'zod';

/** How the gateway signs the principal it forwards to subgraphs (README "Trust model"). Switchyard only. */
export const subgraphIdentityConfigSchema = z
  .object({
    signing_secret: z
      .string()
      .min(IDENTITY_SECRET_MIN_LENGTH, `must be at least ${IDENTITY_SECRET_MIN_LENGTH} characters`)
      .nullish()
      .describe('Shared with every subgraph; HMAC key of x-switchyard-identity-signature. Without it the gateway forwards no principal (Switchyard subgraphs then see every caller as anonymous). Set it with env IDENTITY_SIGNING_SECRET, not in a committed file.'),
  })
  .strict()
  .default({});

export type SubgraphIdentityConfig = z.infer<typeof subgraphIdentityConfigSchema>;

export const subgraphIdentityEnvBindings = { IDENTITY_SIGNING_SECRET: 'subgraph_identity.signing_secret' };
