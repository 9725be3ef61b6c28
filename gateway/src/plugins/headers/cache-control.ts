import type { RequestContext } from '../../core/context';
import type { GatewayResponse } from '../../core/plugin';

/** A response that may be cached: for how many seconds, and by whom (any cache, or only the client's own). */
export interface CachePolicy {
  maxAge: number;
  scope: 'public' | 'private';
}

/**
 * One answer's Cache-Control as a policy, or undefined when it may not be cached: no-store, no-cache, no
 * max-age (nothing says for how long) or max-age=0. Without `public` it is private: a subgraph that did
 * not say its data is everyone's is not taken to mean it.
 */
export function parseCacheControl(value: string | string[] | undefined): CachePolicy | undefined {
  if (value === undefined) return undefined;
  let maxAge: number | undefined;
  let publicSaid = false;
  let privateSaid = false;
  for (const directive of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const [name, argument] = directive.trim().toLowerCase().split('=', 2) as [string, string | undefined];
    if (name === 'no-store' || name === 'no-cache') return undefined;
    if (name === 'private') privateSaid = true;
    else if (name === 'public') publicSaid = true;
    else if (name === 'max-age' && argument !== undefined && /^\d{1,9}$/.test(argument)) maxAge = Math.min(maxAge ?? Infinity, Number(argument));
  }
  if (maxAge === undefined || maxAge === 0) return undefined;
  return { maxAge, scope: publicSaid && !privateSaid ? 'public' : 'private' };
}

/**
 * The policy of one response, merged restrictively over every subgraph answer that made it: any no-store
 * (or an answer without Cache-Control, or a failed fetch) makes it uncacheable, any private makes it
 * private, the smallest max-age wins. Mutations, answers with errors and answers no subgraph made (an
 * introspection, a refusal) are never cacheable, and neither is one a subgraph set a cookie with: kept,
 * its cookie would be replayed to other clients (or lost on a hit), whatever the response rules send on.
 */
export function mergedCachePolicy(context: RequestContext, response: GatewayResponse): CachePolicy | undefined {
  if (context.operation?.type !== 'query' || response.status !== 200 || (response.body.errors?.length ?? 0) > 0) return undefined;
  if (context.fetches.length === 0) return undefined;
  let merged: CachePolicy = { maxAge: Infinity, scope: 'public' };
  for (const fetch of context.fetches) {
    if (fetch.headers?.['set-cookie'] !== undefined) return undefined;
    const policy = fetch.errorType === undefined ? parseCacheControl(fetch.headers?.['cache-control']) : undefined;
    if (!policy) return undefined;
    merged = { maxAge: Math.min(merged.maxAge, policy.maxAge), scope: merged.scope === 'private' || policy.scope === 'private' ? 'private' : 'public' };
  }
  return merged;
}

/** The Cache-Control a client gets for a policy. */
export function cacheControlValue(policy: CachePolicy | undefined): string {
  return policy ? `${policy.scope}, max-age=${policy.maxAge}` : 'no-store';
}
