/**
 * npm run compose: composes the subgraphs listed in supergraph.yaml into gateway/supergraph.graphql, and
 * writes each contract listed in contracts.yaml (the supergraph filtered by @tag) to its output.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { composeSupergraph, filterSupergraph, readContracts, readSupergraphConfig } from '@switchyard/schema-tools';

const root = resolve(__dirname, '..');
const outcome = composeSupergraph(readSupergraphConfig(resolve(root, 'supergraph.yaml')));
if (!outcome.ok) {
  process.stderr.write(`composition failed:\n${outcome.errors.map((e) => `  - ${e}`).join('\n')}\n`);
  process.exit(1);
}
writeFileSync(resolve(root, 'gateway/supergraph.graphql'), outcome.supergraphSdl);
process.stdout.write('composed gateway/supergraph.graphql\n');
for (const contract of readContracts(resolve(root, 'contracts.yaml'))) {
  const filtered = filterSupergraph(outcome.supergraphSdl, contract);
  if (!filtered.ok) {
    process.stderr.write(`contract ${contract.name} failed:\n${filtered.errors.map((e) => `  - ${e}`).join('\n')}\n`);
    process.exit(1);
  }
  const output = resolve(root, contract.output);
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, filtered.supergraphSdl);
  process.stdout.write(`composed ${contract.output} (contract ${contract.name}: ${filtered.hidden.length} elements hidden: ${filtered.hidden.join(', ')})\n`);
}
