import { startPlatform, type Platform } from './support/platform';

/** Which operation of a document runs is the client's choice; a choice that names none is the client's error. */
describe('operationName at the gateway', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform('pglite');
  });
  afterAll(() => platform?.close());

  const TWO_OPERATIONS = 'query Typename { __typename } query Product { product(id: "prd_0001") { id name priceCents } }';

  async function post(body: Record<string, unknown>) {
    const res = await fetch(platform.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    return { status: res.status, code: json.errors?.[0]?.extensions?.code, json };
  }

  it.each([
    ['an operationName that matches no operation', { query: 'query Typename { __typename }', operationName: 'Nope' }],
    ['two operations and no operationName', { query: TWO_OPERATIONS }],
    ['two operations and an empty operationName', { query: TWO_OPERATIONS, operationName: '' }],
    ['a 64 KB operationName', { query: 'query Typename { __typename }', operationName: 'x'.repeat(64 * 1024) }],
  ])('%s gets 400 OPERATION_RESOLUTION_FAILURE', async (_name, body) => {
    const { status, code } = await post(body);
    expect({ status, code }).toEqual({ status: 400, code: 'OPERATION_RESOLUTION_FAILURE' });
  });

  it('an operationName that is a number, not a string, gets 400 BAD_REQUEST', async () => {
    const { status, code } = await post({ query: TWO_OPERATIONS, operationName: 7 });
    expect({ status, code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
  });

  it('two operations and a matching operationName run that operation only', async () => {
    const { status, json } = await post({ query: TWO_OPERATIONS, operationName: 'Product' });
    expect({ status, json }).toEqual({
      status: 200,
      json: { data: { product: { id: 'prd_0001', name: 'Compact Chair 1', priceCents: 8418 } } },
    });
  });
});
