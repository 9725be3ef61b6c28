import { commaList, duration, httpUrl, type EnvBindings } from '@switchyard/service-kit';
import { z } from 'zod';

/** Asymmetric JWS algorithms only: with a public JWKS, an HMAC algorithm would let anyone holding it sign. */
const JWS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

const jwksSource = z
  .object({
    url: httpUrl.describe('Where the signing keys are fetched (and re-fetched when a token names an unknown key id). env JWT_JWKS_URL'),
    // Router lets these be omitted (any issuer, any audience); a gateway for one API should not accept tokens minted for another.
    issuers: commaList(z.array(z.string().min(1)).min(1)).describe('Accepted `iss` values. env JWT_ISSUER (comma list)'),
    audiences: commaList(z.array(z.string().min(1)).min(1)).describe('Accepted `aud` values; a token must name one. env JWT_AUDIENCE (comma list)'),
    algorithms: z.array(z.enum(JWS_ALGORITHMS)).min(1).default(['RS256', 'ES256', 'EdDSA']).describe('Accepted signing algorithms.'),
  })
  .strict();

export const authenticationConfigSchema = z
  .object({
    router: z
      .object({
        jwt: z
          .object({
            jwks: z.array(jwksSource).min(1),
            clock_skew: duration.default('30s').describe('Leeway for exp and nbf against clock drift.'),
          })
          .strict()
          .optional()
          .describe('Bearer JWT verification. Absent: every request is anonymous and presented tokens are refused.'),
      })
      .strict()
      .default({}),
  })
  .strict()
  .default({});

export type AuthenticationConfig = z.infer<typeof authenticationConfigSchema>;

export const identityEnvBindings: EnvBindings = {
  JWT_JWKS_URL: 'authentication.router.jwt.jwks.0.url',
  JWT_ISSUER: 'authentication.router.jwt.jwks.0.issuers',
  JWT_AUDIENCE: 'authentication.router.jwt.jwks.0.audiences',
};
