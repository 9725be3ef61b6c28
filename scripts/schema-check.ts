/**
 * npm run schema:check: fails (exit 1) with a readable report when
 *   1. the subgraphs in supergraph.yaml do not compose,
 *   2. the committed gateway/supergraph.graphql is not what they compose to (run `npm run compose`), or
 *   3. the composed API breaks existing clients compared with the supergraph on the base branch.
 * Options: --config <supergraph.yaml> --supergraph <committed file> --base <git ref> | --base-file <file>.
 * The base ref defaults to $SCHEMA_CHECK_BASE, else the merge-base with origin/main or main.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { composeSupergraph, findClientBreakingChanges, readSupergraphConfig } from './schema/supergraph';

const root = resolve(__dirname, '..');
const { values: args } = parseArgs({
  options: {
    config: { type: 'string', default: resolve(root, 'supergraph.yaml') },
    supergraph: { type: 'string', default: resolve(root, 'gateway/supergraph.graphql') },
    base: { type: 'string' },
    'base-file': { type: 'string' },
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
  const ref = baseRef();
  if (!ref) return undefined;
  const path = relative(root, resolve(args.supergraph!)).split('\\').join('/');
  try {
    return { label: `${ref.slice(0, 12)}:${path}`, sdl: git('show', `${ref}:${path}`) };
  } catch {
    return undefined; // the base has no supergraph yet: nothing to break
  }
}

const problems: string[] = [];
const outcome = composeSupergraph(readSupergraphConfig(args.config!));
if (!outcome.ok) {
  problems.push(`Composition failed (${outcome.errors.length} error${outcome.errors.length > 1 ? 's' : ''}):`);
  problems.push(...outcome.errors.map((e) => `  - ${e}`));
} else {
  const committed = existsSync(args.supergraph!) ? readFileSync(args.supergraph!, 'utf8') : '';
  if (committed !== outcome.supergraphSdl) {
    problems.push(`${relative(root, args.supergraph!)} is stale: it is not what the subgraph schemas compose to. Run \`npm run compose\` and commit it.`);
  }
  const base = baseSupergraph();
  if (base) {
    const breaking = findClientBreakingChanges(base.sdl, outcome.supergraphSdl);
    if (breaking.length) {
      problems.push(`${breaking.length} change${breaking.length > 1 ? 's' : ''} would break existing clients (against ${base.label}):`);
      for (const change of breaking) {
        const owner = change.subgraphs.length ? `subgraph ${change.subgraphs.join(', ')}` : 'supergraph';
        problems.push(`  - [${owner}] ${change.coordinate}: ${change.description}`);
      }
    }
  } else {
    process.stdout.write('schema check: no base supergraph found, skipping the breaking-change comparison\n');
  }
}

if (problems.length) {
  process.stderr.write(`schema check FAILED\n${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('schema check passed: subgraphs compose, the committed supergraph is current, no breaking changes\n');
