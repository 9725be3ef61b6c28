import { booleanFromEnv } from '@switchyard/service-kit';
import { z } from 'zod';

/** authorization: Apollo Router's keys for the @authenticated and @requiresScopes directives. */
export const authorizationConfigSchema = z
  .object({
    directives: z
      .object({
        enabled: booleanFromEnv
          .default(true)
          .describe('Enforce @authenticated and @requiresScopes from the supergraph before planning. env AUTHORIZATION_DIRECTIVES'),
        reject_unauthorized: booleanFromEnv
          .default(false)
          .describe('Refuse the whole operation (errors, no data) when any field is unauthorized, instead of serving the rest.'),
        dry_run: booleanFromEnv
          .default(false)
          .describe('Serve everything and only report (log, decision, metric) what enforcing would remove. env AUTHORIZATION_DRY_RUN'),
      })
      .strict()
      .default({}),
  })
  .strict()
  .default({});

export type AuthorizationConfig = z.infer<typeof authorizationConfigSchema>;

export const authorizationEnvBindings = {
  AUTHORIZATION_DIRECTIVES: 'authorization.directives.enabled',
  AUTHORIZATION_DRY_RUN: 'authorization.directives.dry_run',
};
