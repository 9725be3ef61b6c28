import './instrument';
import { parseArgs } from 'node:util';
import { ConfigError, runMain } from '@switchyard/service-kit';
import { gatewayConfigSchema, loadGatewayConfig } from './config';

const USAGE = `Usage:
  switchyard [--config FILE] [--supergraph FILE]   start the gateway
  switchyard config schema                         print the config file's JSON Schema
  switchyard config validate FILE                  check a config file: prints ok, or each bad key
  switchyard --help                                print this

Options:
  -c, --config FILE      YAML or JSON config file (default: env CONFIG_FILE)
  -s, --supergraph FILE  composed supergraph schema (default: supergraph.schema_path)

Environment variables override the file's keys (PORT, HOST, SUPERGRAPH_PATH, SUBGRAPH_<NAME>_URL,
JWT_ISSUER, JWT_AUDIENCE, JWT_JWKS_URL, CORS_ORIGINS, LOG_LEVEL, ...): see docs/configuration.md.
`;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

/** The config file's JSON Schema, input side (what a file may say), for editors' completion and checks. */
export function configJsonSchema(): Record<string, unknown> {
  // Required here, not at the top, so the running gateway never loads it (resident memory is benchmarked).
  const { zodToJsonSchema } = require('zod-to-json-schema') as typeof import('zod-to-json-schema');
  return {
    title: 'Switchyard gateway configuration',
    ...zodToJsonSchema(gatewayConfigSchema, { $refStrategy: 'none', effectStrategy: 'input', pipeStrategy: 'input', applyRegexFlags: true }),
  };
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`switchyard: ${message}\n\n${USAGE}`);
  return 2;
}

/**
 * Runs one invocation and returns its exit code (2 for a usage error), or null when it started the
 * gateway, which then runs until SIGINT or SIGTERM.
 */
export function runCli(argv: string[], io: CliIo = processIo): number | null {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    return usageError(io, (err as Error).message);
  }
  const { values, positionals } = args;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    runMain('gateway', async () => {
      // Loaded only to start, so `config schema` and `config validate` need not load Apollo Gateway.
      const { startGateway } = require('./main') as typeof import('./main');
      const { startGatewayTracing } = require('./plugins/tracing/tracing') as typeof import('./plugins/tracing/tracing');
      const config = loadGatewayConfig({ file: values.config, supergraph: values.supergraph, env: io.env });
      startGatewayTracing(config.telemetry.exporters.tracing, io.env);
      return startGateway(config);
    });
    return null;
  }
  const [command, subcommand, ...rest] = positionals;
  if (command !== 'config') return usageError(io, `unknown command "${command}"`);
  if (values.config !== undefined || values.supergraph !== undefined) return usageError(io, '--config and --supergraph are for starting the gateway');
  if (subcommand === 'schema' && rest.length === 0) {
    io.stdout(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    return 0;
  }
  if (subcommand === 'validate' && rest.length === 1) {
    try {
      // As the gateway would start here: ${env.X} expansions and env overrides apply.
      loadGatewayConfig({ file: rest[0], env: io.env });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const issue of err.issues) io.stderr(`${issue}\n`);
      return 1;
    }
    io.stdout('ok\n');
    return 0;
  }
  return usageError(io, `unknown command "${positionals.join(' ')}"`);
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      supergraph: { type: 'string', short: 's' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Entry point of the `switchyard` bin (gateway/bin/switchyard.js). */
export function main(): void {
  const code = runCli(process.argv.slice(2));
  if (code !== null) process.exitCode = code;
}
