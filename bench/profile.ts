/**
 * npm run bench:profile: where the gateway's CPU goes on the heavy query, so a change can be stated as
 * before and after. The compiled `switchyard` command runs under `node --cpu-prof`, configured as npm run
 * bench starts it (switchyardEnv: every plugin on at the platform's settings, no response cache), on the
 * in-memory stand-in subgraphs (bench/stand-in-subgraphs.ts); BENCH_CONCURRENCY clients (default 16) send
 * bench/compare.ts's "100 orders, nested" query for BENCH_PROFILE_SECONDS (default 20), each request with
 * another client identity (BENCH_IDENTITIES, default 12,000), so nothing is shared between requests. Then
 * the gateway stops, its profile is read, and self time over the load (startup left out) is printed grouped
 * by category (bench/profile-categories.ts) with the top functions, and written to bench/results/profile.md.
 * The .cpuprofile stays in the temp folder for Chrome DevTools or speedscope.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevIssuer } from '@switchyard/dev-tools/dev-issuer';
import { freePort, repoRoot, spawnCommand, spawnService, type WatchedProcess } from '../tests/support/processes';
import { switchyardEnv } from './compare';
import { BENCH_SCOPES, CONCURRENCY, runBenchmark, sendLoad, writeResults } from './load';
import { CATEGORIES, selfTimeByCategory, topFunctions, type CpuProfile } from './profile-categories';
import { COMPARED_QUERIES, SUBGRAPHS, type SubgraphName } from './stand-in-subgraphs';

const SECONDS = Number(process.env.BENCH_PROFILE_SECONDS ?? 20);
const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 12_000);
const QUERY = '100 orders, nested';

async function main(): Promise<void> {
  process.stdout.write('building the switchyard command (npm run build)...\n');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  const standIns = spawnService('bench/stand-in-subgraphs.ts', {});
  const issuer = await startDevIssuer({ port: 0 });
  const profileDir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
  let gateway: WatchedProcess | undefined;
  try {
    const standInsUrl = /ready at (\S+)/.exec(await standIns.waitFor(/stand-in subgraphs ready at \S+\n/, 60_000))![1]!;
    const urls = Object.fromEntries(SUBGRAPHS.map((s) => [s, `${standInsUrl}/${s}`])) as Record<SubgraphName, string>;
    process.stdout.write(`signing ${IDENTITIES} client identities...\n`);
    const tokens = await Promise.all(Array.from({ length: IDENTITIES }, (_, i) => issuer.issue(`bench_client_${i}`, { scopes: BENCH_SCOPES })));
    const port = await freePort();
    const stage = { supergraph: '', urls, jwt: { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: issuer.audience } };
    gateway = spawnCommand(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, join(repoRoot, 'node_modules', '.bin', 'switchyard')], {
      ...switchyardEnv(stage),
      PORT: String(port),
    });
    await gateway.waitFor(/ready at/, 60_000);
    const url = `http://127.0.0.1:${port}`;
    const body = JSON.stringify({ query: COMPARED_QUERIES[QUERY] });
    const headers = (n: number) => ({ authorization: `Bearer ${tokens[n % tokens.length]}` });
    process.stdout.write(`profiling: "${QUERY}", a distinct identity per request, ${CONCURRENCY} clients, ${SECONDS}s\n`);
    await sendLoad('warm-up', url, body, 2, CONCURRENCY, headers, { countErrors: true });
    // The profile's clock is V8's, not ours: the load is its last `loadMicros` before the process ends.
    const loadBegan = performance.now();
    const result = await sendLoad('switchyard', url, body, SECONDS, CONCURRENCY, headers, { countErrors: true });
    gateway.signal('SIGTERM');
    const { code } = await gateway.exited;
    const loadMicros = (performance.now() - loadBegan) * 1000;
    const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error(`the gateway (exit ${code}) wrote no CPU profile into ${profileDir}`);
    const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile;
    const from = profile.endTime - loadMicros;
    const times = selfTimeByCategory(profile, from);
    const busy = times.filter((t) => t.category !== 'idle').reduce((sum, t) => sum + t.ms, 0);
    const idle = times.find((t) => t.category === 'idle')!.ms;
    const pct = (ms: number) => `${((ms / busy) * 100).toFixed(1)}%`;
    const lines = [
      '# npm run bench:profile',
      '',
      `${new Date().toISOString()}, Node ${process.version}: the compiled gateway under --cpu-prof (every plugin on, as npm run bench runs it), "${QUERY}", ` +
        `a distinct identity per request, ${CONCURRENCY} clients for ${SECONDS}s: ${(result.requests / SECONDS).toFixed(1)} req/s, p50 ${result.p50.toFixed(1)} ms, ` +
        `p99 ${result.p99.toFixed(1)} ms, ${result.errors} errors (under the profiler, so slower than unprofiled). Self time over the load: ` +
        `${(busy / 1000).toFixed(1)} s busy, ${(idle / 1000).toFixed(1)} s idle (sampled wall time: a loaded machine inflates absolute times, so compare shares, which are noisy too).`,
      '',
      '| category | self ms | share of busy |',
      '|---|--:|--:|',
      ...CATEGORIES.map((category) => times.find((t) => t.category === category)!).map((t) => `| ${t.category} | ${t.ms.toFixed(0)} | ${pct(t.ms)} |`),
      '',
      'JSON.parse and JSON.stringify seldom get a frame of their own in V8\'s profiles: their time is mostly the self time of',
      'the function calling them, so the JSON row is a floor. In this gateway those callers are `send` in gateway/dist/http/edge.js (the answer\'s',
      'stringify) and `post` in gateway/dist/transport/subgraph-http-client.js (each subgraph answer\'s parse), below.',
      '',
      '| top functions (self) | category | self ms | share of busy |',
      '|---|---|--:|--:|',
      ...topFunctions(profile, 15, from).map((f) => `| \`${f.name}\` | ${f.category} | ${f.ms.toFixed(0)} | ${pct(f.ms)} |`),
      '',
      `Profile: ${join(profileDir, file)}`,
    ];
    writeResults('profile.md', lines);
  } finally {
    gateway?.signal('SIGTERM');
    standIns.signal('SIGTERM');
    await issuer.close();
  }
}

runBenchmark(main);
