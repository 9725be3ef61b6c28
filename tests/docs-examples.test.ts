import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readContracts } from '@switchyard/schema-tools';
import { loadGatewayConfig } from '../gateway/src/config';

/** The gateway config examples the docs show a reader, each as the reader would save it. */
const DOCUMENTS = ['README.md', 'docs/configuration.md', 'docs/api-versions.md'];
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
