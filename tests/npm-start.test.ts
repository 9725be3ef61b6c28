import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ctrlC, freePorts, npmStart, type Ports } from './support/npm-start';
import { npmRun } from './support/processes';

/** A token from the running development issuer, as a person gets one from the URL npm start prints. */
async function devToken(ports: Ports, sub: string, scope: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${ports.issuer}/token?sub=${sub}&scope=${encodeURIComponent(scope)}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function graphql(ports: Ports, query: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${ports.gateway}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: await res.json() };
}

/** Linux /proc: pid, parent and process group of every process, and its command line. */
function processTable(): { pid: number; ppid: number; pgid: number; zombie: boolean; cmdline: string }[] {
  const table = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name in parentheses may hold spaces; the fields after it are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      table.push({ pid: Number(entry), ppid: Number(ppid), pgid: Number(pgid), zombie: state === 'Z', cmdline });
    } catch {
      // ended while we looked
    }
  }
  return table;
}

function descendants(pid: number) {
  const table = processTable();
  const found = table.filter((p) => p.ppid === pid);
  for (let i = 0; i < found.length; i++) found.push(...table.filter((p) => p.ppid === found[i]!.pid));
  return found;
}

const serviceEntries = [
  'subgraphs/users/src/main.ts',
  'subgraphs/products/src/main.ts',
  'subgraphs/orders/src/main.ts',
  'scripts/dev-issuer.ts',
  'gateway/src/main.ts',
];

const CROSS_SUBGRAPH_QUERY = '{ user(id: "usr_002") { name orders(first: 2) { edges { node { id totalCents items { quantity product { id name } } } } } } }';
const USR_002_FIRST_TWO_ORDERS = {
  user: {
    name: 'Grace Allen',
    orders: {
      edges: [
        {
          node: {
            id: 'ord_s00476',
            totalCents: 18332,
            items: [
              { quantity: 1, product: { id: 'prd_0013', name: 'Rugged Lamp 13' } },
              { quantity: 2, product: { id: 'prd_0066', name: 'Quiet Backpack 66' } },
              { quantity: 3, product: { id: 'prd_0119', name: 'Classic Kettle 119' } },
            ],
          },
        },
        {
          node: {
            id: 'ord_s00451',
            totalCents: 86562,
            items: [
              { quantity: 4, product: { id: 'prd_0088', name: 'Sturdy Mug 88' } },
              { quantity: 1, product: { id: 'prd_0141', name: 'Rugged Chair 141' } },
            ],
          },
        },
      ],
    },
  },
};

describe('npm start', () => {
  it(
    'runs every service in its own process, prints the summary, answers a query across all three subgraphs, ' +
      'prefixes every line its services print, and on Ctrl-C exits 0 leaving no process behind',
    async () => {
      const ports = await freePorts();
      const platform = await npmStart(ports);
      let code: number | null;
      let platformProcesses: ReturnType<typeof descendants> = [];
      try {
        const summary = platform.stdout().split('\n').filter((line) => !line.includes(' | '));
        expect(summary.slice(0, 6)).toEqual([
          `users     http://localhost:${ports.users}/graphql`,
          `products  http://localhost:${ports.products}/graphql`,
          `orders    http://localhost:${ports.orders}/graphql`,
          `tokens    http://localhost:${ports.issuer}/token?sub=usr_001   (development issuer: paste access_token as "Authorization: Bearer ...")`,
          `gateway   http://localhost:${ports.gateway}/graphql   (open in a browser for Apollo Sandbox; offline GraphiQL at /graphiql)`,
          `traces    http://localhost:${ports.gateway}/debug/traces   (or: npm run trace -- '{ me { id } }'; store at http://localhost:${ports.traces})`,
        ]);
        expect(summary[6]).toMatch(/^ready in \d+ ms; Ctrl-C stops everything$/);

        platformProcesses = descendants(platform.npm.child.pid!);
        for (const entry of serviceEntries) expect(platformProcesses.filter((p) => p.cmdline.includes(entry))).toHaveLength(1);

        expect(await graphql(ports, CROSS_SUBGRAPH_QUERY, await devToken(ports, 'usr_002', 'orders:read'))).toEqual({ status: 200, body: { data: USR_002_FIRST_TWO_ORDERS } });
        // Rate limits are on, as deployed (scripts/platform-gateway.yaml): an anonymous client's budget, counted in memory.
        const anonymous = await fetch(`http://127.0.0.1:${ports.gateway}/graphql?query=${encodeURIComponent('{ product(id: "prd_0001") { id } }')}`);
        expect([anonymous.status, anonymous.headers.get('ratelimit-policy')]).toEqual([200, '"requests";q=60;qu="request";w=60, "cost";q=50000;w=60;switchyard-unit="estimated-cost"']);
        expect(anonymous.headers.get('ratelimit')).toMatch(/^"requests";r=59;t=\d+, "cost";r=49999;t=\d+$/);
        // products tells the gateway's cache invalidation endpoint (its operators' listener, this run's token)
        // which product an order took stock from, after the order: counted ok once the gateway said yes.
        const order = await graphql(ports, 'mutation { placeOrder(input: { items: [{ productId: "prd_0040", quantity: 1 }] }) { status } }', await devToken(ports, 'usr_003', 'orders:read orders:write'));
        expect(order).toEqual({ status: 200, body: { data: { placeOrder: { status: 'PLACED' } } } });
        const invalidations = async () => (await (await fetch(`http://127.0.0.1:${ports.products}/metrics`)).text()).match(/^products_cache_invalidations_total\{[^}]*\} \d+$/gm);
        let counted = await invalidations();
        for (let waited = 0; !counted && waited < 3000; waited += 100) {
          await new Promise((r) => setTimeout(r, 100));
          counted = await invalidations();
        }
        expect(counted).toEqual([expect.stringMatching(/outcome="ok".* 1$/)]);

        // Every line from a service carries its name, padded so the columns line up.
        const fromServices = (text: string) => text.split('\n').filter((line) => line !== '' && !summary.includes(line));
        const prefixed = /^(users   |products|orders  |issuer  |gateway ) \| /;
        expect(fromServices(platform.stdout()).filter((line) => !prefixed.test(line))).toEqual([]);
        expect(platform.stderr().split('\n').filter((line) => line !== '' && !prefixed.test(line))).toEqual([]);
        expect(fromServices(platform.stdout()).sort()).toEqual(
          [
            `gateway  | gateway ready at http://localhost:${ports.gateway}/graphql`,
            `issuer   | issuer ready at http://localhost:${ports.issuer}`,
            `orders   | orders ready at http://localhost:${ports.orders}/graphql`,
            `products | products ready at http://localhost:${ports.products}/graphql`,
            `users    | users ready at http://localhost:${ports.users}/graphql`,
          ].sort(),
        );
        // At LOG_LEVEL=info the subgraphs log their start on stderr, each line under the service's name.
        for (const name of ['users   ', 'products', 'orders  ']) expect(platform.stderr()).toMatch(new RegExp(`^${name} \\| \\{`, 'm'));
      } finally {
        code = await ctrlC(platform);
      }
      expect(code).toBe(0);
      expect(platform.stderr()).not.toMatch(/exited with|was killed by|did not stop/);

      // No process of the platform is left: not npm's, not the services' (each has its own process group).
      const groups = new Set([platform.npm.child.pid!, ...platformProcesses.map((p) => p.pid)]);
      const ours = new Set(platformProcesses.map((p) => `${p.pid} ${p.cmdline}`));
      const leftOver = () => processTable().filter((p) => !p.zombie && (groups.has(p.pgid) || ours.has(`${p.pid} ${p.cmdline}`)));
      for (let waited = 0; leftOver().length > 0 && waited < 3000; waited += 100) await new Promise((r) => setTimeout(r, 100));
      expect(leftOver()).toEqual([]);
      await expect(fetch(`http://127.0.0.1:${ports.gateway}/graphql`)).rejects.toThrow();
    },
    200_000,
  );

  it(
    'under NODE_ENV=production runs no trace store and gives the gateway no DEBUG_TRACES; the gateway refuses introspection, ' +
      'suggests no field names, serves no /debug/traces and keeps readiness details off its port',
    async () => {
      const ports = await freePorts();
      const platform = await npmStart(ports, { NODE_ENV: 'production' });
      try {
        const summary = platform.stdout().split('\n').filter((line) => !line.includes(' | '));
        expect(summary.slice(0, 5)).toEqual([
          `users     http://localhost:${ports.users}/graphql`,
          `products  http://localhost:${ports.products}/graphql`,
          `orders    http://localhost:${ports.orders}/graphql`,
          `tokens    http://localhost:${ports.issuer}/token?sub=usr_001   (development issuer: paste access_token as "Authorization: Bearer ...")`,
          `gateway   http://localhost:${ports.gateway}/graphql   (open in a browser for Apollo Sandbox; offline GraphiQL at /graphiql)`,
        ]);
        expect(summary[5]).toMatch(/^ready in \d+ ms; Ctrl-C stops everything$/);
        await expect(fetch(`http://127.0.0.1:${ports.traces}/v1/traces`)).rejects.toThrow();

        const [gateway] = descendants(platform.npm.child.pid!).filter((p) => p.cmdline.includes('gateway/src/main.ts'));
        const environment = readFileSync(`/proc/${gateway!.pid}/environ`, 'utf8').split('\0');
        expect(environment).toContain('NODE_ENV=production');
        expect(environment.filter((variable) => /^(DEBUG_TRACES|OTEL_EXPORTER_OTLP)/.test(variable))).toEqual([]);

        expect(await graphql(ports, '{ __schema { types { name } } }')).toEqual({
          status: 400,
          body: {
            errors: [
              { message: 'GraphQL introspection has been disabled, but the requested query contained the field "__schema".', locations: [{ line: 1, column: 3 }], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
              { message: 'GraphQL introspection has been disabled, but the requested query contained the field "types".', locations: [{ line: 1, column: 14 }], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
            ],
          },
        });
        expect(await graphql(ports, '{ prodcts(first: 1) { edges { node { id } } } }')).toEqual({
          status: 400,
          body: { errors: [{ message: 'Cannot query field "prodcts" on type "Query".', locations: [{ line: 1, column: 3 }], extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] },
        });
        expect((await fetch(`http://127.0.0.1:${ports.gateway}/debug/traces`)).status).toBe(404);

        const ready = await fetch(`http://127.0.0.1:${ports.gateway}/readyz`);
        const body = (await ready.json()) as Record<string, unknown>;
        expect([ready.status, Object.keys(body)]).toEqual([200, ['status', 'supergraph', 'subgraphs']]);
        expect(JSON.stringify(body)).not.toMatch(/\/|http|error/i);
      } finally {
        expect(await ctrlC(platform)).toBe(0);
      }
    },
    200_000,
  );

  it('reports an orders process that dies, restarts it, and the gateway serves orders again', async () => {
    const ports = await freePorts();
    const platform = await npmStart(ports);
    try {
      const [orders, ...others] = descendants(platform.npm.child.pid!).filter((p) => p.cmdline.includes('subgraphs/orders/src/main.ts'));
      expect(others).toEqual([]);
      process.kill(orders!.pid, 'SIGKILL');

      for (let waited = 0; waited < 60_000; waited += 200) {
        if ((platform.stdout().match(/^orders {3}\| orders ready at /gm) ?? []).length >= 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(platform.stderr()).toMatch(/^orders was killed by SIGKILL; restarting in 1s$/m);
      expect(platform.stdout().match(/^orders {3}\| orders ready at /gm)).toHaveLength(2);
      const restarted = descendants(platform.npm.child.pid!).filter((p) => p.cmdline.includes('subgraphs/orders/src/main.ts'));
      expect(restarted.map((p) => p.pid)).not.toContain(orders!.pid);
      expect(restarted).toHaveLength(1);

      expect(await graphql(ports, CROSS_SUBGRAPH_QUERY, await devToken(ports, 'usr_002', 'orders:read'))).toEqual({ status: 200, body: { data: USR_002_FIRST_TWO_ORDERS } });
    } finally {
      expect(await ctrlC(platform)).toBe(0);
    }
  }, 200_000);

  it('npm run token prints only a token, which the running gateway accepts, and still accepts after npm start restarts with CONFIG_FILE, which reaches the gateway only', async () => {
    const ports = await freePorts();
    const first = await npmStart(ports);
    let token: string;
    try {
      const run = npmRun('token', { ISSUER_PORT: String(ports.issuer) }, ['--sub', 'usr_003', '--scope', 'orders:read orders:write']);
      const { code, stdout, stderr } = await run.exited;
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
      token = stdout.trim();

      expect(await graphql(ports, '{ me { id } }', token)).toEqual({ status: 200, body: { data: { me: { id: 'usr_003' } } } });
    } finally {
      expect(await ctrlC(first)).toBe(0);
    }

    // Restarted with a config file of the user's: the gateway applies it, and the subgraphs (which would
    // refuse its keys) never see it.
    const configFile = join(mkdtempSync(join(tmpdir(), 'switchyard-')), 'tight.yaml');
    writeFileSync(configFile, 'rate_limit:\n  enabled: true\n  classes:\n    anonymous: { requests: 2, cost: 1000 }\n    user: { requests: 100, cost: 100000 }\n');
    const second = await npmStart(ports, { CONFIG_FILE: configFile });
    try {
      expect(await graphql(ports, '{ me { id } }', token)).toEqual({ status: 200, body: { data: { me: { id: 'usr_003' } } } });
      const anonymous = [];
      for (let i = 0; i < 3; i++) anonymous.push((await graphql(ports, '{ product(id: "prd_0001") { id } }')).status);
      expect(anonymous).toEqual([200, 200, 429]);
    } finally {
      expect(await ctrlC(second)).toBe(0);
    }
  }, 300_000);
});
