import { ANONYMOUS, type Principal } from '@switchyard/service-kit';
import { parse, print, type ExecutionResult } from 'graphql';
import { composeSupergraph } from '../../../scripts/schema/supergraph';
import type { RequestContext } from '../context';
import { OperationRefused, type PrePlanningChange } from '../execution/pre-planning';
import { checkSupergraph } from '../execution/supergraph';
import { authorizationConfigSchema } from './config';
import { policyOf } from './policy';
import { directivesAuthorization } from './stage';

/**
 * An interface whose implementations differ (composition carries Book.label's @authenticated onto
 * Item.label), and a union with a member type only some callers may see.
 */
const SHELF = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes"])
  interface Item { id: ID! label: String }
  type Book implements Item @key(fields: "id") { id: ID! label: String @authenticated }
  type Leaflet implements Item @key(fields: "id") { id: ID! label: String }
  type Secret @key(fields: "id") @requiresScopes(scopes: [["secret:read"], ["admin", "audit"]]) { id: ID! label: String }
  union Result = Book | Secret
  type Query { items: [Item!]! results: [Result!]! secret: Secret! book: Book }
`;
function compose(name: string, sdl: string) {
  const composed = composeSupergraph([{ name, url: `http://${name}.test/graphql`, sdl }]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  return checkSupergraph(`${name}.graphql`, composed.supergraphSdl, {});
}
const supergraph = compose('shelf', SHELF);

function requestContext(principal: Principal) {
  const logged: [Record<string, unknown>, string][] = [];
  const logger = { warn: (fields: Record<string, unknown>, message: string) => logged.push([fields, message]) };
  const context = { requestId: 'req-1', logger, deadline: 0, signal: new AbortController().signal, clientAddress: '', principal, decisions: [] };
  return { context: context as unknown as RequestContext, logged };
}
const user = (scopes: string[]): Principal => ({ kind: 'user', id: 'usr_1', scopes, claims: {} });
const denied = (...path: (string | number)[]) => ({ message: 'Unauthorized field or type', path, extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } });
const ENFORCE = { enabled: true, reject_unauthorized: false, dry_run: false, unsafe_allow_unenforced: false, policies: {} };
const enforce = directivesAuthorization(ENFORCE);

async function run(query: string, principal: Principal, stage = enforce, on = supergraph) {
  const document = parse(query);
  const { context, logged } = requestContext(principal);
  const change = (await stage.beforePlanning({ document, operationName: null, variables: {}, context, supergraph: on })) as PrePlanningChange | undefined;
  return { document, change, context, logged };
}
/** What a client gets when the subgraphs answered `data` to the pruned operation. */
async function complete(query: string, principal: Principal, data: Record<string, unknown>, stage = enforce, on = supergraph) {
  const { change } = await run(query, principal, stage, on);
  const result: ExecutionResult = { data };
  change!.completeResult!(result);
  return { data: result.data, errors: result.errors?.map((e) => e.toJSON()) };
}

describe('the @authenticated / @requiresScopes stage', () => {
  it('an interface field that an implementation protects is removed for anonymous callers, with the runtime type asked for', async () => {
    const { change } = await run('{ items { id label } }', ANONYMOUS);
    expect(print(change!.document)).toBe('{\n  items {\n    id\n    switchyard__typename: __typename\n  }\n}');
    expect(
      await complete('{ items { id label } }', ANONYMOUS, { items: [{ id: 'b1', switchyard__typename: 'Book' }, { id: 'l1', switchyard__typename: 'Leaflet' }] }),
    ).toEqual({ data: { items: [{ id: 'b1', label: null }, { id: 'l1', label: null }] }, errors: [denied('items', 0, 'label'), denied('items', 1, 'label')] });
  });

  it('a fragment on a union member the caller may not see is removed; members it may see are served', async () => {
    const query = '{ results { ... on Book { id } ... on Secret { id label } } }';
    const { change } = await run(query, user([]));
    expect(print(change!.document)).not.toMatch(/Secret/);
    expect(await complete(query, user([]), { results: [{ id: 'b1', switchyard__typename: 'Book' }, { switchyard__typename: 'Secret' }] })).toEqual({
      data: { results: [{ id: 'b1' }, {}] },
      errors: [denied('results', 1)],
    });
  });

  it('@requiresScopes is an OR of ANDs: secret:read alone, or admin with audit', async () => {
    expect((await run('{ secret { id } }', user(['secret:read']))).change).toBeUndefined();
    expect((await run('{ secret { id } }', user(['admin', 'audit']))).change).toBeUndefined();
    expect((await run('{ secret { id } }', user(['admin']))).change).toBeDefined();
  });

  it('a removed non-null root field nulls the whole data', async () => {
    expect(await complete('{ secret { id } book { id } }', user([]), { book: { id: 'b1' } })).toEqual({ data: null, errors: [denied('secret')] });
  });

  it('walks the operation once per grant: the same document and grant get the same pruned operation', async () => {
    const document = parse('{ book { id label } }');
    const first = requestContext(ANONYMOUS);
    const second = requestContext({ ...ANONYMOUS });
    const a = (await enforce.beforePlanning({ document, operationName: null, variables: {}, context: first.context, supergraph })) as { document: unknown };
    const b = (await enforce.beforePlanning({ document, operationName: null, variables: {}, context: second.context, supergraph })) as { document: unknown };
    expect(b.document).toBe(a.document);
    // Scopes the schema never mentions do not make another grant.
    const c = await enforce.beforePlanning({ document, operationName: null, variables: {}, context: requestContext(user(['unrelated'])).context, supergraph });
    expect(c).toBeUndefined();
  });

  it('every denial is one audit log event and one decision', async () => {
    const { logged, context } = await run('{ book { id label } secret { id } }', ANONYMOUS);
    expect(logged).toEqual([
      [
        {
          event: 'authorization.denied',
          requestId: 'req-1',
          principal: { kind: 'anonymous', id: '' },
          scopes: [],
          coordinates: ['Book.label', 'Secret'],
          decision: 'enforced',
        },
        'unauthorized selections removed',
      ],
    ]);
    expect(context.decisions).toEqual([
      { stage: 'authorization', code: 'UNAUTHORIZED_FIELD_OR_TYPE', enforced: true, message: 'unauthorized: Book.label, Secret', details: { coordinates: ['Book.label', 'Secret'] } },
    ]);
  });

  it('dry_run changes nothing and reports what it would have removed', async () => {
    const dryRun = directivesAuthorization({ ...ENFORCE, dry_run: true });
    const { change, logged, context } = await run('{ book { id label } }', ANONYMOUS, dryRun);
    expect(change).toBeUndefined();
    expect(logged[0]![0]).toMatchObject({ coordinates: ['Book.label'], decision: 'dry-run' });
    expect(context.decisions[0]).toMatchObject({ enforced: false, code: 'UNAUTHORIZED_FIELD_OR_TYPE' });
  });

  it('reject_unauthorized refuses the operation with one error per removed path', async () => {
    const reject = directivesAuthorization({ ...ENFORCE, reject_unauthorized: true });
    let refused: unknown;
    try {
      await run('{ b: book { id label } items { label } }', ANONYMOUS, reject);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(OperationRefused);
    expect((refused as OperationRefused).errors.map((e) => e.toJSON())).toEqual([denied('b', 'label'), denied('items', 'label')]);
  });
});

/**
 * @policy on a field, on types (an OR of ANDs), on an enum, beside @requiresScopes, and on an interface:
 * composition carries Painting's policy onto Asset, and Book.label's onto Item.label.
 */
const VAULT = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@policy", "@requiresScopes"])
  interface Item { id: ID! label: String }
  type Book implements Item @key(fields: "id") { id: ID! label: String @policy(policies: [["staff"]]) }
  type Leaflet implements Item @key(fields: "id") { id: ID! label: String }
  interface Asset { id: ID! }
  type Painting implements Asset @key(fields: "id") @policy(policies: [["curator"]]) { id: ID! }
  type Sculpture implements Asset @key(fields: "id") { id: ID! }
  type Vault @key(fields: "id") @policy(policies: [["staff", "gold"], ["admin"]]) { id: ID! }
  enum Tier @policy(policies: [["gold"]]) { GOLD SILVER }
  type Query {
    items: [Item!]!
    assets: [Asset!]!
    vault: Vault
    tier: Tier
    salary: Int @policy(policies: [["staff"]])
    payroll: Int @policy(policies: [["staff"]]) @requiresScopes(scopes: [["payroll:read"]])
  }
`;
const vault = compose('vault', VAULT);
const { policies: POLICIES } = authorizationConfigSchema.parse({
  policies: {
    staff: { claims: { groups: 'staff' } },
    gold: { claims: { plan: ['gold', 'platinum'] } },
    admin: { scopes: [['vault:admin']] },
    curator: { scopes: [['art:read', 'art:curate'], ['museum:admin']] },
  },
});
const enforcePolicies = directivesAuthorization({ ...ENFORCE, policies: POLICIES });
const caller = (claims: Record<string, unknown>, scopes: string[] = []): Principal => ({ kind: 'user', id: 'usr_1', scopes, claims });
const STAFF = caller({ groups: ['ops', 'staff'] });

/** The coordinates the stage denied `principal` in `query` on the vault supergraph; [] when it changed nothing. */
async function deniedIn(query: string, principal: Principal, stage = enforcePolicies): Promise<unknown> {
  const { change, context } = await run(query, principal, stage, vault);
  if (!change) return [];
  return context.decisions[0]!.details!.coordinates;
}

describe('the @policy directive', () => {
  it('a field needing a claim: a list claim holding the value, or the value itself, meets it; anything else is removed', async () => {
    const cases: [string, Principal, unknown][] = [
      ['no token', ANONYMOUS, ['Query.salary']],
      ['a token without the claim', caller({}), ['Query.salary']],
      ['a token with a scope named like the policy, not the claim', caller({}, ['staff']), ['Query.salary']],
      ['a list claim holding the value', STAFF, []],
      ['a string claim equal to the value', caller({ groups: 'staff' }), []],
      ['a list claim without the value', caller({ groups: ['ops'] }), ['Query.salary']],
      ['another value, differing only in case', caller({ groups: 'Staff' }), ['Query.salary']],
      ['a nested list holding the value', caller({ groups: [['staff']] }), ['Query.salary']],
      ['an API key, which carries no claims', { kind: 'apiKey', id: 'ci', scopes: ['staff'], claims: {} }, ['Query.salary']],
    ];
    for (const [scenario, principal, denied] of cases) expect([scenario, await deniedIn('{ salary }', principal)]).toEqual([scenario, denied]);
  });

  it('a type whose policies are an OR of ANDs: staff and gold together, or admin alone', async () => {
    const cases: [string, Principal, unknown][] = [
      ['no token', ANONYMOUS, ['Vault']],
      ['staff alone', STAFF, ['Vault']],
      ['gold alone', caller({ plan: 'gold' }), ['Vault']],
      ['staff with a plan that is not listed', caller({ groups: ['staff'], plan: 'silver' }), ['Vault']],
      ['staff with the second listed plan', caller({ groups: ['staff'], plan: 'platinum' }), []],
      ['admin by its scope', caller({}, ['vault:admin']), []],
    ];
    for (const [scenario, principal, denied] of cases) expect([scenario, await deniedIn('{ vault { id } }', principal)]).toEqual([scenario, denied]);
  });

  it("an interface that composition gave an implementation's policy: fields returning it need the policy, an OR of scope sets", async () => {
    expect(policyOf(vault).types.get('Asset')).toEqual({ authenticated: false, scopes: [], policies: [[['curator']]] });
    expect(await deniedIn('{ assets { id } }', caller({}, ['art:read']))).toEqual(['Asset']);
    expect(await deniedIn('{ assets { id ... on Painting { id } } }', ANONYMOUS)).toEqual(['Asset']);
    expect(await deniedIn('{ assets { id } }', caller({}, ['art:read', 'art:curate']))).toEqual([]);
    expect(await deniedIn('{ assets { id } }', caller({}, ['museum:admin']))).toEqual([]);
  });

  it('an interface field carried from an implementation: removed through the interface, a fragment, a named fragment and an alias', async () => {
    expect(await deniedIn('{ items { ... on Book { label } } }', caller({ groups: 'ops' }))).toEqual(['Book.label']);
    expect(await deniedIn('{ items { ...Labelled } } fragment Labelled on Item { id label }', ANONYMOUS)).toEqual(['Item.label']);
    expect(await deniedIn('{ items { ...Labelled } } fragment Labelled on Item { id label }', STAFF)).toEqual([]);
    const query = '{ items { id name: label } }';
    const items = { items: [{ id: 'b1', switchyard__typename: 'Book' }, { id: 'l1', switchyard__typename: 'Leaflet' }] };
    expect(await complete(query, caller({ groups: 'ops' }), items, enforcePolicies, vault)).toEqual({
      data: { items: [{ id: 'b1', name: null }, { id: 'l1', name: null }] },
      errors: [denied('items', 0, 'name'), denied('items', 1, 'name')],
    });
  });

  it('an enum type with a policy: a field returning it is removed without the policy', async () => {
    expect(await deniedIn('{ tier }', caller({ plan: 'silver' }))).toEqual(['Tier']);
    expect(await deniedIn('{ tier }', caller({ plan: 'gold' }))).toEqual([]);
  });

  it('@policy beside @requiresScopes: both must hold', async () => {
    expect(await deniedIn('{ payroll }', STAFF)).toEqual(['Query.payroll']);
    expect(await deniedIn('{ payroll }', caller({}, ['payroll:read']))).toEqual(['Query.payroll']);
    expect(await deniedIn('{ payroll }', caller({ groups: 'staff' }, ['payroll:read']))).toEqual([]);
  });

  it('callers with the same scopes and other claim values get their own decisions for the same document', async () => {
    const document = parse('{ tier }');
    const decide = (claims: Record<string, unknown>) =>
      enforcePolicies.beforePlanning({ document, operationName: null, variables: {}, context: requestContext(caller(claims)).context, supergraph: vault });
    expect(await decide({ plan: 'gold' })).toBeUndefined();
    expect(await decide({ plan: 'silver' })).toBeDefined();
    expect(await decide({ plan: 'platinum' })).toBeUndefined();
    expect(await decide({})).toBeDefined();
  });

  it('a policy the config does not define is met by no one', async () => {
    const { admin: _, ...withoutAdmin } = POLICIES;
    const stage = directivesAuthorization({ ...ENFORCE, policies: withoutAdmin });
    expect(await deniedIn('{ vault { id } }', caller({}, ['vault:admin']), stage)).toEqual(['Vault']);
    expect(await deniedIn('{ vault { id } }', caller({ groups: 'staff', plan: 'gold' }), stage)).toEqual([]);
  });

  it('reject_unauthorized refuses the operation, and dry_run only reports, for @policy as for the other directives', async () => {
    const reject = directivesAuthorization({ ...ENFORCE, reject_unauthorized: true, policies: POLICIES });
    const refused = await run('{ pay: salary vault { id } tier }', caller({ plan: 'gold' }), reject, vault).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(OperationRefused);
    expect((refused as OperationRefused).errors.map((e) => e.toJSON())).toEqual([denied('pay'), denied('vault')]);

    const dryRun = directivesAuthorization({ ...ENFORCE, dry_run: true, policies: POLICIES });
    const { change, logged } = await run('{ salary tier }', ANONYMOUS, dryRun, vault);
    expect(change).toBeUndefined();
    expect(logged[0]![0]).toMatchObject({ coordinates: ['Query.salary', 'Tier'], decision: 'dry-run' });
  });
});
