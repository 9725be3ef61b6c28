/**
 * The operator scripts are shellcheck-clean and read their expectations from
 * the shared access table rather than hard-coding them.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describeIfTool, repoRoot } from './helpers';

const scripts = ['mesh/verify.sh', 'k8s/scripts/sync-terraform-outputs.sh'];

describeIfTool('shellcheck', ['--version'])('operator scripts', () => {
  it.each(scripts)('%s passes shellcheck', (script) => {
    const result = spawnSync('shellcheck', [path.join(repoRoot, script)], { encoding: 'utf8' });
    expect({ status: result.status, findings: result.stdout }).toEqual({ status: 0, findings: '' });
  });
});

describe('mesh/verify.sh', () => {
  const text = readFileSync(path.join(repoRoot, 'mesh/verify.sh'), 'utf8');

  it('derives its expectations from mesh/intended-access.json', () => {
    expect(text).toContain('intended-access.json');
    expect(text).toMatch(/jq .*\.allow\[\]/s);
    expect(text).not.toMatch(/sa\/(gateway|orders|users|products)\b/);
  });

  it('checks plaintext refusal, RBAC denial, real identities and a cross-service trace', () => {
    for (const marker of ['no-sidecar', 'RBAC: access denied', 'deploy/${caller}', 'traceparent', '/api/traces/']) {
      expect(text).toContain(marker);
    }
    expect(text).toMatch(/exit 1/);
  });
});
