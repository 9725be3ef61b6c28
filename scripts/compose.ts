/** npm run compose: composes the subgraphs listed in supergraph.yaml into gateway/supergraph.graphql. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { composeSupergraph, readSupergraphConfig } from '@switchyard/schema-tools';

const root = resolve(__dirname, '..');
const outcome = composeSupergraph(readSupergraphConfig(resolve(root, 'supergraph.yaml')));
if (!outcome.ok) {
  process.stderr.write(`composition failed:\n${outcome.errors.map((e) => `  - ${e}`).join('\n')}\n`);
  process.exit(1);
}
writeFileSync(resolve(root, 'gateway/supergraph.graphql'), outcome.supergraphSdl);
process.stdout.write('composed gateway/supergraph.graphql\n');
