import { isInterfaceType, isObjectType, Kind, valueFromASTUntyped, type ConstDirectiveNode, type GraphQLNamedType, type GraphQLSchema } from 'graphql';
import type { Principal } from '@switchyard/service-kit';
import type { ActiveSupergraph, LinkedDirective } from '../../execution/supergraph';
import type { AuthorizationConfig, PolicyDefinition } from './config';

/** What one schema element asks of the caller: every check must pass. */
export interface Requirement {
  authenticated: boolean;
  /** Each entry is one @requiresScopes application: OR of its inner lists, each an AND of scopes. */
  scopes: string[][][];
  /** Each entry is one @policy application: OR of its inner lists, each an AND of policy names. */
  policies: string[][][];
}

/**
 * The @authenticated, @requiresScopes and @policy applications of one supergraph, by type name and by
 * field coordinate ("Query.me"), read once per supergraph version. Composition has already carried the
 * requirements of an interface's implementations onto the interface and its fields.
 */
export interface Policy {
  types: ReadonlyMap<string, Requirement>;
  fields: ReadonlyMap<string, Requirement>;
  /** Every scope any requirement names: a principal's other scopes cannot change a decision. */
  scopes: ReadonlySet<string>;
  /** Every policy name @policy applications name, with the coordinates that name it. */
  policyNames: ReadonlyMap<string, readonly string[]>;
}

const policies = new WeakMap<ActiveSupergraph, Policy>();

export function policyOf(supergraph: ActiveSupergraph): Policy {
  let policy = policies.get(supergraph);
  if (!policy) {
    policy = readPolicy(supergraph.schema, supergraph.directiveNames);
    policies.set(supergraph, policy);
  }
  return policy;
}

/** An argument that is a list of lists of strings (`[["a", "b"], ["c"]]`); a bare item counts as a list of one. */
function listsArgument(directive: ConstDirectiveNode, name: string): string[][] | undefined {
  const argument = directive.arguments?.find((a) => a.name.value === name);
  if (argument?.value.kind !== Kind.LIST) return undefined;
  return (valueFromASTUntyped(argument.value) as unknown[]).map((all) => (Array.isArray(all) ? all.map(String) : [String(all)]));
}

export function readPolicy(schema: GraphQLSchema, names: Readonly<Partial<Record<LinkedDirective, string>>>): Policy {
  const types = new Map<string, Requirement>();
  const fields = new Map<string, Requirement>();
  const scopes = new Set<string>();
  const policyNames = new Map<string, string[]>();
  const read = (coordinate: string, directives: readonly ConstDirectiveNode[] | undefined): Requirement | undefined => {
    let requirement: Requirement | undefined;
    for (const directive of directives ?? []) {
      const name = directive.name.value;
      if (name === names.authenticated) {
        requirement ??= { authenticated: false, scopes: [], policies: [] };
        requirement.authenticated = true;
      } else if (name === names.requiresScopes) {
        const alternatives = listsArgument(directive, 'scopes');
        if (!alternatives) continue;
        for (const scope of alternatives.flat()) scopes.add(scope);
        requirement ??= { authenticated: false, scopes: [], policies: [] };
        requirement.scopes.push(alternatives);
      } else if (name === names.policy) {
        const alternatives = listsArgument(directive, 'policies');
        if (!alternatives) continue;
        for (const policy of new Set(alternatives.flat())) policyNames.set(policy, [...(policyNames.get(policy) ?? []), coordinate]);
        requirement ??= { authenticated: false, scopes: [], policies: [] };
        requirement.policies.push(alternatives);
      }
    }
    return requirement;
  };
  for (const type of Object.values(schema.getTypeMap()) as GraphQLNamedType[]) {
    if (type.name.startsWith('__')) continue;
    const own = read(type.name, type.astNode?.directives);
    if (own) types.set(type.name, own);
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      const requirement = read(coordinate, field.astNode?.directives);
      if (requirement) fields.set(coordinate, requirement);
    }
  }
  return { types, fields, scopes, policyNames };
}

/**
 * What of a principal a decision depends on: signed in or not, the scopes the supergraph names, and
 * which of the policies it names the principal meets (what those read of the principal, its claims
 * among them, is summed up by that set).
 */
export interface Grant {
  authenticated: boolean;
  scopes: ReadonlySet<string>;
  policies: ReadonlySet<string>;
  /** Identifies the grant for caching: equal keys, equal decisions. */
  key: string;
}

export function grantOf(policy: Policy, principal: Principal, definitions: AuthorizationConfig['policies']): Grant {
  const held = principal.scopes.filter((s) => policy.scopes.has(s)).sort();
  const authenticated = principal.kind !== 'anonymous';
  const met = [...policy.policyNames.keys()].filter((name) => meetsPolicy(principal, definitions[name])).sort();
  return { authenticated, scopes: new Set(held), policies: new Set(met), key: JSON.stringify([authenticated, held, met]) };
}

/** A policy the config does not define is met by no one: an unevaluated policy denies, as in Apollo Router. */
function meetsPolicy(principal: Principal, definition: PolicyDefinition | undefined): boolean {
  if (!definition) return false;
  if (definition.authenticated && principal.kind === 'anonymous') return false;
  if (definition.scopes && !definition.scopes.some((all) => all.every((scope) => principal.scopes.includes(scope)))) return false;
  return Object.entries(definition.claims ?? {}).every(([name, accepted]) =>
    claimMatches(Object.hasOwn(principal.claims, name) ? principal.claims[name] : undefined, accepted),
  );
}

/** The claim (or any item of a claim that is a list) equals the accepted value or one of them; no conversions. */
function claimMatches(claim: unknown, accepted: NonNullable<PolicyDefinition['claims']>[string]): boolean {
  const values = Array.isArray(claim) ? claim : [claim];
  const wanted: unknown[] = Array.isArray(accepted) ? accepted : [accepted];
  return values.some((value) => wanted.includes(value));
}

export function satisfies(grant: Grant, requirement: Requirement | undefined): boolean {
  if (!requirement) return true;
  if (requirement.authenticated && !grant.authenticated) return false;
  const meets = (alternatives: string[][], held: ReadonlySet<string>) => alternatives.some((all) => all.every((name) => held.has(name)));
  return requirement.scopes.every((alternatives) => meets(alternatives, grant.scopes)) && requirement.policies.every((alternatives) => meets(alternatives, grant.policies));
}
