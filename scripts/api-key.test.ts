import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { hashApiKey } from '../gateway/src/plugins/identity/api-keys';
import { apiKeyEntries } from '../gateway/src/plugins/identity/config';

const repoRoot = join(__dirname, '..');
const run = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--conditions=source', join(repoRoot, 'scripts/api-key.ts'), ...args], { cwd: repoRoot, encoding: 'utf8' });

describe('npm run apikey', () => {
  it('prints a new key on stderr and, on stdout, the config entry holding only its SHA-256', () => {
    const result = run(['--name', 'ci', '--scope', 'products:read', '--scope', 'orders:read', '--rate-limit-class', 'machines']);
    expect(result.status).toBe(0);
    const key = result.stderr.trim().split('\n').at(-1)!;
    expect(key).toMatch(/^sy_[A-Za-z0-9_-]{43}$/);
    const entries = apiKeyEntries.parse(parseYaml(result.stdout));
    expect(entries).toEqual([{ name: 'ci', sha256: hashApiKey(key), scopes: ['products:read', 'orders:read'], rate_limit_class: 'machines' }]);
    expect(result.stdout).not.toContain(key);
  });

  it('makes a different key each time', () => {
    const keys = [run(['--name', 'a']), run(['--name', 'a'])].map((r) => r.stderr.trim().split('\n').at(-1));
    expect(keys[0]).not.toBe(keys[1]);
  });

  it('without --name exits 2 and says why', () => {
    const result = run([]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^apikey: --name is required/);
    expect(result.stdout).toBe('');
  });
});
