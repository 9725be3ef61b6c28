import { startTestGateway } from '../testing/test-gateway';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { hello: String! }
`;

describe('the landing page on a browser GET of the GraphQL path', () => {
  const page = async (config: Record<string, unknown>) => {
    const gateway = await startTestGateway({ subgraphs: { greetings: { sdl: SDL, resolvers: { Query: { hello: () => 'hi' } } } }, config });
    try {
      const res = await gateway.inject({ method: 'GET', url: '/graphql', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      return { status: res.statusCode, type: res.headers['content-type'], body: res.body };
    } finally {
      await gateway.close();
    }
  };

  it('embeds Apollo Sandbox and, when its CDN cannot be reached, points to the offline GraphiQL', async () => {
    const { status, type, body } = await page({});
    expect([status, type]).toEqual([200, 'text/html; charset=utf-8']);
    expect(body).toContain('https://embeddable-sandbox.cdn.apollographql.com/');
    expect(body).toContain('onerror="showOffline()"');
    expect(body).toMatch(/Apollo Sandbox cannot be loaded[^<]*<a href="\/graphiql">GraphiQL at \/graphiql<\/a>/);
  });

  it('does not point to /graphiql when GraphiQL is off', async () => {
    const { body } = await page({ 'graphiql.enabled': false });
    expect(body).toContain('Apollo Sandbox cannot be loaded');
    expect(body).not.toContain('/graphiql');
  });

  it('with sandbox off, a browser GET is an ordinary GraphQL GET: no query is a 400', async () => {
    const { status, body } = await page({ 'sandbox.enabled': false });
    expect([status, JSON.parse(body).errors[0].extensions.code]).toEqual([400, 'BAD_REQUEST']);
  });
});
