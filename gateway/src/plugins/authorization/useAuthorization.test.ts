import { startMetrics } from '@switchyard/service-kit';
import { parsePrometheusText } from '../../../../tests/support/prometheus';
import { startTestGateway, type TestGateway } from '../../testing/test-gateway';
import { API_KEY_HEADER } from '../identity/authenticate';
import { hashApiKey } from '../identity/api-keys';

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
const book = { __typename: 'Book', id: 'b1', label: 'Dune' };
const leaflet = { __typename: 'Leaflet', id: 'l1', label: 'Opening hours' };
const secret = { __typename: 'Secret', id: 's1', label: 'Launch codes' };
const resolvers = { Query: { items: () => [book, leaflet], results: () => [book, secret], secret: () => secret, book: () => book } };

/** The callers: one API key per set of scopes, sent as x-api-key; no key is anonymous. */
const SCOPES = { none: [], secretRead: ['secret:read'], adminAudit: ['admin', 'audit'], admin: ['admin'], unrelated: ['unrelated'] } as const;
type Caller = keyof typeof SCOPES | 'anonymous';
const keyOf = (name: keyof typeof SCOPES) => `sy_test_key_${name}`;
const apiKeys = Object.entries(SCOPES).map(([name, scopes]) => ({ name, sha256: hashApiKey(keyOf(name as keyof typeof SCOPES)), scopes }));

/** The error at a removed path, saying what the caller lacks (authorization.explain_denials, on by default outside production). */
const NO_CREDENTIAL = { message: 'Unauthorized field or type: the request has no credential (a bearer token or an API key)', extensions: { missingCredential: true } };
const lacks = (message: string, missingScopes: string[][]) => ({ message: `Unauthorized field or type: the credential lacks ${message}`, extensions: { missingScopes } });
const SECRET_SCOPES = lacks('scope secret:read, or scopes admin and audit', [['secret:read'], ['admin', 'audit']]);
const denied = (why: { message: string; extensions: object }, ...path: (string | number)[]) => ({
  message: why.message,
  path,
  extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE', ...why.extensions },
});

const gateways: TestGateway[] = [];
afterAll(() => Promise.all(gateways.map((g) => g.close())));

async function shelfGateway(directives: Record<string, boolean> = {}, metrics?: ReturnType<typeof startMetrics>, config: Record<string, unknown> = {}) {
  const gateway = await startTestGateway({
    subgraphs: { shelf: { sdl: SHELF, resolvers } },
    config: {
      'authentication.api_keys.keys': apiKeys,
      'telemetry.exporters.logging.level': 'warn',
      ...Object.fromEntries(Object.entries(directives).map(([key, value]) => [`authorization.directives.${key}`, value])),
      ...config,
    },
    metrics,
  });
  gateways.push(gateway);
  return gateway;
}

/** Posts one operation as the caller; also what the shelf subgraph was asked, if it was. */
async function send(gateway: TestGateway, query: string, caller: Caller) {
  const asked = gateway.received.shelf!.length;
  const answer = await gateway.graphql(query, { headers: caller === 'anonymous' ? {} : { [API_KEY_HEADER]: keyOf(caller) } });
  const sent = gateway.received.shelf!.slice(asked).map((call) => JSON.parse(call.body).query as string);
  return { status: answer.status, body: answer.body, sent, context: gateway.contexts.at(-1)! };
}

describe('@authenticated and @requiresScopes through the gateway', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await shelfGateway();
  });

  it('an interface field that an implementation protects is not asked of the subgraph for anonymous callers, and is null with an error at each path', async () => {
    const res = await send(gateway, '{ items { id label } }', 'anonymous');
    expect(res.sent).toEqual(['{items{__typename id switchyard__typename:__typename}}']);
    expect([res.status, res.body]).toEqual([200, { data: { items: [{ id: 'b1', label: null }, { id: 'l1', label: null }] }, errors: [denied(NO_CREDENTIAL, 'items', 0, 'label'), denied(NO_CREDENTIAL, 'items', 1, 'label')] }]);
    // Signed in, the same operation is served whole.
    expect((await send(gateway, '{ items { id label } }', 'none')).body).toEqual({ data: { items: [{ id: 'b1', label: 'Dune' }, { id: 'l1', label: 'Opening hours' }] } });
  });

  it('a fragment on a union member the caller may not see is removed; members it may see are served', async () => {
    const res = await send(gateway, '{ results { ... on Book { id } ... on Secret { id label } } }', 'none');
    expect(res.sent).toHaveLength(1);
    expect(res.sent[0]).not.toMatch(/Secret/);
    expect([res.status, res.body]).toEqual([200, { data: { results: [{ id: 'b1' }, {}] }, errors: [denied(SECRET_SCOPES, 'results', 1)] }]);
  });

  it('@requiresScopes is an OR of ANDs: secret:read alone, or admin with audit; admin alone is denied', async () => {
    for (const caller of ['secretRead', 'adminAudit'] as const) {
      const res = await send(gateway, '{ secret { id } }', caller);
      expect([caller, res.status, res.body]).toEqual([caller, 200, { data: { secret: { id: 's1' } } }]);
    }
    const admin = await send(gateway, '{ secret { id } }', 'admin');
    // What admin still needs: secret:read, or audit beside the admin it holds.
    const stillNeeded = lacks('scope secret:read, or scope audit', [['secret:read'], ['audit']]);
    expect([admin.status, admin.body, admin.sent]).toEqual([200, { data: null, errors: [denied(stillNeeded, 'secret')] }, []]);
  });

  it('a removed non-null root field nulls the whole data, though the rest was fetched', async () => {
    const res = await send(gateway, '{ secret { id } book { id } }', 'none');
    expect(res.sent).toEqual(['{book{id}}']);
    expect([res.status, res.body]).toEqual([200, { data: null, errors: [denied(SECRET_SCOPES, 'secret')] }]);
  });

  it('the same operation and grant share one query plan; scopes the schema never mentions make no other grant', async () => {
    const plans = () => gateway.gateway.execution.gateway.planCacheSize();
    const query = '{ book { id label } secret { label } }';
    const before = plans();
    await send(gateway, query, 'anonymous');
    await send(gateway, query, 'anonymous');
    expect(plans()).toBe(before + 1);
    // Signed in without scopes: another grant (label is served), so another plan, shared with a key whose only scope the schema never names.
    const none = await send(gateway, query, 'none');
    const unrelated = await send(gateway, query, 'unrelated');
    expect(plans()).toBe(before + 2);
    expect(unrelated.body).toEqual(none.body);
    expect(none.body).toEqual({ data: null, errors: [denied(SECRET_SCOPES, 'secret')] });
  });
});

describe('what a denied caller is told', () => {
  it('with explain_denials off (the production default) only that the field is unauthorized, whatever was missing', async () => {
    const gateway = await shelfGateway({}, undefined, { 'authorization.explain_denials': false });
    const plain = { message: 'Unauthorized field or type', extensions: {} };
    expect((await send(gateway, '{ book { id label } }', 'anonymous')).body).toEqual({ data: { book: { id: 'b1', label: null } }, errors: [denied(plain, 'book', 'label')] });
    expect((await send(gateway, '{ secret { id } }', 'admin')).body).toEqual({ data: null, errors: [denied(plain, 'secret')] });
  });
});

describe('the audit of a denial', () => {
  it('every denied request is one audit log event, one decision and one count per coordinate', async () => {
    const metrics = startMetrics({ serviceName: 'gateway', env: {} });
    const gateway = await shelfGateway({}, metrics);
    const res = await send(gateway, '{ book { id label } secret { id } }', 'anonymous');
    expect(res.body).toEqual({ data: null, errors: [denied(NO_CREDENTIAL, 'book', 'label'), denied(NO_CREDENTIAL, 'secret')] });
    expect(gateway.logs.filter((line) => line.event === 'authorization.denied')).toEqual([
      expect.objectContaining({
        level: 'warn',
        event: 'authorization.denied',
        requestId: res.context.requestId,
        principal: { kind: 'anonymous', id: '' },
        scopes: [],
        coordinates: ['Book.label', 'Secret'],
        decision: 'enforced',
        msg: 'unauthorized selections removed',
      }),
    ]);
    expect(res.context.decisions).toEqual([
      { stage: 'authorization', code: 'UNAUTHORIZED_FIELD_OR_TYPE', enforced: true, message: 'unauthorized: Book.label, Secret', details: { coordinates: ['Book.label', 'Secret'] } },
    ]);
    await send(gateway, '{ secret { id } }', 'admin');
    const denials = parsePrometheusText(await metrics.scrape()).get('switchyard_authorization_denials_total')!.samples;
    expect(denials.map(({ labels: { coordinate, mode }, value }) => ({ coordinate, mode, value }))).toEqual([
      { coordinate: 'Book.label', mode: 'enforced', value: 1 },
      { coordinate: 'Secret', mode: 'enforced', value: 2 },
    ]);
    // The audit names the API key and the scopes it held.
    expect(gateway.logs.filter((line) => line.event === 'authorization.denied').at(-1)).toMatchObject({ principal: { kind: 'apiKey', id: 'admin' }, scopes: ['admin'], coordinates: ['Secret'] });
    await metrics.shutdown();
  });

  it('dry_run changes nothing and reports what it would have removed', async () => {
    const gateway = await shelfGateway({ dry_run: true });
    const res = await send(gateway, '{ book { id label } }', 'anonymous');
    expect([res.status, res.body, res.sent]).toEqual([200, { data: { book: { id: 'b1', label: 'Dune' } } }, ['{book{id label}}']]);
    expect(gateway.logs.filter((line) => line.event === 'authorization.denied')).toEqual([
      expect.objectContaining({ coordinates: ['Book.label'], decision: 'dry-run', msg: 'unauthorized selections would be removed (dry run)' }),
    ]);
    expect(res.context.decisions).toEqual([
      { stage: 'authorization', code: 'UNAUTHORIZED_FIELD_OR_TYPE', enforced: false, message: 'unauthorized: Book.label', details: { coordinates: ['Book.label'] } },
    ]);
  });

  it('reject_unauthorized refuses the operation with 400, one error per removed path and no data, and asks no subgraph', async () => {
    const gateway = await shelfGateway({ reject_unauthorized: true });
    const res = await send(gateway, '{ b: book { id label } items { label } }', 'anonymous');
    expect([res.status, res.body, res.sent]).toEqual([400, { errors: [denied(NO_CREDENTIAL, 'b', 'label'), denied(NO_CREDENTIAL, 'items', 'label')] }, []]);
    // One refusal, one decision: switchyard.decisions counts each request's denial once.
    expect(res.context.decisions.map((d) => [d.stage, d.code, d.enforced])).toEqual([['authorization', 'UNAUTHORIZED_FIELD_OR_TYPE', true]]);
    // What the caller may see is served as usual.
    expect((await send(gateway, '{ b: book { id label } items { label } }', 'none')).body).toEqual({
      data: { b: { id: 'b1', label: 'Dune' }, items: [{ label: 'Dune' }, { label: 'Opening hours' }] },
    });
  });
});
