/**
 * npm run bench:admission: the admission stage's cost, side by side in one run, on the replaying
 * subgraphs (bench/replay-subgraphs.ts) and the cross-subgraph query:
 *   - off: rate limits and demand control off (operation limits stay: they are part of parsing);
 *   - memory: demand control enforced and rate limits on the in-memory store;
 *   - redis: the same on Redis (REDIS_URL, else a redis-server started here).
 * Limits are high enough never to refuse. Each gateway is its own process.
 */
import { execFileSync } from 'node:child_process';
import { compareVariants, printComparison, runBenchmark, startBenchGateway, startReplayingSubgraphs } from './load';
import { freePort, spawnCommand, type WatchedProcess } from '../tests/support/processes';

/** One client (the bench) sends everything, so its class must allow all of it. */
const HIGH = { requests: 1_000_000_000, cost: 1_000_000_000_000, window: '1m' };

runBenchmark(async () => {
  let redis: WatchedProcess | undefined;
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    const port = await freePort();
    redis = spawnCommand('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {});
    await redis.waitFor(/Ready to accept connections/, 10_000);
    redisUrl = `redis://127.0.0.1:${port}`;
  }
  const { env, headers, process: subgraphs, issuer } = await startReplayingSubgraphs();
  const classes = { anonymous: HIGH, user: HIGH };
  const contenders: [string, Record<string, unknown>][] = [
    ['admission off', { demand_control: { enabled: false }, rate_limit: { enabled: false } }],
    ['on, memory limiter', { rate_limit: { enabled: true, store: 'memory', classes } }],
    ['on, Redis limiter', { rate_limit: { enabled: true, store: 'redis', redis: { url: redisUrl, key_prefix: `bench:${process.pid}:` }, classes } }],
  ];
  const gateways: { url: string; process: WatchedProcess }[] = [];
  try {
    for (const [, config] of contenders) gateways.push(await startBenchGateway(config, env));
    const rows = await compareVariants(contenders.map(([name], i) => ({ name, url: gateways[i]!.url, headers })));
    printComparison('admission', rows, 'admission on costs less than 5% of throughput');
  } finally {
    for (const g of gateways) g.process.signal('SIGTERM');
    subgraphs.signal('SIGTERM');
    await issuer.close();
    redis?.signal('SIGKILL');
  }
});
