import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readContracts } from '@switchyard/schema-tools';
import { loadGatewayConfig } from '../gateway/src/config';
import { SCENARIOS } from '../scenarios';
import { ctrlC, freePorts, npmStart, portsEnv, type NpmStart, type Ports } from './support/npm-start';
import { npmRun, spawnCommand } from './support/processes';
import { inCI } from './support/servers';

/** The gateway config examples the docs show a reader, each as the reader would save it. */
const DOCUMENTS = ['README.md', 'docs/configuration.md', 'docs/authentication.md', 'docs/authorization.md', 'docs/admission.md', 'docs/observability.md', 'docs/platform.md', 'docs/api-versions.md'];
/** A block whose first line is this comment is a contracts.yaml, not a gateway config. */
const CONTRACTS_FILE = '# contracts.yaml';

function yamlBlocks(path: string): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```yaml') continue;
    const start = i + 1;
    while (i + 1 < lines.length && lines[i + 1]!.trim() !== '```') i++;
    blocks.push({ line: start, text: lines.slice(start, i + 1).join('\n') });
  }
  return blocks;
}

describe('every gateway config example in the docs is one switchyard config validate accepts', () => {
  const examples = DOCUMENTS.flatMap((path) => yamlBlocks(path).map((block): [string, string] => [`${path}:${block.line}`, block.text]));

  it('the docs hold examples to check', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
  });

  it.each(examples)('%s', (_where, text) => {
    const contracts = text.startsWith(CONTRACTS_FILE);
    const file = join(mkdtempSync(join(tmpdir(), 'switchyard-doc-')), contracts ? 'contracts.yaml' : 'gateway.yaml');
    writeFileSync(file, text);
    if (contracts) expect(readContracts(file).length).toBeGreaterThan(0);
    else expect(() => loadGatewayConfig({ file, env: {} })).not.toThrow();
  });
});

/** The ```sh blocks of one README section: their commands, and the output (`#> ` lines) a reader should see. */
function shellBlocks(path: string, section: string): { line: number; script: string; shows: string[] }[] {
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(`\n## ${section}\n`);
  const end = text.indexOf('\n## ', start + 1);
  const lines = text.slice(start, end === -1 ? undefined : end).split('\n');
  const offset = text.slice(0, start).split('\n').length;
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```sh') continue;
    const body: string[] = [];
    const line = offset + i + 1;
    while (i + 1 < lines.length && lines[i + 1]!.trim() !== '```') body.push(lines[++i]!);
    blocks.push({ line, script: body.filter((l) => !l.startsWith('#>')).join('\n'), shows: body.filter((l) => l.startsWith('#> ')).map((l) => l.slice(3)) });
  }
  return blocks;
}

describe('against a started platform: what README.md tells a newcomer to run', () => {
  const tryIt = shellBlocks('README.md', 'Try it');
  let ports: Ports;
  let platform: NpmStart | undefined;
  // One npm start for every command and every scenario: it is the slow part.
  beforeAll(async () => {
    ports = await freePorts();
    platform = await npmStart(ports);
  }, 200_000);
  afterAll(async () => {
    if (platform) expect(await ctrlC(platform)).toBe(0);
  });

  /** A command as a reader pastes it into a shell, with npm start's ports where the README has the defaults. */
  const shell = (script: string) =>
    spawnCommand('bash', ['-eo', 'pipefail', '-c', script.replaceAll('localhost:4000', `localhost:${ports.gateway}`)], portsEnv(ports)).exited;

  it('the Try it section has its commands', () => {
    expect(tryIt.length).toBeGreaterThanOrEqual(5);
    expect(tryIt.every((block) => block.shows.length > 0)).toBe(true);
  });

  it.each(tryIt.map((block): [string, (typeof tryIt)[number]] => [`README.md:${block.line}`, block]))('%s runs and prints what the README shows', async (_where, block) => {
    const { code, stdout, stderr } = await shell(block.script);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    // Each shown line, up to its "…", appears in the output, in order.
    let from = 0;
    for (const shown of block.shows) {
      const expected = shown.split('…')[0]!;
      const at = stdout.indexOf(expected, from);
      expect([expected, at >= 0 ? 'printed' : stdout]).toEqual([expected, 'printed']);
      from = at + expected.length;
    }
  });

  it('npm run scenarios: every check of every scenario PASSes, and it exits 0', async () => {
    const { code, stdout } = await npmRun('scenarios', portsEnv(ports)).exited;
    const verdicts = stdout.split('\n').filter((line) => /^ {3}(PASS|FAIL|SKIP)$/.test(line)).map((line) => line.trim());
    const checks = SCENARIOS.flatMap((s) => s.checks).length;
    // Without kubectl (never in CI) the two mesh checks are skipped.
    const skipped = !inCI && spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status !== 0 ? 2 : 0;
    expect({ code, verdicts: verdicts.sort() }).toEqual({ code: 0, verdicts: [...Array(checks - skipped).fill('PASS'), ...Array(skipped).fill('SKIP')] });
    expect(stdout).toContain(`\n${checks - skipped} passed, 0 failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  });

  it('npm run scenarios with no platform says so and exits 1', async () => {
    const nowhere = await freePorts();
    const { code, stdout, stderr } = await npmRun('scenarios', portsEnv(nowhere), ['rate-limit']).exited;
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toMatch(/^npm run scenarios runs against the platform npm start runs, and nothing answers for the gateway \(http:\/\/127\.0\.0\.1:\d+\/healthz\)/);
  });
});
