import type { ActiveSupergraph } from '../../execution/supergraph';
import type { AuthorizationConfig } from './config';
import { policyOf } from './policy';

/** At most this many coordinates in a refusal: enough to find the applications, short enough to read. */
const NAMED_COORDINATES = 5;

/**
 * Refuses (throws, naming the config key) a supergraph this authorization config would serve open:
 * one whose @authenticated, @requiresScopes or @policy would go unenforced because enforcement is off,
 * or whose @policy names a policy authorization.policies does not define. Run on every supergraph
 * version before it is served, so that a bad one stops the start, or is refused on reload while the
 * previous one keeps serving.
 */
export function checkAuthorizationSupergraph(supergraph: ActiveSupergraph, config: AuthorizationConfig): void {
  const policy = policyOf(supergraph);
  if (!config.directives.enabled) {
    const protectedCoordinates = [...policy.types.keys(), ...policy.fields.keys()];
    if (protectedCoordinates.length === 0 || config.directives.unsafe_allow_unenforced) return;
    throw new Error(
      `authorization.directives.enabled: false, but ${supergraph.path} protects ${listed(protectedCoordinates)} with @authenticated, ` +
        '@requiresScopes or @policy, so every caller would get them; enable it, or set authorization.directives.unsafe_allow_unenforced: true',
    );
  }
  const undefinedPolicies = [...policy.policyNames].filter(([name]) => !Object.hasOwn(config.policies, name));
  if (undefinedPolicies.length === 0) return;
  throw new Error(
    `authorization.policies: ${supergraph.path} applies ` +
      undefinedPolicies.map(([name, coordinates]) => `@policy "${name}" (at ${listed(coordinates)})`).join(', ') +
      `, which ${undefinedPolicies.length === 1 ? 'is' : 'are'} not defined; define ${undefinedPolicies.length === 1 ? 'it' : 'them'} there`,
  );
}

function listed(coordinates: readonly string[]): string {
  const shown = coordinates.slice(0, NAMED_COORDINATES).join(', ');
  return coordinates.length > NAMED_COORDINATES ? `${shown} and ${coordinates.length - NAMED_COORDINATES} more` : shown;
}
