import { startTestGateway, type TestGateway } from '../../testing/test-gateway';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { hello: String! }
  type Mutation { touch: Boolean! }
`;
const QUERY = `/graphql?query=${encodeURIComponent('{ hello }')}`;
const CSRF = /^This operation has been blocked as a potential Cross-Site Request Forgery \(CSRF\)/;

describe('useCsrfPrevention: what a forged cross-site request could abuse is the cookies it carries', () => {
  const start = (config: Record<string, unknown> = {}) =>
    startTestGateway({ subgraphs: { greetings: { sdl: SDL, resolvers: { Query: { hello: () => 'hi' }, Mutation: { touch: () => true } } } }, config });
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await start();
  });
  afterAll(() => gateway.close());

  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await gateway.inject({ method: 'GET', url, headers });
    return { status: res.statusCode, body: JSON.parse(res.body) };
  };

  it('a plain GET without cookies runs, as urql sends short queries', async () => {
    expect(await get(QUERY)).toEqual({ status: 200, body: { data: { hello: 'hi' } } });
  });

  it('a simple request carrying cookies is refused, whatever the cookie and the simple content type', async () => {
    const sent = gateway.received.greetings!.length;
    const variants: Record<string, string>[] = [{ cookie: 'session=1' }, { cookie: '' }, { cookie: 'a=1', 'content-type': 'text/plain' }, { cookie: 'a=1', 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, { cookie: 'a=1', 'apollo-require-preflight': '' }];
    for (const headers of variants) {
      const res = await get(QUERY, headers);
      expect({ headers, status: res.status, code: res.body.errors[0].extensions.code, csrf: CSRF.test(res.body.errors[0].message) }).toEqual({ headers, status: 400, code: 'BAD_REQUEST', csrf: true });
    }
    expect(gateway.received.greetings).toHaveLength(sent);
  });

  it('with cookies, a preflight-forcing content type or a required header lets it through', async () => {
    expect((await get(QUERY, { cookie: 'a=1', 'apollo-require-preflight': 'true' })).status).toBe(200);
    expect((await get(QUERY, { cookie: 'a=1', 'x-apollo-operation-name': 'Hello' })).status).toBe(200);
    const post = await gateway.graphql('{ hello }', { headers: { cookie: 'a=1' } });
    expect(post).toMatchObject({ status: 200, body: { data: { hello: 'hi' } } });
  });

  it('what a simple request could change is refused elsewhere: a mutation over GET is 405, a form or text POST never runs', async () => {
    const mutation = await get(`/graphql?query=${encodeURIComponent('mutation { touch }')}`);
    expect([mutation.status, mutation.body.errors[0].extensions.code]).toEqual([405, 'METHOD_NOT_ALLOWED']);
    const sent = gateway.received.greetings!.length;
    const text = await gateway.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'text/plain' }, payload: '{"query":"mutation { touch }"}' });
    expect([text.statusCode, JSON.parse(text.body).errors[0].extensions.code]).toEqual([400, 'BAD_REQUEST']);
    const form = await gateway.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'query=mutation%20%7B%20touch%20%7D' });
    expect([form.statusCode, JSON.parse(form.body).errors[0].extensions.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect(gateway.received.greetings).toHaveLength(sent);
  });

  it('csrf.required_headers names the headers that count; unsafe_disabled turns the check off', async () => {
    const custom = await start({ 'csrf.required_headers': ['x-my-client'] });
    const off = await start({ 'csrf.unsafe_disabled': true });
    try {
      expect((await custom.inject({ method: 'GET', url: QUERY, headers: { cookie: 'a=1', 'apollo-require-preflight': 'true' } })).statusCode).toBe(400);
      expect((await custom.inject({ method: 'GET', url: QUERY, headers: { cookie: 'a=1', 'x-my-client': 'web' } })).statusCode).toBe(200);
      expect((await off.inject({ method: 'GET', url: QUERY, headers: { cookie: 'a=1' } })).statusCode).toBe(200);
    } finally {
      await Promise.all([custom.close(), off.close()]);
    }
  });
});
