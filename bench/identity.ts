/**
 * npm run bench:identity: the identity stage's cost, side by side in one run, on the replaying subgraphs
 * and the cross-subgraph query of bench/gateway.ts, through one gateway (this checkout under tsx):
 *   - none: no credential (anonymous);
 *   - jwt: a valid ES256 bearer token, verified against the cached JWKS of a local issuer;
 *   - api key: a valid x-api-key, looked up by its SHA-256.
 * One process serves all three, so only the credential differs; rounds alternate so machine noise hits
 * all alike; medians are reported.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '../gateway/src/identity/api-keys';
import { startDevIssuer } from '../scripts/dev-issuer';
import { freePort, spawnService } from '../tests/support/processes';
import { sendLoad, startReplayingSubgraphs, type LoadResult } from './load';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const QUERY = JSON.stringify({
  query: `{ users(first: 20) { edges { node { name orders(first: 5) { edges { node { id totalCents user { email }
    items { quantity unitPriceCents product { name priceCents stock } } } } } } } } }`,
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs the three credentials against one gateway URL and returns each one's median figures. */
export async function compareCredentials(url: string, credentials: Record<string, Record<string, string>>): Promise<Record<string, LoadResult>> {
  const results: Record<string, LoadResult[]> = Object.fromEntries(Object.keys(credentials).map((name) => [name, []]));
  for (const [name, headers] of Object.entries(credentials)) await sendLoad(name, url, QUERY, 1, CONCURRENCY, headers); // warm-up, discarded
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, headers] of Object.entries(credentials)) results[name]!.push(await sendLoad(name, url, QUERY, SECONDS, CONCURRENCY, headers));
  }
  return Object.fromEntries(
    Object.entries(results).map(([name, rs]) => [
      name,
      { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), requests: median(rs.map((r) => r.requests)) },
    ]),
  );
}

async function main(): Promise<void> {
  const issuer = await startDevIssuer({ port: 0 });
  const apiKey = generateApiKey();
  const config = join(mkdtempSync(join(tmpdir(), 'bench-identity-')), 'gateway.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      authentication: {
        router: { jwt: { jwks: [{ url: issuer.jwksUrl, issuers: [issuer.issuer], audiences: [issuer.audience] }] } },
        api_keys: { keys: [{ name: 'bench', sha256: apiKey.sha256, scopes: ['products:read'] }] },
      },
    }),
  );
  const { env, process: subgraphs } = await startReplayingSubgraphs();
  const port = await freePort();
  const gateway = spawnService('gateway/src/main.ts', { ...env, CONFIG_FILE: config, PORT: String(port), LOG_LEVEL: 'error', NODE_ENV: 'production' });
  try {
    await gateway.waitFor(/ready at/, 60_000);
    const token = await issuer.issue('usr_001', { scopes: ['orders:read'], expiresIn: '1h' });
    process.stdout.write(`query: 100 orders with users and products; ${CONCURRENCY} concurrent clients; ${ROUNDS} rounds of ${SECONDS}s each, alternating\n`);
    const rows = await compareCredentials(`http://127.0.0.1:${port}`, {
      none: {},
      jwt: { authorization: `Bearer ${token}` },
      'api key': { 'x-api-key': apiKey.key },
    });
    process.stdout.write(`\n${'credential'.padEnd(12)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}\n`);
    for (const [name, r] of Object.entries(rows)) {
      process.stdout.write(`${name.padEnd(12)} ${r.rps.toFixed(1).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)}\n`);
    }
    const base = rows.none!.rps;
    process.stdout.write(`\njwt / none: ${(rows.jwt!.rps / base).toFixed(3)}x throughput; api key / none: ${(rows['api key']!.rps / base).toFixed(3)}x (medians of ${ROUNDS} rounds)\n`);
  } finally {
    gateway.signal('SIGTERM');
    subgraphs.signal('SIGTERM');
    await issuer.close();
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  });
}
