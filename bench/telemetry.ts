/**
 * npm run bench:telemetry: what tracing costs the gateway, side by side in one run, on the replaying
 * subgraphs (bench/replay-subgraphs.ts) and the cross-subgraph query of bench/gateway.ts:
 *   - off: no OTLP endpoint, so no SDK and no context manager (the no-op API only);
 *   - on, 100%: every request traced, spans exported as OTLP/HTTP protobuf to a local sink;
 *   - on, 10%: telemetry.exporters.tracing.common.sampler: 0.1, the same sink.
 * Each gateway is its own process (this checkout under tsx); rounds alternate so machine noise hits all
 * alike; medians are reported. The sink is bare node:http that reads and drops: it must cost nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendLoad, startReplayingSubgraphs } from './load';
import { freePort, spawnService, type WatchedProcess } from '../tests/support/processes';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const QUERY = JSON.stringify({
  query: `{ users(first: 20) { edges { node { name orders(first: 5) { edges { node { id totalCents user { email }
    items { quantity unitPriceCents product { name priceCents stock } } } } } } } } }`,
});

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

interface Contender {
  name: string;
  config: Record<string, unknown>;
  env: Record<string, string>;
  process?: WatchedProcess;
  url?: string;
  results: Result[];
}

/** An OTLP endpoint that accepts every export and keeps only the byte count. */
async function startSink(): Promise<{ url: string; bytes: () => number; close(): void }> {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bytes: () => bytes, close: () => server.close() };
}

async function start(c: Contender, env: Record<string, string>): Promise<void> {
  const port = await freePort();
  const file = join(mkdtempSync(join(tmpdir(), 'bench-telemetry-')), 'gateway.yaml');
  writeFileSync(file, JSON.stringify(c.config));
  c.process = spawnService('gateway/src/main.ts', { ...env, ...c.env, CONFIG_FILE: file, PORT: String(port), LOG_LEVEL: 'error', NODE_ENV: 'production' });
  await c.process.waitFor(/ready at/, 60_000);
  c.url = `http://127.0.0.1:${port}`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const sink = await startSink();
  const { env, process: subgraphs } = await startReplayingSubgraphs();
  const exporting = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };
  const sampler = (value: unknown) => ({ telemetry: { exporters: { tracing: { common: { sampler: value } } } } });
  const contenders: Contender[] = [
    { name: 'telemetry off', config: {}, env: {}, results: [] },
    { name: 'on, sampling 100%', config: sampler('always_on'), env: exporting, results: [] },
    { name: 'on, sampling 10%', config: sampler(0.1), env: exporting, results: [] },
  ];
  try {
    for (const c of contenders) await start(c, env);
    process.stdout.write(`query: 100 orders with users and products; ${CONCURRENCY} concurrent clients; ${ROUNDS} rounds of ${SECONDS}s each, alternating\n`);
    for (const c of contenders) await sendLoad(c.name, c.url!, QUERY, SECONDS, CONCURRENCY); // warm-up, discarded
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of contenders) {
        const { rps, p50, p99 } = await sendLoad(c.name, c.url!, QUERY, SECONDS, CONCURRENCY);
        c.results.push({ rps, p50, p99 });
      }
    }
    const rows = contenders.map((c) => ({ name: c.name, rps: median(c.results.map((r) => r.rps)), p50: median(c.results.map((r) => r.p50)), p99: median(c.results.map((r) => r.p99)) }));
    const off = rows[0]!;
    process.stdout.write(`\n${'tracing'.padEnd(22)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'vs off'.padStart(8)}\n`);
    for (const r of rows) {
      const change = `${(((r.rps - off.rps) / off.rps) * 100).toFixed(1)}%`;
      process.stdout.write(`${r.name.padEnd(22)} ${r.rps.toFixed(1).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${change.padStart(8)}\n`);
    }
    process.stdout.write(`(medians of ${ROUNDS} rounds; ${(sink.bytes() / 1024).toFixed(0)} KiB of OTLP received by the sink; target: at 10% sampling, less than 5% of throughput)\n`);
    if (sink.bytes() === 0) throw new Error('the sink received no spans: tracing was not on');
  } finally {
    for (const c of contenders) c.process?.signal('SIGTERM');
    subgraphs.signal('SIGTERM');
    sink.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
