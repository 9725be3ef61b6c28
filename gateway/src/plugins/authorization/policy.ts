import { isInterfaceType, isObjectType, Kind, valueFromASTUntyped, type ConstDirectiveNode, type GraphQLNamedType, type GraphQLSchema } from 'graphql';
import type { Principal } from '@switchyard/service-kit';
import type { ActiveSupergraph } from '../../execution/supergraph';

/** What one schema element asks of the caller: every check must pass. */
export interface Requirement {
  authenticated: boolean;
  /** Each entry is one @requiresScopes application: OR of its inner lists, each an AND of scopes. */
  scopes: string[][][];
}

/**
 * The @authenticated and @requiresScopes applications of one supergraph, by type name and by field
 * coordinate ("Query.me"), read once per supergraph version. Composition has already carried the
 * requirements of an interface's implementations onto the interface's fields.
 */
export interface Policy {
  types: ReadonlyMap<string, Requirement>;
  fields: ReadonlyMap<string, Requirement>;
  /** Every scope any requirement names: a principal's other scopes cannot change a decision. */
  scopes: ReadonlySet<string>;
}

const policies = new WeakMap<ActiveSupergraph, Policy>();

export function policyOf(supergraph: ActiveSupergraph): Policy {
  let policy = policies.get(supergraph);
  if (!policy) {
    policy = readPolicy(supergraph.schema, supergraph.directiveNames.authenticated, supergraph.directiveNames.requiresScopes);
    policies.set(supergraph, policy);
  }
  return policy;
}

export function readPolicy(schema: GraphQLSchema, authenticatedName: string | undefined, requiresScopesName: string | undefined): Policy {
  const types = new Map<string, Requirement>();
  const fields = new Map<string, Requirement>();
  const scopes = new Set<string>();
  const read = (directives: readonly ConstDirectiveNode[] | undefined): Requirement | undefined => {
    let requirement: Requirement | undefined;
    for (const directive of directives ?? []) {
      if (directive.name.value === authenticatedName) {
        requirement ??= { authenticated: false, scopes: [] };
        requirement.authenticated = true;
      } else if (directive.name.value === requiresScopesName) {
        const argument = directive.arguments?.find((a) => a.name.value === 'scopes');
        if (argument?.value.kind !== Kind.LIST) continue;
        const alternatives = (valueFromASTUntyped(argument.value) as unknown[]).map((all) => (Array.isArray(all) ? all.map(String) : [String(all)]));
        for (const scope of alternatives.flat()) scopes.add(scope);
        requirement ??= { authenticated: false, scopes: [] };
        requirement.scopes.push(alternatives);
      }
    }
    return requirement;
  };
  for (const type of Object.values(schema.getTypeMap()) as GraphQLNamedType[]) {
    if (type.name.startsWith('__')) continue;
    const own = read(type.astNode?.directives);
    if (own) types.set(type.name, own);
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const requirement = read(field.astNode?.directives);
      if (requirement) fields.set(`${type.name}.${field.name}`, requirement);
    }
  }
  return { types, fields, scopes };
}

/** What of a principal a decision depends on: signed in or not, and the scopes the policy names. */
export interface Grant {
  authenticated: boolean;
  scopes: ReadonlySet<string>;
  /** Identifies the grant for caching: equal keys, equal decisions. */
  key: string;
}

export function grantOf(policy: Policy, principal: Principal): Grant {
  const held = principal.scopes.filter((s) => policy.scopes.has(s)).sort();
  const authenticated = principal.kind !== 'anonymous';
  return { authenticated, scopes: new Set(held), key: `${authenticated ? 'a' : 'n'}:${held.join(' ')}` };
}

export function satisfies(grant: Grant, requirement: Requirement | undefined): boolean {
  if (!requirement) return true;
  if (requirement.authenticated && !grant.authenticated) return false;
  return requirement.scopes.every((alternatives) => alternatives.some((all) => all.every((scope) => grant.scopes.has(scope))));
}
