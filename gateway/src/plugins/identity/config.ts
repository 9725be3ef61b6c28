import { byteSize, commaList, duration, httpUrl, isForwardablePrincipalId, isScopeToken, type EnvBindings } from '@switchyard/service-kit';
import { z } from 'zod';

/**
 * Asymmetric JWS algorithms only: with a public key, an HMAC algorithm would let anyone holding it sign
 * (HS256 "signed" with the RSA public key as the secret), and `none` is no signature at all.
 */
export const JWS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

const positiveDuration = duration.pipe(z.number().positive());

/** A public key given in config: a JWK (with its `kid`), or a PEM SPKI block with the kid tokens name. */
const staticKey = z.union([
  z
    .object({ kid: z.string().min(1), pem: z.string().refine((pem) => pem.includes('-----BEGIN PUBLIC KEY-----'), 'must be a PEM "PUBLIC KEY" (SPKI) block') })
    .strict(),
  z
    .object({ kty: z.enum(['RSA', 'EC', 'OKP']), kid: z.string().min(1), alg: z.enum(JWS_ALGORITHMS).optional() })
    .passthrough()
    .refine((jwk) => !('d' in jwk), 'is a private key: give only its public part'),
]);

const jwksSource = z
  .object({
    url: httpUrl.optional().describe('Where the signing keys are fetched, and re-fetched on poll_interval. env JWT_JWKS_URL'),
    keys: z.array(staticKey).min(1).optional().describe('Static public keys instead of a url: JWKs, or { kid, pem } with a PEM public key.'),
    // Router lets these be omitted (any issuer, any audience); a gateway for one API should not accept tokens minted for another.
    issuers: commaList(z.array(z.string().min(1)).min(1)).describe('Accepted `iss` values. env JWT_ISSUER (comma list)'),
    audiences: commaList(z.array(z.string().min(1)).min(1)).describe('Accepted `aud` values; a token must name one. env JWT_AUDIENCE (comma list)'),
    algorithms: z.array(z.enum(JWS_ALGORITHMS)).min(1).default(['RS256', 'ES256', 'EdDSA']).describe('Accepted signing algorithms (none and HS* are never accepted).'),
    allow_missing_exp: z
      .boolean()
      .default(false)
      .describe(
        'Accept tokens from these issuers without an `exp` claim (refused by default, 401 "missing exp": such a token never expires, ' +
          'so only removing its signing key ends it). Each is still verified again at least every 5 minutes.',
      ),
    poll_interval: positiveDuration.default('60s').describe('How often the keys at url are re-fetched, so rotated keys are picked up without a restart.'),
    unknown_kid_cooldown: positiveDuration
      .default('30s')
      .describe('A token naming a key id not in the cache re-fetches the keys at most once per this period, so made-up kids cannot hammer the provider.'),
    max_stale: positiveDuration
      .default('1h')
      .describe('While the provider is down, the last keys fetched keep verifying tokens for this long after the last successful fetch.'),
    timeout: positiveDuration.default('5s').describe('Longest one fetch of the keys may take.'),
  })
  .strict()
  .superRefine((source, ctx) => {
    // Neither: reported as a missing url, the usual case, so the message names its env var.
    if (source.url === undefined && source.keys === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.invalid_type, expected: 'string', received: 'undefined', path: ['url'], message: 'Required' });
    }
    if (source.url !== undefined && source.keys !== undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['keys'], message: 'give either url (a JWKS endpoint) or keys (static public keys), not both' });
    }
  });

export type JwksSourceConfig = z.infer<typeof jwksSource>;

/** Where a token is read from, as Router's `sources`: a header (with a prefix such as "Bearer") or a cookie. */
const tokenSource = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('header'),
      name: z.string().min(1).transform((name) => name.toLowerCase()),
      value_prefix: z.string().default('Bearer').describe('What precedes the token in the header value; "" for the bare token.'),
    })
    .strict(),
  z.object({ type: z.literal('cookie'), name: z.string().min(1) }).strict(),
]);

export type TokenSource = z.infer<typeof tokenSource>;

const apiKeyEntry = z
  .object({
    name: z
      .string()
      .min(1)
      .refine(isForwardablePrincipalId, 'must be Latin-1 text without control characters or spaces at its ends: it is sent to each subgraph in a header')
      .describe('Who holds the key; the principal id, in logs and the rate limiter.'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the key (npm run apikey prints it)')
      .describe('Hex SHA-256 of the key; the key itself is never stored.'),
    scopes: z
      .array(z.string().refine(isScopeToken, 'must be an RFC 6749 scope-token: printable ASCII without spaces, " or \\'))
      .default([])
      .describe('The scopes requests with this key hold.'),
    rate_limit_class: z.string().min(1).optional().describe('A class of rate_limit.classes that limits this key instead of user.'),
  })
  .strict();

export const apiKeyEntries = z.array(apiKeyEntry);
export type ApiKeyEntry = z.infer<typeof apiKeyEntry>;

export const authenticationConfigSchema = z
  .object({
    router: z
      .object({
        jwt: z
          .object({
            jwks: z.array(jwksSource).min(1),
            clock_skew: duration.default('30s').describe('Leeway for exp, nbf and iat against clock drift.'),
            sources: z
              .array(tokenSource)
              .min(1)
              .default([{ type: 'header', name: 'Authorization', value_prefix: 'Bearer' }])
              .describe('Where the token is read from, first present wins: { type: header, name, value_prefix } or { type: cookie, name }.'),
            on_error: z
              .enum(['Error', 'Continue'])
              .default('Error')
              .describe('A token that fails verification: Error answers 401; Continue serves the request as anonymous.'),
            max_token_size: byteSize.pipe(z.number().positive()).default('8KiB').describe('A longer token is refused (401, too large) before it is parsed.'),
          })
          .strict()
          .optional()
          .describe('Bearer JWT verification. Absent: every request is anonymous and presented tokens are refused.'),
      })
      .strict()
      .default({}),
    api_keys: z
      .object({
        keys: apiKeyEntries.default([]).describe('API keys for machine clients, sent as x-api-key.'),
        file: z
          .string()
          .min(1)
          .optional()
          .describe('A YAML or JSON file with more keys (a list of the same entries), re-read when it changes so a removed key stops working. env API_KEYS_FILE'),
      })
      .strict()
      .default({})
      .describe('Machine clients send `x-api-key: <key>`; a key is looked up by its SHA-256.'),
  })
  .strict()
  .default({});

export type AuthenticationConfig = z.infer<typeof authenticationConfigSchema>;
export type JwtConfig = NonNullable<AuthenticationConfig['router']['jwt']>;

export const identityEnvBindings: EnvBindings = {
  JWT_JWKS_URL: 'authentication.router.jwt.jwks.0.url',
  JWT_ISSUER: 'authentication.router.jwt.jwks.0.issuers',
  JWT_AUDIENCE: 'authentication.router.jwt.jwks.0.audiences',
  API_KEYS_FILE: 'authentication.api_keys.file',
};
