/**
 * npm run persisted:manifest: the Apollo persisted query manifest (version 1) of operations/*.graphql,
 * each operation checked against the API schema of gateway/supergraph.graphql, written to
 * operations/manifest.json. `--check` only says whether the committed manifest is current.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import { parse, validate, type DocumentNode } from 'graphql';
import { manifestFrom } from '../gateway/src/plugins/persisted-operations/manifest';

const root = resolve(__dirname, '..');
const folder = resolve(root, 'operations');
export const manifestPath = resolve(folder, 'manifest.json');

/** The manifest text for the operations folder; throws naming the file of any invalid operation. */
export function buildManifest(): string {
  const apiSchema = Supergraph.build(readFileSync(resolve(root, 'gateway/supergraph.graphql'), 'utf8'), { supportedFeatures: null }).apiSchema().toGraphQLJSSchema();
  const files = readdirSync(folder).filter((name) => name.endsWith('.graphql')).sort();
  const documents: DocumentNode[] = files.map((name) => parse(readFileSync(resolve(folder, name), 'utf8'), { noLocation: true }));
  const manifest = manifestFrom(documents);
  // Fragments may live in another file than the operations that use them, so each entry is checked whole.
  for (const operation of manifest.operations) {
    const [error] = validate(apiSchema, parse(operation.body));
    if (error) throw new Error(`operations: ${operation.name} is not valid against the supergraph: ${error.message}`);
  }
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

if (require.main === module) {
  const text = buildManifest();
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(manifestPath, 'utf8');
    } catch {
      // missing: not current
    }
    if (committed !== text) {
      process.stderr.write('operations/manifest.json is not current: run npm run persisted:manifest\n');
      process.exit(1);
    }
    process.stdout.write('operations/manifest.json is current\n');
  } else {
    writeFileSync(manifestPath, text);
    process.stdout.write(`wrote operations/manifest.json (${(JSON.parse(text) as { operations: unknown[] }).operations.length} operations)\n`);
  }
}
