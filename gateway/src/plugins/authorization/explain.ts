import type { Grant, Requirement } from './policy';

/** What a denied caller is told it lacks, beside UNAUTHORIZED_FIELD_OR_TYPE (authorization.explain_denials). */
export interface DenialExplanation {
  message: string;
  extensions: Record<string, unknown>;
}

/**
 * Why the grant does not satisfy the requirement, in the caller's terms: no credential at all, or the
 * scopes (and @policy names) it still needs, as Cosmo Router's `missingScopes` states them: a list of
 * alternatives, any one of which is enough (`[["orders:read"], ["support:read"]]`).
 */
export function explainDenial(requirement: Requirement | undefined, grant: Grant): DenialExplanation | undefined {
  if (!requirement) return undefined;
  if (!grant.authenticated) {
    return {
      message: 'Unauthorized field or type: the request has no credential (a bearer token or an API key)',
      extensions: { missingCredential: true },
    };
  }
  const missingScopes = stillNeeded(requirement.scopes, grant.scopes);
  if (missingScopes) {
    return { message: `Unauthorized field or type: the credential lacks ${describe(missingScopes, 'scope')}`, extensions: { missingScopes } };
  }
  const missingPolicies = stillNeeded(requirement.policies, grant.policies);
  if (missingPolicies) {
    return { message: `Unauthorized field or type: the credential does not meet ${describe(missingPolicies, 'policy', 'policies')}`, extensions: { missingPolicies } };
  }
  return undefined;
}

/**
 * Each application is an OR of ANDs and all applications must hold, so what is still needed is every
 * combination of one unmet alternative per unmet application, less what the caller holds. undefined
 * when nothing is.
 */
function stillNeeded(applications: readonly string[][][], held: ReadonlySet<string>): string[][] | undefined {
  let combinations: string[][] = [[]];
  for (const alternatives of applications) {
    if (alternatives.some((all) => all.every((name) => held.has(name)))) continue;
    const needs = alternatives.map((all) => all.filter((name) => !held.has(name)));
    combinations = combinations.flatMap((chosen) => needs.map((need) => [...new Set([...chosen, ...need])]));
  }
  return combinations.some((combination) => combination.length > 0) ? combinations : undefined;
}

/** "scope orders:read", "scopes admin and audit", "scope secret:read, or scopes admin and audit". */
function describe(alternatives: string[][], one: string, many = `${one}s`): string {
  return alternatives.map((all) => `${all.length === 1 ? one : many} ${all.join(' and ')}`).join(', or ');
}
