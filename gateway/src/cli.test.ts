import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';
import { runCli } from './cli';

const EXAMPLE = join(__dirname, '..', 'switchyard.example.yaml');

/** Runs the CLI in-process with captured output; only `config` commands, so nothing is started. */
function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { code, stdout, stderr };
}

function configFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'cli-')), 'gateway.yaml');
  writeFileSync(path, content);
  return path;
}

describe('switchyard config validate', () => {
  it('prints ok and exits 0 for a valid file', () => {
    expect(run(['config', 'validate', EXAMPLE])).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
  });

  it('prints each bad key and exits 1', () => {
    const file = configFile('supergraph:\n  listen: 127.0.0.1:99999\ncors:\n  policies:\n    - origins: [https://a.example]\n      orign: x\nlimits:\n  max_depth: 0\n');
    expect(run(['config', 'validate', file])).toEqual({
      code: 1,
      stdout: '',
      stderr: [
        `supergraph.listen (from file ${file}): port must be an integer from 0 to 65535, got "99999"`,
        `cors.policies.0.orign (from file ${file}): unknown key`,
        `limits.max_depth (from file ${file}): Number must be greater than or equal to 1`,
        '',
      ].join('\n'),
    });
  });

  it('validates as the gateway would start: ${env.X} references need their variables', () => {
    const file = configFile('supergraph:\n  listen: 0.0.0.0:${env.GATEWAY_PORT}\n');
    expect(run(['config', 'validate', file], {})).toEqual({
      code: 1,
      stdout: '',
      stderr: `supergraph.listen (from file ${file}): \${env.GATEWAY_PORT} is not set and has no default (write \${env.GATEWAY_PORT:-default})\n`,
    });
    expect(run(['config', 'validate', file], { GATEWAY_PORT: '8080' }).code).toBe(0);
  });

  it('exits 1 for a file it cannot read', () => {
    const result = run(['config', 'validate', '/nonexistent/gateway.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^file \/nonexistent\/gateway\.yaml: cannot read: ENOENT/);
  });
});

describe('switchyard config schema', () => {
  const result = run(['config', 'schema']);
  const schema = JSON.parse(result.stdout);
  const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);

  it('prints a draft-07 JSON Schema that refuses unknown top-level keys', () => {
    expect(result.code).toBe(0);
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual([
      'supergraph',
      'sandbox',
      'graphiql',
      'cors',
      'csrf',
      'limits',
      'demand_control',
      'rate_limit',
      'persisted_queries',
      'apq',
      'server',
      'traffic_shaping',
      'include_subgraph_errors',
      'headers',
      'cache_control',
      'response_cache',
      'entity_cache',
      'subgraph_identity',
      'override_subgraph_url',
      'contracts',
      'authentication',
      'authorization',
      'health_check',
      'telemetry',
    ]);
  });

  it('describes the file side: the example file passes it, durations and sizes as written', () => {
    expect(validate(parseYaml(readFileSync(EXAMPLE, 'utf8')))).toBe(true);
    expect(schema.properties.server.properties.http.properties.header_read_timeout.default).toBe('10s');
    expect(schema.properties.limits.properties.http_max_request_bytes.default).toBe('1MiB');
  });

  it('lets an editor flag a misspelt key deep in the file', () => {
    expect(validate({ cors: { policies: [{ origins: ['https://a.example'], orign: 'x' }] } })).toBe(false);
    expect(validate.errors!.map((e) => [e.instancePath, e.keyword, e.params])).toEqual([['/cors/policies/0', 'additionalProperties', { additionalProperty: 'orign' }]]);
  });
});

describe('switchyard usage', () => {
  it('--help prints the usage and exits 0', () => {
    const result = run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage:\n {2}switchyard \[--config FILE\] \[--supergraph FILE\] {3}start the gateway\n/);
    expect(result.stderr).toBe('');
  });

  it.each([
    [['serve'], 'switchyard: unknown command "serve"'],
    [['config', 'lint', 'x.yaml'], 'switchyard: unknown command "config lint x.yaml"'],
    [['config', 'validate'], 'switchyard: unknown command "config validate"'],
    [['config', 'validate', 'a.yaml', '--config', 'b.yaml'], 'switchyard: --config and --supergraph are for starting the gateway'],
    [['--port', '4000'], "switchyard: Unknown option '--port'"],
    [['--config'], "switchyard: Option '-c, --config <value>' argument missing"],
  ])('%j is a usage error: exit 2 with the usage on stderr', (argv, message) => {
    const result = run(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toMatch(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(result.stderr).toContain('\n\nUsage:\n');
  });
});
