import { IDENTITY_SECRET_MIN_LENGTH } from '@switchyard/service-kit';
import { z } from 'zod';

/** How the gateway signs the principal it forwards to subgraphs (docs/authorization.md, "Trust model"). Switchyard only. */
export const subgraphIdentityConfigSchema = z
  .object({
    signing_secret: z
      .string()
      .min(IDENTITY_SECRET_MIN_LENGTH, `must be at least ${IDENTITY_SECRET_MIN_LENGTH} characters`)
      .nullish()
      .describe('Shared with every subgraph; HMAC key of x-switchyard-identity-signature, which every request to a subgraph carries. Without it requests go unsigned, with no principal, which Switchyard subgraphs refuse (for subgraphs that read no identity headers). Set it with env IDENTITY_SIGNING_SECRET, not in a committed file.'),
  })
  .strict()
  .default({});

export type SubgraphIdentityConfig = z.infer<typeof subgraphIdentityConfigSchema>;

export const subgraphIdentityEnvBindings = { IDENTITY_SIGNING_SECRET: 'subgraph_identity.signing_secret' };
