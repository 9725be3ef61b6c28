/**
 * npm run bench: Switchyard against the other Node federation gateways, as users compare them. Every
 * gateway gets the same supergraph (gateway/supergraph.graphql) and the same in-memory stand-in subgraphs
 * (bench/stand-in-subgraphs.ts), so the gateway is the bottleneck. Contenders, each its own process on a free port:
 *   - floor: no gateway; the client sends an operation's subgraph fetches itself, one after the other;
 *   - apollo: bare @apollo/gateway (bench/bare-gateway.ts);
 *   - hive-jit: Hive Gateway, `hive-gateway supergraph <file> --jit`;
 *   - hive-router: Hive Gateway on Hive Router's Rust query planner, `--hive-router-runtime`;
 *   - switchyard: this checkout's compiled `switchyard` command in production, every plugin on (switchyardEnv);
 *   - switchyard-apollo-executor: the same on Apollo's query-plan executor (BENCH_ONLY=switchyard,switchyard-apollo-executor
 *     compares the two executors alone).
 * Three queries (bench/stand-in-subgraphs.ts) under two workloads: identical requests from every client, and a
 * distinct client identity (Authorization bearer token) on every request, so no two requests can share work.
 * Before measuring, every gateway's answer to every query must equal Switchyard's; one that differs is not
 * measured. Rounds alternate between contenders so machine noise hits all alike. Reported per query and
 * workload: req/s, p50, p99, errors, subgraph fetches per operation, peak RSS, throughput against bare
 * @apollo/gateway and against Hive Gateway with the router runtime; to stdout and bench/results/latest.md.
 * Env: BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONCURRENCY, BENCH_ONLY (names, comma-separated), BENCH_IDENTITIES.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { startDevIssuer } from '@switchyard/dev-tools/dev-issuer';
import { readSupergraphFile } from '../gateway/src/execution/supergraph';
import { parse as parseYaml } from 'yaml';
import { PLATFORM_GATEWAY_CONFIG } from '../scripts/platform-gateway';
import { freePort, repoRoot, spawnCommand, spawnService, type WatchedProcess } from '../tests/support/processes';
import { BENCH_SCOPES, CONCURRENCY, median, medianOf, ROUNDS, runBenchmark, SECONDS, sendLoad, type LoadResult, type Post, writeResults } from './load';
import { COMPARED_QUERIES, SUBGRAPHS, type ComparedQuery, type FetchCount, type SubgraphName } from './stand-in-subgraphs';

const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
/** More than the gateway's cache of verified tokens (10,000), so under "distinct identity" none is verified twice from cache. */
const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 12_000);
const WORKLOADS = ['identical requests', 'distinct identity'] as const;
type Workload = (typeof WORKLOADS)[number];

/** What a gateway is started with: the supergraph file (with the stand-ins' URLs) and the stand-ins' URLs by subgraph. */
export interface Stage {
  supergraph: string;
  urls: Record<SubgraphName, string>;
  jwt: { jwksUrl: string; issuer: string; audience: string };
}

interface Contender {
  name: string;
  /** How the gateway is started on `port`; the floor has none. */
  launch?: (stage: Stage, port: number) => WatchedProcess;
  process?: WatchedProcess;
  url?: string;
  peakRssMb: number;
  /** Why the contender was not measured. */
  refused?: string;
}

/**
 * Switchyard's environment for the stage: in production, configured as npm start and the k8s base run it
 * (scripts/platform-gateway.yaml: rate limits, demand control, authorization, retries, circuit breakers),
 * with the rate limits' budgets raised so that the benchmark's one client pays for every check and is never
 * refused, and no API key file (the benchmark signs in with tokens). Persisted-operation safelisting and
 * trace export stay off: they need a manifest and a collector this benchmark does not have.
 */
export function switchyardEnv(stage: Stage): Record<string, string> {
  const config = join(mkdtempSync(join(tmpdir(), 'bench-switchyard-')), 'gateway.yaml');
  const unrefused = { requests: 1_000_000_000, cost: 1_000_000_000_000 };
  // No response or entity cache: they are off by default, and they would measure a cache, not a gateway.
  const { authentication: _apiKeys, response_cache: _cache, entity_cache: _entities, ...platform } = parseYaml(readFileSync(PLATFORM_GATEWAY_CONFIG, 'utf8'));
  writeFileSync(config, JSON.stringify({ ...platform, rate_limit: { ...platform.rate_limit, classes: { anonymous: unrefused, user: unrefused } } }));
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'error',
    CONFIG_FILE: config,
    SUPERGRAPH_PATH: join(repoRoot, 'gateway', 'supergraph.graphql'),
    SUBGRAPH_USERS_URL: stage.urls.users,
    SUBGRAPH_PRODUCTS_URL: stage.urls.products,
    SUBGRAPH_ORDERS_URL: stage.urls.orders,
    JWT_JWKS_URL: stage.jwt.jwksUrl,
    JWT_ISSUER: stage.jwt.issuer,
    JWT_AUDIENCE: stage.jwt.audience,
  };
}

// The peers are installed apart (bench/peers, its own lock file), on first use: the repository's npm ci
// would otherwise carry some 700 packages that only this command needs.
const peersDir = join(repoRoot, 'bench', 'peers');
const hiveGateway = join(peersDir, 'node_modules', '@graphql-hive', 'gateway', 'dist', 'bin.js');
const hive = (flag: string) => (stage: Stage, port: number) =>
  // --fork 1: one process, as every other contender is.
  spawnCommand(process.execPath, [hiveGateway, 'supergraph', stage.supergraph, flag, '--fork', '1', '--host', '127.0.0.1', '--port', String(port)], { NODE_ENV: 'production' });

const CONTENDERS: Omit<Contender, 'peakRssMb'>[] = [
  { name: 'floor' },
  { name: 'apollo', launch: (stage, port) => spawnService('bench/bare-gateway.ts', { ...subgraphUrlEnv(stage), SUPERGRAPH_PATH: stage.supergraph, PORT: String(port), NODE_ENV: 'production' }) },
  { name: 'hive-jit', launch: hive('--jit') },
  { name: 'hive-router', launch: hive('--hive-router-runtime') },
  {
    name: 'switchyard',
    launch: (stage, port) => spawnCommand(process.execPath, [join(repoRoot, 'node_modules', '.bin', 'switchyard')], { ...switchyardEnv(stage), PORT: String(port) }),
  },
  {
    // The same, with Apollo's query-plan executor instead of ours (supergraph.executor: apollo).
    name: 'switchyard-apollo-executor',
    launch: (stage, port) => spawnCommand(process.execPath, [join(repoRoot, 'node_modules', '.bin', 'switchyard')], { ...switchyardEnv(stage), SUPERGRAPH_EXECUTOR: 'apollo', PORT: String(port) }),
  },
];

const subgraphUrlEnv = (stage: Stage) => Object.fromEntries(SUBGRAPHS.map((s) => [`SUBGRAPH_${s.toUpperCase()}_URL`, stage.urls[s]]));

/**
 * The supergraph as the peers get it: without @authenticated/@requiresScopes (which Apollo Gateway refuses
 * and none of the peers enforces without more configuration), and with the stand-ins' URLs.
 */
function peerSupergraph(urls: Record<SubgraphName, string>): string {
  let sdl = readSupergraphFile(join(repoRoot, 'gateway', 'supergraph.graphql'), {}).gatewaySdl;
  for (const name of SUBGRAPHS) {
    sdl = sdl.replace(new RegExp(`(@join__graph\\(name: "${name}", url: )"[^"]*"`), `$1"${urls[name]}"`);
    if (!sdl.includes(`"${urls[name]}"`)) throw new Error(`the supergraph declares no @join__graph for ${name}`);
  }
  const file = join(mkdtempSync(join(tmpdir(), 'bench-compare-')), 'supergraph.graphql');
  writeFileSync(file, sdl);
  return file;
}

/** Resident memory of a process and all its descendants, in MB, from /proc. */
function treeRssMb(pid: number): number {
  try {
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const children = readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean));
    return rss + children.reduce((sum, child) => sum + treeRssMb(Number(child)), 0);
  } catch {
    return 0; // gone
  }
}

async function post(url: string, query: string, headers: Record<string, string>): Promise<{ status: number; body: { data?: unknown; errors?: unknown } }> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: unknown } };
}

async function fetchCount(standIns: string, method: 'GET' | 'DELETE'): Promise<FetchCount> {
  return (await fetch(`${standIns}/fetches`, { method })).json() as Promise<FetchCount>;
}

const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

async function main(): Promise<void> {
  const unknown = ONLY?.filter((name) => !CONTENDERS.some((c) => c.name === name)) ?? [];
  if (unknown.length) throw new Error(`BENCH_ONLY: no contender ${unknown.join(', ')}; there are ${CONTENDERS.map((c) => c.name).join(', ')}`);
  const contenders: Contender[] = CONTENDERS.filter((c) => !ONLY || ONLY.includes(c.name)).map((c) => ({ ...c, peakRssMb: 0 }));
  if (contenders.some((c) => c.name.startsWith('hive-')) && !existsSync(hiveGateway)) {
    process.stdout.write('installing the peer gateways into bench/peers (once)...\n');
    execFileSync('npm', ['ci', '--prefix', peersDir, '--no-audit', '--no-fund'], { cwd: repoRoot, stdio: 'inherit' });
  }
  if (contenders.some((c) => c.name === 'switchyard')) {
    process.stdout.write('building the switchyard command (npm run build)...\n');
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  }
  const standIns = spawnService('bench/stand-in-subgraphs.ts', {});
  const issuer = await startDevIssuer({ port: 0 });
  let sampler: NodeJS.Timeout | undefined;
  try {
    const standInsUrl = /ready at (\S+)/.exec(await standIns.waitFor(/stand-in subgraphs ready at \S+\n/, 60_000))![1]!;
    const urls = Object.fromEntries(SUBGRAPHS.map((s) => [s, `${standInsUrl}/${s}`])) as Record<SubgraphName, string>;
    const stage: Stage = { supergraph: peerSupergraph(urls), urls, jwt: { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: issuer.audience } };
    process.stdout.write(`signing ${IDENTITIES} client identities...\n`);
    const tokens = await Promise.all(Array.from({ length: IDENTITIES }, (_, i) => issuer.issue(`bench_client_${i}`, { scopes: BENCH_SCOPES })));
    const headersFor: Record<Workload, (n: number) => Record<string, string>> = {
      'identical requests': () => ({ authorization: `Bearer ${tokens[0]}` }),
      'distinct identity': (n) => ({ authorization: `Bearer ${tokens[n % tokens.length]}` }),
    };

    for (const c of contenders.filter((c) => c.launch)) {
      const port = await freePort();
      c.process = c.launch!(stage, port);
      c.url = `http://127.0.0.1:${port}`;
      await waitUntilServing(c);
    }
    sampler = setInterval(() => {
      for (const c of contenders) if (c.process) c.peakRssMb = Math.max(c.peakRssMb, treeRssMb(c.process.child.pid!));
    }, 100);

    // Correct answers first: each gateway's must equal the reference's (Switchyard's when it runs), or it is not measured.
    const gateways = contenders.filter((c) => c.launch);
    const reference = gateways.find((c) => c.name === 'switchyard') ?? gateways[0];
    const floorPosts = new Map<ComparedQuery, Post[]>();
    for (const [query, text] of Object.entries(COMPARED_QUERIES) as [ComparedQuery, string][]) {
      let expected: unknown;
      for (const c of [reference, ...gateways.filter((g) => g !== reference)]) {
        if (!c || c.refused) continue;
        await fetchCount(standInsUrl, 'DELETE');
        const answer = await post(c.url!, text, headersFor['identical requests'](0));
        if (c === reference) {
          if (answer.status !== 200 || answer.body.errors || !answer.body.data) throw new Error(`${c.name} answered "${query}" with ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
          expected = answer.body.data;
          floorPosts.set(query, (await fetchCount(standInsUrl, 'GET')).recent);
        } else if (answer.status !== 200 || answer.body.errors || !isDeepStrictEqual(answer.body.data, expected)) {
          c.refused = `its answer to "${query}" differs from ${reference.name}'s: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
        }
      }
    }
    const floor = contenders.find((c) => c.name === 'floor');
    if (floor && !reference) floor.refused = 'no gateway ran, so there are no fetches to replay';
    for (const c of contenders.filter((c) => c.refused)) process.stdout.write(`NOT MEASURED ${c.name}: ${c.refused}\n`);
    const measured = contenders.filter((c) => !c.refused);

    const load = async (c: Contender, query: ComparedQuery, workload: Workload, seconds: number) => {
      await fetchCount(standInsUrl, 'DELETE');
      const operation = c === floor ? floorPosts.get(query)! : JSON.stringify({ query: COMPARED_QUERIES[query] });
      const result = await sendLoad(c.name, c.url ?? standInsUrl, operation, seconds, CONCURRENCY, headersFor[workload], { countErrors: true });
      return { ...result, fetches: (await fetchCount(standInsUrl, 'GET')).total / (result.requests + result.errors) };
    };
    const queries = Object.keys(COMPARED_QUERIES) as ComparedQuery[];
    process.stdout.write(`${CONCURRENCY} concurrent clients; ${ROUNDS} rounds of ${SECONDS}s per query and workload, contenders alternating\n`);
    for (const c of measured) for (const q of queries) await load(c, q, 'identical requests', 1); // warm-up, discarded
    const results = new Map<string, (LoadResult & { fetches: number })[]>();
    const key = (c: Contender, q: ComparedQuery, w: Workload) => `${c.name}|${q}|${w}`;
    for (let round = 0; round < ROUNDS; round++) {
      for (const w of WORKLOADS) {
        for (const q of queries) {
          for (const c of measured) {
            const runs = results.get(key(c, q, w)) ?? [];
            runs.push(await load(c, q, w, SECONDS));
            results.set(key(c, q, w), runs);
          }
        }
      }
    }

    const lines = [
      `# npm run bench: Switchyard against Node federation gateways`,
      '',
      `${new Date().toISOString()}, Node ${process.version}, ${CONCURRENCY} concurrent clients, medians of ${ROUNDS} rounds of ${SECONDS}s; ` +
        `errors summed over the rounds; peak RSS over the whole run (process and children). ` +
        `"x apollo" and "x hive-router" are throughput ratios.`,
    ];
    if (SECONDS < 5 || ROUNDS < 3) lines.push('', `**Smoke run (BENCH_SECONDS=${SECONDS}, BENCH_ROUNDS=${ROUNDS}): the figures say nothing about performance.**`);
    for (const c of contenders.filter((c) => c.refused)) lines.push('', `Not measured: ${c.name}: ${c.refused}`);
    for (const w of WORKLOADS) {
      for (const q of queries) {
        const rows = measured.map((c) => {
          const runs = results.get(key(c, q, w))!;
          return { c, r: medianOf(runs), fetches: median(runs.map((r) => r.fetches)) };
        });
        const rpsOf = (name: string) => rows.find((row) => row.c.name === name)?.r.rps;
        const ratio = (rps: number, of: number | undefined) => (of ? `${(rps / of).toFixed(2)}x` : '-');
        lines.push('', `## ${q}, ${w}`, '', '| contender | req/s | p50 ms | p99 ms | errors | fetches/op | peak RSS MB | x apollo | x hive-router |', '|---|--:|--:|--:|--:|--:|--:|--:|--:|');
        for (const { c, r, fetches } of rows) {
          const rss = c.process ? fixed(c.peakRssMb, 0) : '-';
          lines.push(`| ${c.name} | ${fixed(r.rps)} | ${fixed(r.p50)} | ${fixed(r.p99)} | ${r.errors} | ${fixed(fetches, 2)} | ${rss} | ${ratio(r.rps, rpsOf('apollo'))} | ${ratio(r.rps, rpsOf('hive-router'))} |`);
        }
      }
    }
    writeResults('latest.md', lines);
  } finally {
    clearInterval(sampler);
    for (const c of contenders) c.process?.signal('SIGTERM');
    standIns.signal('SIGTERM');
    await issuer.close();
  }
}

/** Waits until the contender answers a GraphQL request at all (each prints its own kind of ready line). */
async function waitUntilServing(c: Contender): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await post(c.url!, '{ __typename }', {});
      return;
    } catch (err) {
      if (Date.now() > deadline || c.process!.child.exitCode !== null) {
        const { stderr } = c.process!.child.exitCode !== null ? await c.process!.exited : { stderr: '' };
        throw new Error(`${c.name} did not start serving: ${(err as Error).message} ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

if (require.main === module) runBenchmark(main);
