import { ConfigError } from '@switchyard/service-kit';
import { loadGatewayConfig } from '../../config';
import { PRODUCT_AND_ORDERS, twoSubgraphs } from '../../testing/resilience-fixtures';
import { startTestGateway, type FakeSubgraph, type TestGateway } from '../../testing/test-gateway';

const SECRET = 'a-signing-secret-of-32-characters!';

/** The two subgraphs, each answering with the headers given for it. */
function answeringWith(headers: { products?: Record<string, string | string[]>; orders?: Record<string, string | string[]> }, fail: Parameters<typeof twoSubgraphs>[0] = {}): Record<string, FakeSubgraph> {
  const subgraphs = twoSubgraphs(fail);
  return {
    products: { ...subgraphs.products, headers: () => headers.products ?? {} },
    orders: { ...subgraphs.orders, headers: () => headers.orders ?? {} },
  };
}

/** The headers a subgraph was sent for the last client request, without those every request carries. */
function sentTo(gateway: TestGateway, subgraph: string): Record<string, string> {
  const { 'content-type': _type, 'x-request-id': _id, ...rest } = gateway.received[subgraph]!.at(-1)!.headers;
  return rest;
}

describe('request header rules', () => {
  it('propagate (named, renamed, with a default, matching), insert (a value, from context) and remove, all then per subgraph, in order', async () => {
    const gateway = await startTestGateway({
      subgraphs: twoSubgraphs(),
      config: {
        headers: {
          all: {
            request: [
              { propagate: { named: 'X-Tenant' } },
              { propagate: { named: 'x-locale', rename: 'accept-language', default: 'en' } },
              { propagate: { matching: '^x-feature-' } },
              { insert: { name: 'x-gateway', value: 'switchyard' } },
              { insert: { name: 'x-client', from_context: 'client_name' } },
              { insert: { name: 'x-operation', from_context: 'operation_name' } },
            ],
          },
          subgraphs: { orders: { request: [{ remove: { named: 'x-tenant' } }, { remove: { matching: '^x-feature-b' } }] } },
        },
      },
    });
    try {
      await gateway.graphql(PRODUCT_AND_ORDERS, { headers: { 'x-tenant': 'acme', 'x-feature-a': 'on', 'x-feature-b': 'off', 'apollographql-client-name': 'web', 'x-other': 'kept back' } });
      const common = { 'accept-language': 'en', 'x-feature-a': 'on', 'x-gateway': 'switchyard', 'x-client': 'web', 'x-operation': 'Overview' };
      expect(sentTo(gateway, 'products')).toEqual({ ...common, 'x-tenant': 'acme', 'x-feature-b': 'off' });
      expect(sentTo(gateway, 'orders')).toEqual(common);
    } finally {
      await gateway.close();
    }
  });

  it('without rules a subgraph gets none of the client\'s headers', async () => {
    const gateway = await startTestGateway({ subgraphs: twoSubgraphs() });
    try {
      await gateway.graphql(PRODUCT_AND_ORDERS, { headers: { 'x-tenant': 'acme', cookie: 'session=1', 'user-agent': 'test' } });
      expect(sentTo(gateway, 'products')).toEqual({});
    } finally {
      await gateway.close();
    }
  });

  it('a pattern that matches everything copies no hop-by-hop, framing or identity header, nor one the client\'s Connection lists: the signature stays the gateway\'s', async () => {
    const gateway = await startTestGateway({
      subgraphs: twoSubgraphs(),
      config: { 'subgraph_identity.signing_secret': SECRET, headers: { all: { request: [{ propagate: { matching: '.*' } }, { remove: { matching: '.*' } }, { propagate: { matching: '^x-' } }] } } },
    });
    try {
      await gateway.graphql('{ product { name } }', {
        headers: {
          'x-tenant': 'acme',
          'x-switchyard-principal-kind': 'user',
          'x-switchyard-principal-id': 'usr_admin',
          'x-switchyard-scopes': 'orders:read',
          'x-switchyard-identity-signature': 't=1,v2=forged',
          'x-switchyard-future': 'anything',
          'x-request-id': 'client-chosen',
          connection: 'keep-alive, x-hop',
          'x-hop': 'one hop only',
          te: 'trailers',
          'proxy-authorization': 'Basic eA==',
        },
      });
      const sent = gateway.received.products!.at(-1)!.headers;
      expect(Object.keys(sent).sort()).toEqual(['content-type', 'x-request-id', 'x-switchyard-identity-signature', 'x-switchyard-principal-kind', 'x-tenant']);
      expect([sent['x-switchyard-principal-kind'], sent['x-request-id'], sent['content-type']]).toEqual(['anonymous', gateway.contexts.at(-1)!.requestId, 'application/json']);
      expect(sent['x-switchyard-identity-signature']).toMatch(/^t=\d+,v2=[\w-]{43}$/);
    } finally {
      await gateway.close();
    }
  });

  it.each([
    ['propagating a hop-by-hop header', { all: { request: [{ propagate: { named: 'Connection' } }] } }, 'headers.all.request.0.propagate.named', 'connection'],
    ['renaming onto the signed principal', { all: { request: [{ propagate: { named: 'x-user', rename: 'x-switchyard-principal-id' } }] } }, 'headers.all.request.0.propagate.rename', 'x-switchyard-principal-id'],
    ['inserting the signature', { subgraphs: { products: { request: [{ insert: { name: 'X-Switchyard-Identity-Signature', value: 't=1,v2=x' } }] } } }, 'headers.subgraphs.products.request.0.insert.name', 'x-switchyard-identity-signature'],
    ['inserting a request id (the signature covers it)', { all: { request: [{ insert: { name: 'x-request-id', value: '1' } }] } }, 'headers.all.request.0.insert.name', 'x-request-id'],
    ['inserting any header of the identity namespace', { all: { request: [{ insert: { name: 'x-switchyard-tenant', value: '1' } }] } }, 'headers.all.request.0.insert.name', 'x-switchyard-tenant'],
    ['setting the body\'s length', { all: { request: [{ insert: { name: 'content-length', value: '1' } }] } }, 'headers.all.request.0.insert.name', 'content-length'],
    ['removing the principal', { all: { request: [{ remove: { named: 'x-switchyard-principal-kind' } }] } }, 'headers.all.request.0.remove.named', 'x-switchyard-principal-kind'],
    ['passing transfer-encoding back', { all: { response: [{ propagate: { named: 'transfer-encoding' } }] } }, 'headers.all.response.0.propagate.named', 'transfer-encoding'],
    ['passing a subgraph\'s Cache-Control past the merge', { subgraphs: { orders: { response: [{ propagate: { named: 'x-cache', rename: 'cache-control' } }] } } }, 'headers.subgraphs.orders.response.0.propagate.rename', 'cache-control'],
  ])('a config %s is refused at start, naming the key', (_name, headers, path, header) => {
    expect(() => loadGatewayConfig({ env: {}, overrides: { headers } })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ env: {}, overrides: { headers } })).toThrow(`${path} (from overrides): ${header} is a hop-by-hop`);
  });

  it.each([
    ['a header value with a line break', { insert: { name: 'x-a', value: 'a\r\nx-switchyard-principal-kind: user' } }],
    ['both named and matching', { propagate: { named: 'x-a', matching: 'x-' } }],
    ['a pattern that is no regular expression', { remove: { matching: '(' } }],
    ['a rename with a pattern', { propagate: { matching: 'x-', rename: 'x-b' } }],
  ])('a rule with %s is refused at start', (_name, rule) => {
    expect(() => loadGatewayConfig({ env: {}, overrides: { headers: { all: { request: [rule] } } } })).toThrow(ConfigError);
  });

  it('rules for a subgraph the supergraph does not have are refused at start', async () => {
    await expect(startTestGateway({ subgraphs: twoSubgraphs(), config: { headers: { subgraphs: { prodcts: { request: [{ insert: { name: 'x-a', value: '1' } }] } } } } })).rejects.toThrow(
      'headers.subgraphs.prodcts: no subgraph "prodcts" in the supergraph',
    );
  });
});

describe('response header rules', () => {
  const rules = {
    all: {
      response: [
        { propagate: { named: 'set-cookie' } },
        { propagate: { named: 'x-served-by', rename: 'x-first-served-by' } },
        { propagate: { named: 'x-served-by', rename: 'x-last-served-by', algorithm: 'last' } },
        { propagate: { named: 'x-served-by', rename: 'x-all-served-by', algorithm: 'append' } },
        { propagate: { named: 'x-region', default: 'unknown' } },
        { propagate: { matching: '.*' } },
      ],
    },
  };

  it('every Set-Cookie of every subgraph is kept; first, last and append pick among the answers in the order they came', async () => {
    const gateway = await startTestGateway({
      subgraphs: answeringWith({
        products: { 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'], 'x-served-by': 'products-1', connection: 'x-private', 'x-private': 'hop', 'content-length': '99' },
        orders: { 'set-cookie': ['c=3; Path=/'], 'x-served-by': 'orders-1', 'cache-control': 'public, max-age=60', 'access-control-allow-origin': '*' },
      }),
      config: { headers: rules },
    });
    try {
      // One fetch after the other, so that their order is known.
      await gateway.graphql('{ product { name } }');
      const res = await gateway.graphql('{ product { name } }');
      expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
      const both = await gateway.graphql(PRODUCT_AND_ORDERS);
      const order = gateway.contexts.at(-1)!.fetches.map((f) => f.subgraph);
      expect(order.sort()).toEqual(['orders', 'products']);
      const [first, last] = gateway.contexts.at(-1)!.fetches.map((f) => `${f.subgraph}-1`);
      expect({
        cookies: both.headers['set-cookie'],
        first: both.headers['x-first-served-by'],
        last: both.headers['x-last-served-by'],
        all: both.headers['x-all-served-by'],
        region: both.headers['x-region'],
        copied: [both.headers['x-private'], both.headers['access-control-allow-origin'], both.headers['cache-control'], both.headers['content-length'] === '99'],
      }).toEqual({
        cookies: expect.arrayContaining(['a=1; Path=/', 'b=2; Path=/', 'c=3; Path=/']),
        first,
        last,
        all: `${first}, ${last}`,
        region: 'unknown',
        copied: [undefined, undefined, undefined, false],
      });
      expect(both.headers['set-cookie']).toHaveLength(3);
    } finally {
      await gateway.close();
    }
  });

  it('without response rules no subgraph header reaches the client', async () => {
    const gateway = await startTestGateway({ subgraphs: answeringWith({ products: { 'set-cookie': 'a=1', 'x-served-by': 'p' } }) });
    try {
      const res = await gateway.graphql('{ product { name } }');
      expect([res.headers['set-cookie'], res.headers['x-served-by'], res.headers['cache-control']]).toEqual([undefined, undefined, undefined]);
    } finally {
      await gateway.close();
    }
  });
});

describe('Cache-Control merged across the subgraphs of one response', () => {
  const merged = async (headers: Parameters<typeof answeringWith>[0], query = PRODUCT_AND_ORDERS, fail: Parameters<typeof twoSubgraphs>[0] = {}) => {
    const gateway = await startTestGateway({ subgraphs: answeringWith(headers, fail), config: { 'cache_control.enabled': true } });
    try {
      const res = await gateway.graphql(query);
      return res.headers['cache-control'];
    } finally {
      await gateway.close();
    }
  };

  it.each([
    ['both public: public, the smaller max-age', { products: { 'cache-control': 'public, max-age=300' }, orders: { 'cache-control': 'max-age=60, public' } }, 'public, max-age=60'],
    ['one private: private', { products: { 'cache-control': 'public, max-age=300' }, orders: { 'cache-control': 'private, max-age=600' } }, 'private, max-age=300'],
    ['one without a scope: private (public only when all say so)', { products: { 'cache-control': 'public, max-age=300' }, orders: { 'cache-control': 'max-age=30' } }, 'private, max-age=30'],
    ['one no-store: no-store', { products: { 'cache-control': 'public, max-age=300' }, orders: { 'cache-control': 'no-store' } }, 'no-store'],
    ['one no-cache: no-store', { products: { 'cache-control': 'public, max-age=300' }, orders: { 'cache-control': 'public, no-cache, max-age=60' } }, 'no-store'],
    ['one max-age=0: no-store', { products: { 'cache-control': 'public, max-age=300' }, orders: { 'cache-control': 'public, max-age=0' } }, 'no-store'],
    ['one without Cache-Control: no-store', { products: { 'cache-control': 'public, max-age=300' } }, 'no-store'],
    ['one sets a cookie: no-store (a cache would hand it to others)', { products: { 'cache-control': 'public, max-age=300' }, orders: { 'cache-control': 'public, max-age=300', 'set-cookie': 'session=1; Path=/' } }, 'no-store'],
    ['public and private both said: private', { products: { 'cache-control': 'public, private, max-age=300' }, orders: { 'cache-control': 'public, max-age=300' } }, 'private, max-age=300'],
  ])('%s', async (_name, headers, expected) => {
    expect(await merged(headers)).toBe(expected);
  });

  const publicBoth = { products: { 'cache-control': 'public, max-age=300' }, orders: { 'cache-control': 'public, max-age=300' } };

  it('a mutation is no-store, whatever its subgraph says', async () => {
    expect(await merged(publicBoth, 'mutation { placeOrder { id } }')).toBe('no-store');
  });

  it('an answer with an error (a subgraph down) is no-store', async () => {
    const down = () => {
      throw new Error('down');
    };
    expect(await merged(publicBoth, PRODUCT_AND_ORDERS, { orders: down })).toBe('no-store');
  });

  it('an answer no subgraph made (__typename alone) is no-store', async () => {
    expect(await merged(publicBoth, '{ __typename }')).toBe('no-store');
  });
});
