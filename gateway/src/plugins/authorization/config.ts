import { booleanFromEnv } from '@switchyard/service-kit';
import { z } from 'zod';

// min(1) also keeps the JSON Schema an anyOf: a union of bare primitives becomes a type list, which strict validators refuse.
const claimValue = z.union([z.string().min(1), z.number(), z.boolean()]);

/** What one policy that `@policy` names asks of the caller: every condition given must hold. */
const policyDefinition = z
  .object({
    authenticated: z
      .boolean()
      .default(true)
      .describe('The caller must be signed in (a token or an API key). false only with no scopes or claims: the policy then admits anyone.'),
    scopes: z
      .array(z.array(z.string().min(1)).min(1))
      .min(1)
      .optional()
      .describe('As @requiresScopes: an OR of ANDs, [["a", "b"], ["c"]] is a and b, or c.'),
    claims: z
      .record(z.string().min(1), z.union([claimValue, z.array(claimValue).min(1)]))
      .optional()
      .describe(
        'Token claims by top-level name: the claim must equal the value, or one of the values given as a list; a claim that is a list ' +
          'matches when any of its items does. Compared exactly ("1" is not 1). API keys carry no claims.',
      ),
  })
  .strict()
  .refine((policy) => policy.authenticated || (policy.scopes === undefined && policy.claims === undefined), {
    message: 'scopes and claims need a signed-in caller: leave authenticated true',
    path: ['authenticated'],
  });

export type PolicyDefinition = z.infer<typeof policyDefinition>;

/** authorization: Apollo Router's keys for the @authenticated, @requiresScopes and @policy directives. */
export const authorizationConfigSchema = z
  .object({
    directives: z
      .object({
        enabled: booleanFromEnv
          .default(true)
          .describe('Enforce @authenticated, @requiresScopes and @policy from the supergraph before planning. env AUTHORIZATION_DIRECTIVES'),
        reject_unauthorized: booleanFromEnv
          .default(false)
          .describe('Refuse the whole operation (errors, no data) when any field is unauthorized, instead of serving the rest.'),
        dry_run: booleanFromEnv
          .default(false)
          .describe('Serve everything and only report (log, decision, metric) what enforcing would remove. env AUTHORIZATION_DRY_RUN'),
        unsafe_allow_unenforced: z
          .boolean()
          .default(false)
          .describe(
            'With enabled false, the gateway refuses to start on (and to reload to) a supergraph that applies @authenticated, @requiresScopes ' +
              'or @policy, since every caller would get those fields. true serves them to everyone anyway.',
          ),
      })
      .strict()
      .default({}),
    explain_denials: booleanFromEnv
      .default(true)
      .describe(
        'Say in each UNAUTHORIZED_FIELD_OR_TYPE error what the caller lacks: a credential (extensions.missingCredential) or which scopes ' +
          '(extensions.missingScopes, alternatives as in @requiresScopes). Under NODE_ENV=production the default is false: the schema\'s ' +
          'requirements are not part of the API there (introspection is off too). env AUTHORIZATION_EXPLAIN_DENIALS',
      ),
    policies: z
      .record(z.string().min(1), policyDefinition)
      .default({})
      .describe(
        'The policies @policy names, by name: { authenticated, scopes, claims }. A supergraph naming a policy not defined here is refused ' +
          '(at start and on reload), as Apollo Router denies an unevaluated policy.',
      ),
  })
  .strict()
  .default({});

export type AuthorizationConfig = z.infer<typeof authorizationConfigSchema>;

/** What the directives stage is given: its mode and the policies @policy names. */
export type DirectivesAuthorizationConfig = AuthorizationConfig['directives'] & Pick<AuthorizationConfig, 'policies'>;

export const authorizationEnvBindings = {
  AUTHORIZATION_DIRECTIVES: 'authorization.directives.enabled',
  AUTHORIZATION_DRY_RUN: 'authorization.directives.dry_run',
  AUTHORIZATION_EXPLAIN_DENIALS: 'authorization.explain_denials',
};
