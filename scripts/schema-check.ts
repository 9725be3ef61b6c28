/**
 * npm run schema:check: fails (exit 1) with a readable report when
 *   1. the subgraphs in supergraph.yaml do not compose,
 *   2. the committed gateway/supergraph.graphql is not what they compose to (run `npm run compose`), or
 *   3. the composed API breaks existing clients compared with the supergraph on the base branch,
 * and the same for each contract in contracts.yaml (current, and not breaking its clients on the base branch).
 * A breaking change made on purpose is listed with its reason in schema-changes.yaml and reported, not fatal.
 * Options: --config <supergraph.yaml> --supergraph <committed file> --base <git ref> | --base-file <file>
 * --accepted <schema-changes.yaml> --contracts <contracts.yaml>.
 * The base ref defaults to $SCHEMA_CHECK_BASE, else the merge-base with origin/main or main.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkSchemas, readAcceptedChanges } from '@switchyard/schema-tools';

const root = resolve(__dirname, '..');
const { values: args } = parseArgs({
  options: {
    config: { type: 'string', default: resolve(root, 'supergraph.yaml') },
    supergraph: { type: 'string', default: resolve(root, 'gateway/supergraph.graphql') },
    base: { type: 'string' },
    'base-file': { type: 'string' },
    accepted: { type: 'string', default: resolve(root, 'schema-changes.yaml') },
    contracts: { type: 'string', default: resolve(root, 'contracts.yaml') },
  },
});

const git = (...a: string[]) => execFileSync('git', a, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

function baseRef(): string | undefined {
  if (args.base) return args.base;
  if (process.env.SCHEMA_CHECK_BASE) return process.env.SCHEMA_CHECK_BASE;
  for (const candidate of ['origin/main', 'main']) {
    try {
      return git('merge-base', 'HEAD', candidate);
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

function baseSupergraph(): { label: string; sdl: string } | undefined {
  if (args['base-file']) return { label: args['base-file'], sdl: readFileSync(args['base-file'], 'utf8') };
  return baseFile(resolve(args.supergraph!));
}

/** A file as the base branch has it; undefined when the base does not have it (yet). */
function baseFile(file: string): { label: string; sdl: string } | undefined {
  const ref = baseRef();
  if (!ref) return undefined;
  const path = relative(root, file).split('\\').join('/');
  try {
    return { label: `${ref.slice(0, 12)}:${path}`, sdl: git('show', `${ref}:${path}`) };
  } catch {
    return undefined; // the base has no supergraph yet: nothing to break
  }
}

const base = baseSupergraph();
if (!base) process.stdout.write('schema check: no base supergraph found, skipping the breaking-change comparison\n');
const contracts = { path: args.contracts!, baseOf: (output: string) => baseFile(resolve(dirname(args.contracts!), output)) };
const report = checkSchemas({ configPath: args.config!, supergraphPath: args.supergraph!, base, accepted: readAcceptedChanges(args.accepted!), contracts });
for (const note of report.notes) process.stdout.write(`${note}\n`);
if (!report.ok) {
  process.stderr.write(`schema check FAILED\n${report.problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('schema check passed: subgraphs compose, the committed supergraph is current, no breaking changes beyond the accepted ones\n');
