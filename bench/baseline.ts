import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A runnable copy of an earlier commit, for side-by-side benchmarks: its files from `git archive`, and
 * a node_modules that links to this checkout's packages except our own workspaces, which link to the
 * copy's (so the old gateway runs on the old service-kit). Kept in the temp folder, made once per commit.
 */
export function prepareBaseline(root: string, ref: string): { dir: string; commit: string } {
  const commit = execFileSync('git', ['rev-parse', '--short', ref], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(tmpdir(), `switchyard-baseline-${commit}`);
  if (existsSync(join(dir, 'node_modules'))) return { dir, commit };
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C "${dir}"`], { cwd: root });
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@switchyard'), { recursive: true });
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry !== '@switchyard') symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
  }
  const workspaces: Record<string, string> = {
    'service-kit': 'packages/service-kit',
    gateway: 'gateway',
    'subgraph-users': 'subgraphs/users',
    'subgraph-products': 'subgraphs/products',
    'subgraph-orders': 'subgraphs/orders',
  };
  for (const [name, path] of Object.entries(workspaces)) {
    if (existsSync(join(dir, path))) symlinkSync(join(dir, path), join(modules, '@switchyard', name));
  }
  return { dir, commit };
}
