import { spawnService } from './support/processes';

describe('npm start', () => {
  it('starts all four services, prints a line per service, answers a cross-subgraph query, and Ctrl-C stops it all', async () => {
    // Free ports instead of the defaults, so the test never collides with a platform already running here.
    const platform = spawnService('scripts/start-all.ts', {
      GATEWAY_PORT: '0',
      USERS_PORT: '0',
      PRODUCTS_PORT: '0',
      ORDERS_PORT: '0',
      ISSUER_PORT: '0',
      LOG_LEVEL: '',
    });
    let gateway = '';
    try {
      const stdout = await platform.waitFor(/ready in \d+ ms/, 45_000);
      for (const name of ['users', 'products', 'orders', 'gateway']) {
        expect(stdout).toMatch(new RegExp(`^${name}\\s+http://localhost:\\d+/graphql`, 'm'));
      }
      gateway = /^gateway\s+(http:\/\/localhost:\d+\/graphql)/m.exec(stdout)![1]!.replace('localhost', '127.0.0.1');
      const token = /^tokens\s+(http:\/\/localhost:\d+\/token)/m.exec(stdout)![1]!.replace('localhost', '127.0.0.1');
      const { access_token } = (await (await fetch(`${token}?sub=usr_001`)).json()) as { access_token: string };
      const res = await fetch(gateway, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
        body: JSON.stringify({ query: '{ me { name orders(first: 2) { edges { node { items { product { name } } } } } } }' }),
      });
      const body = (await res.json()) as any;
      expect(body.errors).toBeUndefined();
      expect(body.data.me.orders.edges).toHaveLength(2);
      expect(body.data.me.orders.edges[0].node.items[0].product.name).toMatch(/\S/);
    } finally {
      platform.signal('SIGINT');
    }
    const { code, stderr } = await platform.exited;
    expect(stderr).toBe('');
    // 130 is how a shell reports a program ended by Ctrl-C; tsx passes that on after our process exits 0.
    expect([0, 130]).toContain(code);
    // Nothing is left behind listening.
    await expect(fetch(gateway)).rejects.toThrow();
  });
});
