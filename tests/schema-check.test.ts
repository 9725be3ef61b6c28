import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSchemas } from '@switchyard/schema-tools';
import { composeSupergraph, readSupergraphConfig } from '@switchyard/schema-tools';
import { npmRun, repoRoot } from './support/processes';

/** A copy of the repo's subgraph schemas and supergraph in a temp dir, to break on purpose. */
function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'schema-check-'));
  for (const name of ['users', 'products', 'orders']) {
    cpSync(join(repoRoot, 'subgraphs', name, 'schema.graphql'), join(dir, `${name}.graphql`));
  }
  const yaml = readFileSync(join(repoRoot, 'supergraph.yaml'), 'utf8').replace(/\.\/subgraphs\/(\w+)\/schema\.graphql/g, './$1.graphql');
  writeFileSync(join(dir, 'supergraph.yaml'), yaml);
  const supergraphPath = join(dir, 'supergraph.graphql');
  cpSync(join(repoRoot, 'gateway', 'supergraph.graphql'), supergraphPath);
  const base = { label: 'base', sdl: readFileSync(supergraphPath, 'utf8') };
  const configPath = join(dir, 'supergraph.yaml');
  return {
    configPath,
    supergraphPath,
    base,
    edit(subgraph: string, change: (sdl: string) => string) {
      const file = join(dir, `${subgraph}.graphql`);
      const before = readFileSync(file, 'utf8');
      const after = change(before);
      if (after === before) throw new Error('the edit changed nothing');
      writeFileSync(file, after);
    },
    /** What `npm run compose` would do: write the newly composed supergraph. */
    recompose() {
      const outcome = composeSupergraph(readSupergraphConfig(configPath));
      if (!outcome.ok) throw new Error(outcome.errors.join('\n'));
      writeFileSync(supergraphPath, outcome.supergraphSdl);
    },
  };
}

describe('npm run schema:check', () => {
  it('passes on the repository as committed', async () => {
    const run = npmRun('schema:check', {});
    const { code, stdout } = await run.exited;
    expect(stdout).toMatch(/schema check passed/);
    expect(code).toBe(0);
  });

  it('fails on a subgraph schema that does not compose, naming subgraph, type and field', () => {
    const ws = workspace();
    ws.edit('products', (s) => s.replace('  sku: String!', '  sku: Strin!'));
    const report = checkSchemas(ws);
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/subgraph products, Product\.sku \(line \d+\).*Unknown type Strin/);
  });

  it('fails when two subgraphs disagree on a shared field', () => {
    const ws = workspace();
    ws.edit('orders', (s) => s.replace('type Product @key(fields: "id", resolvable: false) {\n  id: ID!', 'type Product @key(fields: "id", resolvable: false) {\n  id: ID!\n  name: Int'));
    expect(checkSchemas(ws).problems.join('\n')).toMatch(/FIELD_TYPE_MISMATCH.*subgraph orders, Product\.name/);
  });

  it('fails when the committed supergraph is stale', () => {
    const ws = workspace();
    ws.edit('users', (s) => s.replace('  name: String!\n', '  name: String!\n  nickname: String\n'));
    const report = checkSchemas(ws);
    expect(report.problems.join('\n')).toMatch(/is stale.*npm run compose/);
    ws.recompose();
    // Adding a nullable field is not breaking: once composed and committed, the check passes.
    expect(checkSchemas(ws)).toEqual({ ok: true, problems: [], notes: [] });
  });

  it('fails on a removed field even when the supergraph was recomposed, naming the subgraph that served it', () => {
    const ws = workspace();
    ws.edit('products', (s) => s.replace('  "Units available to order now."\n  stock: Int! @cacheControl(maxAge: 0)\n', ''));
    ws.recompose();
    const report = checkSchemas(ws);
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/\[subgraph products\] Product\.stock: Product\.stock was removed/);
  });

  it('fails on a changed field type and on a new required argument', () => {
    const ws = workspace();
    ws.edit('users', (s) => s.replace('  email: String @authenticated', '  email: Int @authenticated'));
    ws.edit('products', (s) => s.replace('product(id: ID!): Product', 'product(id: ID!, region: String!): Product'));
    ws.recompose();
    const text = checkSchemas(ws).problems.join('\n');
    expect(text).toMatch(/\[subgraph users\] User\.email: User\.email changed type from String to Int/);
    expect(text).toMatch(/\[subgraph products\] Query\.product: .*required arg region/i);
  });

  it('a breaking change listed as accepted, with its reason, is reported and does not fail the check', () => {
    const ws = workspace();
    ws.edit('users', (s) => s.replace('  name: String!', '  name: String'));
    ws.recompose();
    const change = 'User.name changed type from String! to String.';
    expect(checkSchemas(ws).problems.join('\n')).toContain(change);
    expect(checkSchemas({ ...ws, accepted: [{ change, reason: 'names become optional' }] })).toEqual({
      ok: true,
      problems: [],
      notes: [`accepted breaking change User.name: ${change} (names become optional)`],
    });
  });

  it('exits non-zero from the command line with the report on stderr', async () => {
    const ws = workspace();
    ws.edit('products', (s) => s.replace('  sku: String!', '  sku: Strin!'));
    const run = npmRun('schema:check', {}, ['--config', ws.configPath, '--supergraph', ws.supergraphPath]);
    const { code, stderr } = await run.exited;
    expect(code).toBe(1);
    expect(stderr).toMatch(/schema check FAILED[\s\S]*subgraph products, Product\.sku/);
  });
});
