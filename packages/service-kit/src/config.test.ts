import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, booleanFromEnv, loadConfig, port } from './config';

const schema = z
  .object({
    server: z.object({ port: port.default(4000), host: z.string().default('127.0.0.1') }).strict().default({}),
    seed: booleanFromEnv.default(true),
  })
  .strict();
const bindings = { PORT: 'server.port', SEED: 'seed' };

function configFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'config-')), 'service.json');
  writeFileSync(path, content);
  return path;
}

describe('loadConfig', () => {
  it('layers defaults, then the file, then env, then explicit overrides', () => {
    const file = configFile(JSON.stringify({ server: { port: 5000, host: '0.0.0.0' }, seed: false }));
    expect(loadConfig(schema, { env: { CONFIG_FILE: file }, bindings })).toEqual({ server: { port: 5000, host: '0.0.0.0' }, seed: false });
    expect(loadConfig(schema, { env: { CONFIG_FILE: file, PORT: '6000', SEED: 'true' }, bindings }).server.port).toBe(6000);
    expect(loadConfig(schema, { env: { PORT: '6000' }, bindings, overrides: { 'server.port': 7000 } }).server.port).toBe(7000);
    expect(loadConfig(schema, { env: {}, bindings })).toEqual({ server: { port: 4000, host: '127.0.0.1' }, seed: true });
  });

  it('names the key and the env var a bad value came from', () => {
    expect(() => loadConfig(schema, { env: { PORT: 'http' }, bindings })).toThrow(/server\.port \(from env PORT\)/);
    expect(() => loadConfig(schema, { env: { SEED: 'maybe' }, bindings })).toThrow(/seed \(from env SEED\)/);
  });

  it('refuses unknown keys in a file, so a typo is not silently ignored', () => {
    const file = configFile(JSON.stringify({ server: { prot: 4000 } }));
    expect(() => loadConfig(schema, { env: { CONFIG_FILE: file }, bindings })).toThrow(/server: Unrecognized key\(s\) in object: 'prot'/);
  });

  it('says which file is unreadable or not JSON', () => {
    expect(() => loadConfig(schema, { env: { CONFIG_FILE: '/nope/service.json' }, bindings })).toThrow(/CONFIG_FILE: cannot read \/nope/);
    const broken = configFile('{ "server": ');
    expect(() => loadConfig(schema, { env: { CONFIG_FILE: broken }, bindings })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { env: { CONFIG_FILE: broken }, bindings })).toThrow(/is not valid JSON/);
  });
});
