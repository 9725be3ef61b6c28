import { composeSupergraph } from '@switchyard/schema-tools';
import { checkSupergraph } from '../../execution/supergraph';
import { checkAuthorizationSupergraph } from './check';
import { authorizationConfigSchema } from './config';

function compose(sdl: string) {
  const composed = composeSupergraph([{ name: 'vault', url: 'http://vault.test/graphql', sdl }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  return checkSupergraph('vault.graphql', composed.supergraphSdl, {});
}

const POLICIES = compose(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@policy"])
  type Vault @key(fields: "id") @policy(policies: [["staff", "gold"], ["admin"]]) { id: ID! }
  type Query { vault: Vault salary: Int @policy(policies: [["staff"]]) bonus: Int @policy(policies: [["staff"]]) }
`);
const SIGNED_IN = compose(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@authenticated"])
  type Query { me: String @authenticated }
`);
const OPEN = compose(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@authenticated"])
  type Query { hello: String }
`);

const config = (authorization: unknown) => authorizationConfigSchema.parse(authorization);
const refusal = (check: () => void) => {
  try {
    check();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
};

describe('the supergraph check of the authorization config', () => {
  it('refuses a supergraph applying policies the config does not define, naming each with where it is applied', () => {
    expect(refusal(() => checkAuthorizationSupergraph(POLICIES, config({ policies: { staff: { claims: { groups: 'staff' } } } })))).toBe(
      'authorization.policies: vault.graphql applies @policy "gold" (at Vault), @policy "admin" (at Vault), which are not defined; define them there',
    );
    expect(refusal(() => checkAuthorizationSupergraph(POLICIES, config({ policies: { gold: {}, admin: {} } })))).toBe(
      'authorization.policies: vault.graphql applies @policy "staff" (at Query.salary, Query.bonus, Vault), which is not defined; define it there',
    );
  });

  it('accepts it once every policy it names is defined', () => {
    expect(refusal(() => checkAuthorizationSupergraph(POLICIES, config({ policies: { staff: {}, gold: {}, admin: { scopes: [['vault:admin']] } } })))).toBeUndefined();
  });

  it('with enforcement off, refuses a supergraph that protects anything, unless unsafe_allow_unenforced says to serve it open', () => {
    expect(refusal(() => checkAuthorizationSupergraph(SIGNED_IN, config({ directives: { enabled: false } })))).toBe(
      'authorization.directives.enabled: false, but vault.graphql protects Query.me with @authenticated, @requiresScopes or @policy, so every caller ' +
        'would get them; enable it, or set authorization.directives.unsafe_allow_unenforced: true',
    );
    expect(refusal(() => checkAuthorizationSupergraph(POLICIES, config({ directives: { enabled: false } })))).toMatch(
      /^authorization\.directives\.enabled: false, but vault\.graphql protects Vault, Query\.salary, Query\.bonus with /,
    );
    expect(refusal(() => checkAuthorizationSupergraph(SIGNED_IN, config({ directives: { enabled: false, unsafe_allow_unenforced: true } })))).toBeUndefined();
    // Nothing protected, nothing to leave open; and unevaluated policies do not matter while nothing is enforced.
    expect(refusal(() => checkAuthorizationSupergraph(OPEN, config({ directives: { enabled: false } })))).toBeUndefined();
    expect(refusal(() => checkAuthorizationSupergraph(POLICIES, config({ directives: { enabled: false, unsafe_allow_unenforced: true } })))).toBeUndefined();
  });
});

describe('authorization.policies', () => {
  it('defaults a policy to needing a signed-in caller, and refuses scopes or claims on one that does not', () => {
    expect(config({ policies: { anyone: { authenticated: false }, member: {} } }).policies).toEqual({
      anyone: { authenticated: false },
      member: { authenticated: true },
    });
    expect(authorizationConfigSchema.safeParse({ policies: { odd: { authenticated: false, claims: { plan: 'gold' } } } }).error?.issues).toEqual([
      expect.objectContaining({ path: ['policies', 'odd', 'authenticated'], message: 'scopes and claims need a signed-in caller: leave authenticated true' }),
    ]);
    expect(authorizationConfigSchema.safeParse({ policies: { empty: { scopes: [[]] } } }).success).toBe(false);
    expect(authorizationConfigSchema.safeParse({ policies: { empty: { claims: { plan: [] } } } }).success).toBe(false);
  });
});
