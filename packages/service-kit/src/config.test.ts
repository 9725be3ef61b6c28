import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, booleanFromEnv, byteSize, commaList, duration, httpUrl, loadConfig, port } from './config';

const schema = z
  .object({
    server: z.object({ port: port.default(4000), host: z.string().default('127.0.0.1') }).strict().default({}),
    seed: booleanFromEnv.default(true),
    upstream: z.object({ url: httpUrl }).strict().optional(),
    peers: z.array(z.object({ name: z.string(), tags: commaList(z.array(z.string())).default([]) }).strict()).default([]),
  })
  .strict();
const bindings = { PORT: 'server.port', SEED: 'seed', UPSTREAM_URL: 'upstream.url', PEER_TAGS: 'peers.0.tags' };

function configFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'config-')), name);
  writeFileSync(path, content);
  return path;
}

/** The issues a load refuses with, or the parsed config when it succeeds. */
function issuesOf(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('layers defaults, then the file, then env, then explicit overrides', () => {
    const file = configFile('service.json', JSON.stringify({ server: { port: 5000, host: '0.0.0.0' }, seed: false }));
    expect(loadConfig(schema, { env: { CONFIG_FILE: file }, bindings })).toEqual({ server: { port: 5000, host: '0.0.0.0' }, seed: false, peers: [] });
    expect(loadConfig(schema, { env: { CONFIG_FILE: file, PORT: '6000', SEED: 'true' }, bindings })).toEqual({
      server: { port: 6000, host: '0.0.0.0' },
      seed: true,
      peers: [],
    });
    expect(loadConfig(schema, { env: { PORT: '6000' }, bindings, overrides: { 'server.port': 7000 } }).server.port).toBe(7000);
    expect(loadConfig(schema, { env: {}, bindings })).toEqual({ server: { port: 4000, host: '127.0.0.1' }, seed: true, peers: [] });
  });

  it('reads a YAML file, and an explicit file wins over CONFIG_FILE', () => {
    const yaml = configFile('service.yaml', 'server:\n  port: 5001 # comment\nseed: false\n');
    const json = configFile('service.json', '{"server": {"port": 5002}}');
    expect(loadConfig(schema, { file: yaml, env: { CONFIG_FILE: json }, bindings })).toEqual({
      server: { port: 5001, host: '127.0.0.1' },
      seed: false,
      peers: [],
    });
  });

  it('reads JSON in a .yaml file too, since YAML 1.2 contains JSON', () => {
    const file = configFile('service.yml', '{"server": {"host": "::1"}}');
    expect(loadConfig(schema, { file, env: {}, bindings }).server.host).toBe('::1');
  });

  it('treats an empty file as no settings', () => {
    expect(loadConfig(schema, { file: configFile('empty.yaml', ''), env: {}, bindings }).server.port).toBe(4000);
  });

  it('expands ${env.NAME} and ${env.NAME:-default} inside the file strings', () => {
    const file = configFile(
      'service.yaml',
      ['server:', '  host: "${env.BIND_HOST}"', '  port: ${env.BIND_PORT:-4100}', 'upstream:', '  url: http://${env.UP_HOST:-localhost}:${env.UP_PORT}/graphql'].join('\n'),
    );
    expect(loadConfig(schema, { file, env: { BIND_HOST: '0.0.0.0', UP_PORT: '9000' }, bindings })).toEqual({
      server: { host: '0.0.0.0', port: 4100 },
      seed: true,
      upstream: { url: 'http://localhost:9000/graphql' },
      peers: [],
    });
    // An empty variable takes the default, as in the shell.
    expect(loadConfig(schema, { file, env: { BIND_HOST: 'h', BIND_PORT: '', UP_PORT: '1' }, bindings }).server.port).toBe(4100);
    expect(loadConfig(schema, { file, env: { BIND_HOST: 'h', BIND_PORT: '4200', UP_PORT: '1' }, bindings }).server.port).toBe(4200);
  });

  it('refuses a reference to an unset variable without a default, naming the key and the variable', () => {
    const file = configFile('service.yaml', 'upstream:\n  url: ${env.UPSTREAM}\nserver:\n  host: ${env.HOST_NAME\n');
    expect(issuesOf(() => loadConfig(schema, { file, env: {}, bindings }))).toEqual([
      `upstream.url (from file ${file}): \${env.UPSTREAM} is not set and has no default (write \${env.UPSTREAM:-default})`,
      `server.host (from file ${file}): malformed \${env.NAME} reference`,
    ]);
  });

  it('names the variable an expanded value that fails validation came from', () => {
    const file = configFile('service.yaml', 'server:\n  port: ${env.BIND_PORT}\n');
    expect(issuesOf(() => loadConfig(schema, { file, env: { BIND_PORT: 'eighty' }, bindings }))).toEqual([
      `server.port (from \${env.BIND_PORT} in file ${file}): Expected number, received string`,
    ]);
  });

  it('names the key and the env var a bad value came from', () => {
    expect(issuesOf(() => loadConfig(schema, { env: { PORT: 'http' }, bindings }))).toEqual(['server.port (from env PORT): Expected number, received string']);
    expect(issuesOf(() => loadConfig(schema, { env: { PORT: '70000' }, bindings }))).toEqual([
      'server.port (from env PORT): Number must be less than or equal to 65535',
    ]);
    expect(issuesOf(() => loadConfig(schema, { env: { SEED: 'maybe' }, bindings }))).toEqual(['seed (from env SEED): Expected boolean, received string']);
    expect(issuesOf(() => loadConfig(schema, { env: { SEED: 'toString' }, bindings }))).toEqual(['seed (from env SEED): Expected boolean, received string']);
    expect(issuesOf(() => loadConfig(schema, { env: { UPSTREAM_URL: 'ftp://files.example' }, bindings }))).toEqual([
      'upstream.url (from env UPSTREAM_URL): must be an absolute http: or https: URL',
    ]);
  });

  it('refuses unknown keys, naming the full dotted key and the file', () => {
    const file = configFile('service.yaml', 'server:\n  prot: 4000\npeers:\n  - name: a\n  - name: b\n    tgas: [x]\nextra: 1\n');
    expect(issuesOf(() => loadConfig(schema, { file, env: {}, bindings }))).toEqual([
      `server.prot (from file ${file}): unknown key`,
      `peers.1.tgas (from file ${file}): unknown key`,
      `extra (from file ${file}): unknown key`,
    ]);
  });

  it('names an unknown override key as coming from the overrides', () => {
    expect(issuesOf(() => loadConfig(schema, { env: {}, bindings, overrides: { 'server.hots': 'x' } }))).toEqual(['server.hots (from overrides): unknown key']);
  });

  it('an env var sets one item of a list, creating the list when the file has none', () => {
    expect(loadConfig(schema, { env: { PEER_TAGS: 'a, b' }, bindings, overrides: { 'peers.0.name': 'p' } }).peers).toEqual([{ name: 'p', tags: ['a', 'b'] }]);
    const file = configFile('service.yaml', 'peers:\n  - name: first\n  - name: second\n');
    expect(loadConfig(schema, { file, env: { PEER_TAGS: 'x' }, bindings }).peers).toEqual([
      { name: 'first', tags: ['x'] },
      { name: 'second', tags: [] },
    ]);
  });

  it('says which env var can supply a missing key', () => {
    expect(issuesOf(() => loadConfig(schema, { env: {}, bindings, overrides: { upstream: {} } }))).toEqual([
      'upstream.url (from overrides): required (set it in the file or with env UPSTREAM_URL)',
    ]);
  });

  it('a binding function turns the text into settings, or refuses it with a message', () => {
    const listen = {
      LISTEN: (text: string, current: (key: string) => unknown) => {
        if (!/^\d+$/.test(text)) throw new Error(`must be a port, got "${text}"`);
        return { 'server.port': text, 'server.host': current('server.host') ?? '0.0.0.0' };
      },
    };
    expect(loadConfig(schema, { env: { LISTEN: '81' }, bindings: listen }).server).toEqual({ port: 81, host: '0.0.0.0' });
    expect(issuesOf(() => loadConfig(schema, { env: { LISTEN: 'x' }, bindings: listen }))).toEqual(['env LISTEN: must be a port, got "x"']);
  });

  it('keeps a "__proto__" key (say, from an env var name) as data instead of writing to Object.prototype', () => {
    const open = z.object({ subgraphs: z.record(z.unknown()).default({}) }).strict();
    loadConfig(open, { env: { NAME: 'x' }, bindings: { NAME: 'subgraphs.__proto__.polluted' } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('says which file is unreadable or not parseable', () => {
    expect(issuesOf(() => loadConfig(schema, { env: { CONFIG_FILE: '/nope/service.json' }, bindings }))[0]).toMatch(
      /^file \/nope\/service\.json \(named by env CONFIG_FILE\): cannot read: ENOENT/,
    );
    const json = configFile('broken.json', '{ "server": ');
    expect(issuesOf(() => loadConfig(schema, { file: json, env: {}, bindings }))[0]).toMatch(new RegExp(`^file ${json}: not valid JSON: `));
    const yaml = configFile('broken.yaml', 'server:\n  port: 1\n  port: 2\n');
    expect(issuesOf(() => loadConfig(schema, { file: yaml, env: {}, bindings }))[0]).toMatch(new RegExp(`^file ${yaml}: not valid YAML: Map keys must be unique at line 3`));
    const list = configFile('list.yaml', '- a\n- b\n');
    expect(issuesOf(() => loadConfig(schema, { file: list, env: {}, bindings }))).toEqual([`file ${list}: must be a mapping of keys to values`]);
  });
});

describe('duration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['0s', 0],
    ['2500', 2500],
    [2500, 2500],
  ])('parses %p to %p ms', (input, ms) => {
    expect(duration.parse(input)).toBe(ms);
  });

  it.each([
    ['10 s', 'must be a duration such as "500ms", "10s", "2m" or "1h"'],
    ['1.5s', 'must be a duration such as "500ms", "10s", "2m" or "1h"'],
    ['10d', 'must be a duration such as "500ms", "10s", "2m" or "1h"'],
    [-1, 'Number must be greater than or equal to 0'],
    [1.5, 'Expected integer, received float'],
    [true, 'must be a duration such as "500ms", "10s", "2m" or "1h", or an integer of milliseconds'],
    ['600h', "must be at most 2147483647 ms (about 24.8 days), Node's longest timer"],
  ])('refuses %p: %s', (input, message) => {
    const result = duration.safeParse(input);
    expect(result.success ? [] : result.error.issues.map((i) => i.message)).toEqual([message]);
  });
});

describe('byteSize', () => {
  it.each([
    ['1MiB', 1_048_576],
    ['400KiB', 409_600],
    ['16kib', 16_384],
    ['1MB', 1_000_000],
    ['2 GB', 2_000_000_000],
    ['1.5KiB', 1536],
    ['512B', 512],
    ['512', 512],
    [4096, 4096],
  ])('parses %p to %p bytes', (input, bytes) => {
    expect(byteSize.parse(input)).toBe(bytes);
  });

  it.each([
    ['1 MiBs', 'must be a size such as "16KiB", "1MiB" or "1MB"'],
    ['1TB', 'must be a size such as "16KiB", "1MiB" or "1MB"'],
    [-5, 'Number must be greater than or equal to 0'],
    [null, 'must be a size such as "16KiB", "1MiB" or "1MB", or an integer of bytes'],
    ['99999999999GiB', 'is too large'],
  ])('refuses %p: %s', (input, message) => {
    const result = byteSize.safeParse(input);
    expect(result.success ? [] : result.error.issues.map((i) => i.message)).toEqual([message]);
  });
});
