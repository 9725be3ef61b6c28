/**
 * npm run bench:telemetry: what tracing costs the gateway, side by side in one run, on the replaying
 * subgraphs (bench/replay-subgraphs.ts) and the cross-subgraph query:
 *   - off: no OTLP endpoint, so no SDK and no context manager (the no-op API only);
 *   - on, 100%: every request traced, spans exported as OTLP/HTTP protobuf to a local sink;
 *   - on, 10%: telemetry.exporters.tracing.common.sampler: 0.1, the same sink.
 * Each gateway is its own process. The sink is bare node:http that reads and drops: it must cost nothing.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compareVariants, printComparison, runBenchmark, startBenchGateway, startReplayingSubgraphs } from './load';

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

runBenchmark(async () => {
  const sink = await startSink();
  const { env, headers, process: subgraphs, issuer } = await startReplayingSubgraphs();
  const exporting = { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };
  const sampler = (value: unknown) => ({ telemetry: { exporters: { tracing: { common: { sampler: value } } } } });
  const gateways = [];
  try {
    gateways.push(await startBenchGateway({}, env));
    gateways.push(await startBenchGateway(sampler('always_on'), exporting));
    gateways.push(await startBenchGateway(sampler(0.1), exporting));
    const rows = await compareVariants([
      { name: 'telemetry off', url: gateways[0]!.url, headers },
      { name: 'on, sampling 100%', url: gateways[1]!.url, headers },
      { name: 'on, sampling 10%', url: gateways[2]!.url, headers },
    ]);
    printComparison('tracing', rows, 'at 10% sampling, less than 5% of throughput');
    process.stdout.write(`${(sink.bytes() / 1024).toFixed(0)} KiB of OTLP received by the sink\n`);
    if (sink.bytes() === 0) throw new Error('the sink received no spans: tracing was not on');
  } finally {
    for (const g of gateways) g.process.signal('SIGTERM');
    subgraphs.signal('SIGTERM');
    await issuer.close();
    sink.close();
  }
});
