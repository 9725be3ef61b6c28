/**
 * npm run bench:gateway: the gateway alone, side by side in one run, on the same replaying subgraphs
 * (bench/replay-subgraphs.ts) and the same cross-subgraph query:
 *   - switchyard: this checkout's `switchyard` command (compiled JavaScript, the full pipeline);
 *   - switchyard without metrics: the same with telemetry.exporters.metrics.prometheus.enabled false,
 *     which records no metrics at all, to price them;
 *   - switchyard with dedupe off: every client sends the same query, which in-flight dedupe (on by
 *     default) collapses; off, each request is executed and fetched on its own;
 *   - switchyard with resilience on: the platform's retries, breakers, deadlines and criticality, to price them;
 *   - switchyard with header rules on: request and response rules and the merged Cache-Control, to price them;
 *   - baseline: an earlier commit's gateway as it ran then (BENCH_BASELINE, default the commit before
 *     the Fastify edge), under tsx;
 *   - bare: Apollo Gateway as its documentation shows it (bench/bare-gateway.ts).
 * Each gateway is its own process; rounds alternate so machine noise hits all alike. Reported:
 * throughput, latency, the gateway process's CPU time per request and its resident memory (from /proc).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readSupergraphFile } from '../gateway/src/execution/supergraph';
import { freePort, spawnCommand, spawnService, type WatchedProcess } from '../tests/support/processes';
import { prepareBaseline } from './baseline';
import { CROSS_SUBGRAPH_QUERY, sendLoad, startReplayingSubgraphs } from './load';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const BASELINE = process.env.BENCH_BASELINE ?? '6bec66e';
const root = resolve(__dirname, '..');
const QUERY = CROSS_SUBGRAPH_QUERY;

interface Result {
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  rssMb: number;
}

interface Contender {
  name: string;
  launch: (env: Record<string, string>) => WatchedProcess;
  process?: WatchedProcess;
  url?: string;
  results: Result[];
}

function procStat(pid: number): { cpuMs: number; rssMb: number } {
  // utime + stime in clock ticks (100 per second on Linux); resident set from status.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
  return { cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100, rssMb: Number(rss) / 1024 };
}

async function start(c: Contender, env: Record<string, string>): Promise<void> {
  const port = await freePort();
  c.process = c.launch({ ...env, PORT: String(port), LOG_LEVEL: 'error', NODE_ENV: 'production' });
  await c.process.waitFor(/ready at/, 60_000);
  c.url = `http://127.0.0.1:${port}`;
}

async function load(c: Contender, headers: Record<string, string>): Promise<Result> {
  // Every contender is a node process of its own (tsx is loaded with --import, not as a parent process).
  const pid = c.process!.child.pid!;
  const before = procStat(pid);
  const { rps, p50, p99, requests } = await sendLoad(c.name, c.url!, QUERY, SECONDS, CONCURRENCY, headers);
  const after = procStat(pid);
  return { rps, p50, p99, cpuMsPerRequest: (after.cpuMs - before.cpuMs) / requests, rssMb: after.rssMb };
}

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  cpu: number;
  rss: number;
}

/** The platform's subgraph-call settings (scripts/platform-gateway.yaml) as env vars: retries, breakers, deadlines, criticality. */
const RESILIENCE_ON = { REQUEST_TIMEOUT: '15s', SUBGRAPH_TIMEOUT: '5s', SUBGRAPH_RETRY: 'true', CIRCUIT_BREAKER: 'true', CRITICAL_SUBGRAPHS: 'users,products' };

/**
 * Header rules both ways and the merged Cache-Control, as a deployment might set them: client headers
 * forwarded to every subgraph, and subgraph headers propagated back. Caching stays off.
 */
function headerRulesConfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-headers-')), 'gateway.yaml');
  const rules = {
    cache_control: { enabled: true },
    headers: {
      all: {
        request: [{ propagate: { named: 'accept-language' } }, { propagate: { matching: '^x-feature-' } }, { insert: { name: 'x-client-name', from_context: 'client_name' } }],
        response: [{ propagate: { named: 'set-cookie' } }, { propagate: { named: 'x-served-by', algorithm: 'append' } }],
      },
    },
  };
  writeFileSync(file, JSON.stringify(rules));
  return file;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A copy of the supergraph as ApolloGateway gets it from our supergraph manager: no @authenticated/@requiresScopes. */
function withoutSecurityFeatures(path: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-supergraph-')), 'supergraph.graphql');
  writeFileSync(file, readSupergraphFile(path, {}).gatewaySdl);
  return file;
}

async function main(): Promise<void> {
  process.stdout.write('building the switchyard command (npm run build)...\n');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const baseline = prepareBaseline(root, BASELINE);
  const { env, headers, process: subgraphs, issuer } = await startReplayingSubgraphs();
  const contenders: Contender[] = [
    { name: 'switchyard (compiled CLI)', launch: (e) => spawnCommand(process.execPath, [join(root, 'node_modules', '.bin', 'switchyard')], e), results: [] },
    {
      name: 'switchyard, metrics off',
      launch: (e) => spawnCommand(process.execPath, [join(root, 'node_modules', '.bin', 'switchyard')], { ...e, METRICS_PROMETHEUS: 'false' }),
      results: [],
    },
    {
      // Every client sends the same query with the same token, so in-flight dedupe collapses most of the work.
      name: 'switchyard, dedupe off',
      launch: (e) => spawnCommand(process.execPath, [join(root, 'node_modules', '.bin', 'switchyard')], { ...e, OPERATION_DEDUPE: 'false', SUBGRAPH_DEDUPLICATE_QUERY: 'false' }),
      results: [],
    },
    {
      name: 'switchyard, resilience on',
      launch: (e) => spawnCommand(process.execPath, [join(root, 'node_modules', '.bin', 'switchyard')], { ...e, ...RESILIENCE_ON }),
      results: [],
    },
    {
      name: 'switchyard, header rules on',
      launch: (e) => spawnCommand(process.execPath, [join(root, 'node_modules', '.bin', 'switchyard')], { ...e, CONFIG_FILE: headerRulesConfig() }),
      results: [],
    },
    {
      name: `baseline ${baseline.commit} (tsx)`,
      // The baseline predates the security features, which its ApolloGateway refuses: it gets the supergraph without them.
      launch: (e) => spawnService('gateway/src/main.ts', { ...e, SUPERGRAPH_PATH: withoutSecurityFeatures(e.SUPERGRAPH_PATH!) }, baseline.dir),
      results: [],
    },
    { name: 'bare Apollo Gateway', launch: (e) => spawnService('bench/bare-gateway.ts', e), results: [] },
  ];
  try {
    for (const c of contenders) await start(c, env);
    process.stdout.write(`query: 100 orders with users and products; ${CONCURRENCY} concurrent clients; ${ROUNDS} rounds of ${SECONDS}s each, alternating\n`);
    for (const c of contenders) await load(c, headers); // warm-up (and the replaying subgraphs learn the query), discarded
    for (let round = 0; round < ROUNDS; round++) for (const c of contenders) c.results.push(await load(c, headers));
    const rows: Row[] = contenders.map((c) => ({
      name: c.name,
      rps: median(c.results.map((r) => r.rps)),
      p50: median(c.results.map((r) => r.p50)),
      p99: median(c.results.map((r) => r.p99)),
      cpu: median(c.results.map((r) => r.cpuMsPerRequest)),
      rss: Math.max(...c.results.map((r) => r.rssMb)),
    }));
    const head = `${'gateway'.padEnd(30)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'CPU ms/req'.padStart(11)} ${'RSS MB'.padStart(8)}`;
    process.stdout.write(`\n${head}\n`);
    for (const r of rows) {
      process.stdout.write(
        `${r.name.padEnd(30)} ${r.rps.toFixed(1).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${r.cpu.toFixed(2).padStart(11)} ${r.rss.toFixed(0).padStart(8)}\n`,
      );
    }
    const [ours, withoutMetrics, withoutDedupe, resilient, withRules, before, bare] = rows as [Row, Row, Row, Row, Row, Row, Row];
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    process.stdout.write(
      `\nswitchyard / bare:     throughput ${ratio(ours.rps, bare.rps)}, CPU per request ${ratio(ours.cpu, bare.cpu)}, memory ${ratio(ours.rss, bare.rss)}\n` +
        `switchyard / baseline: throughput ${ratio(ours.rps, before.rps)}, CPU per request ${ratio(ours.cpu, before.cpu)}, memory ${ratio(ours.rss, before.rss)}\n` +
        `metrics on / off:      throughput ${ratio(ours.rps, withoutMetrics.rps)}, CPU per request ${ratio(ours.cpu, withoutMetrics.cpu)}, memory ${ratio(ours.rss, withoutMetrics.rss)}\n` +
        `dedupe off / bare:     throughput ${ratio(withoutDedupe.rps, bare.rps)}, CPU per request ${ratio(withoutDedupe.cpu, bare.cpu)}, memory ${ratio(withoutDedupe.rss, bare.rss)}\n` +
        `header rules on / off: throughput ${ratio(withRules.rps, ours.rps)}, CPU per request ${ratio(withRules.cpu, ours.cpu)}, memory ${ratio(withRules.rss, ours.rss)}\n` +
        `resilience on / off:   throughput ${ratio(resilient.rps, ours.rps)}, CPU per request ${ratio(resilient.cpu, ours.cpu)}, memory ${ratio(resilient.rss, ours.rss)}\n` +
        `(medians of ${ROUNDS} rounds; memory is the largest resident set seen after a round)\n`,
    );
  } finally {
    for (const c of contenders) c.process?.signal('SIGTERM');
    subgraphs.signal('SIGTERM');
    await issuer.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
