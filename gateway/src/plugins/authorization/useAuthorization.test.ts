import { ANONYMOUS, type Principal } from '@switchyard/service-kit';
import { parse, print, type ExecutionResult } from 'graphql';
import { composeSupergraph } from '@switchyard/schema-tools';
import type { RequestContext } from '../../core/context';
import { OperationRefused, type PrePlanningChange } from '../../execution/pre-planning';
import { checkSupergraph } from '../../execution/supergraph';
import { directivesAuthorization } from './useAuthorization';

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
const composed = composeSupergraph([{ name: 'shelf', url: 'http://shelf.test/graphql', sdl: SHELF }]);
if (!composed.ok) throw new Error(composed.errors.join('\n'));
const supergraph = checkSupergraph('shelf.graphql', composed.supergraphSdl, {});

function requestContext(principal: Principal) {
  const logged: [Record<string, unknown>, string][] = [];
  const logger = { warn: (fields: Record<string, unknown>, message: string) => logged.push([fields, message]) };
  const context = { requestId: 'req-1', logger, deadline: 0, signal: new AbortController().signal, clientAddress: '', principal, decisions: [] };
  return { context: context as unknown as RequestContext, logged };
}
const user = (scopes: string[]): Principal => ({ kind: 'user', id: 'usr_1', scopes, claims: {} });
const denied = (...path: (string | number)[]) => ({ message: 'Unauthorized field or type', path, extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } });
const enforce = directivesAuthorization({ enabled: true, reject_unauthorized: false, dry_run: false });

async function run(query: string, principal: Principal, stage = enforce) {
  const document = parse(query);
  const { context, logged } = requestContext(principal);
  const change = (await stage.beforePlanning({ document, operationName: null, variables: {}, context, supergraph })) as PrePlanningChange | undefined;
  return { document, change, context, logged };
}
/** What a client gets when the subgraphs answered `data` to the pruned operation. */
async function complete(query: string, principal: Principal, data: Record<string, unknown>) {
  const { change } = await run(query, principal);
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
    const dryRun = directivesAuthorization({ enabled: true, reject_unauthorized: false, dry_run: true });
    const { change, logged, context } = await run('{ book { id label } }', ANONYMOUS, dryRun);
    expect(change).toBeUndefined();
    expect(logged[0]![0]).toMatchObject({ coordinates: ['Book.label'], decision: 'dry-run' });
    expect(context.decisions[0]).toMatchObject({ enforced: false, code: 'UNAUTHORIZED_FIELD_OR_TYPE' });
  });

  it('reject_unauthorized refuses the operation with one error per removed path', async () => {
    const reject = directivesAuthorization({ enabled: true, reject_unauthorized: true, dry_run: false });
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
