/**
 * npm run deprecations: which clients (apollographql-client-name and -version) still use each deprecated
 * field, argument or enum value, from a gateway's /metrics, and which no client has used. The counters
 * are one replica's since it started; across replicas and restarts ask Prometheus the same question:
 *   sum by (schema_coordinate, client_name, client_version) (increase(switchyard_graphql_deprecated_usage_total[30d]))
 * Options: --metrics <url> (default http://127.0.0.1:4000/metrics) --supergraph <file> (default gateway/supergraph.graphql).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { deprecatedUsesFromMetrics, deprecationReport, deprecationsOf } from '../gateway/src/plugins/metrics/deprecation-report';

const { values: args } = parseArgs({
  options: {
    metrics: { type: 'string', default: 'http://127.0.0.1:4000/metrics' },
    supergraph: { type: 'string', default: resolve(__dirname, '..', 'gateway/supergraph.graphql') },
  },
});

async function main(): Promise<void> {
  const response = await fetch(args.metrics!);
  if (!response.ok) throw new Error(`${args.metrics} answered ${response.status}`);
  const deprecations = deprecationsOf(readFileSync(args.supergraph!, 'utf8'));
  process.stdout.write(deprecationReport(deprecations, deprecatedUsesFromMetrics(await response.text()), args.metrics!));
}

main().catch((err: Error) => {
  process.stderr.write(`deprecations: ${err.message}\n`);
  process.exit(1);
});
