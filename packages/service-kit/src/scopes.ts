/**
 * The one reading of OAuth scopes, shared by the gateway (token claims, API key config) and the subgraphs
 * (the forwarded scopes header). A scope is an RFC 6749 §3.3 scope-token: printable ASCII without space,
 * `"` or `\`. Because no token can hold a space, a list joined with single spaces splits back into exactly
 * the tokens it was built from; anything that does not fit the grammar is refused, never trimmed or dropped,
 * so two readers can never see two different lists.
 */

/** A scope list, claim or header that is not made of RFC 6749 scope-tokens. */
export class MalformedScopes extends Error {}

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export const isScopeToken = (value: unknown): value is string => typeof value === 'string' && SCOPE_TOKEN.test(value);

/** Scopes as one space-delimited string (the `scope` claim, the forwarded header); refuses what could not be read back. */
export function formatScopeList(scopes: readonly string[]): string {
  for (const scope of scopes) if (!isScopeToken(scope)) throw new MalformedScopes('a scope is not an RFC 6749 scope-token');
  return scopes.join(' ');
}

/**
 * A space-delimited scope list: tokens separated by single spaces. The empty string is no scopes; a
 * leading, trailing or doubled space (an empty token) and any other whitespace are malformed.
 */
export function parseScopeList(text: string): string[] {
  if (text === '') return [];
  const scopes = text.split(' ');
  for (const scope of scopes) if (!isScopeToken(scope)) throw new MalformedScopes('scopes are not space-separated RFC 6749 scope-tokens');
  return scopes;
}

/**
 * A verified token's scopes: the `scope` claim (a space-delimited string, RFC 8693/9068) or `scp` (an
 * array of scopes, or a string, as some issuers send it), `scope` first. Every claim present must be
 * well-formed, even the one not used: a token whose claims disagree about their own shape is refused.
 */
export function scopesFromClaims(claims: Record<string, unknown>): string[] {
  const read = (claim: unknown): string[] | undefined => {
    if (claim === undefined) return undefined;
    if (typeof claim === 'string') return parseScopeList(claim);
    if (Array.isArray(claim) && claim.every(isScopeToken)) return [...claim];
    throw new MalformedScopes('the scope claims are not RFC 6749 scope-tokens');
  };
  const scope = read(claims.scope);
  const scp = read(claims.scp);
  return scope ?? scp ?? [];
}
