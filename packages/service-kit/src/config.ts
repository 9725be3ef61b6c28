import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Raised when a service's configuration is invalid; the message names every offending key. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Maps an environment variable to the dotted config key it overrides, e.g. PORT -> server.port. */
export type EnvBindings = Record<string, string>;

export interface LoadConfigOptions {
  /** Path of a JSON config file; CONFIG_FILE in the environment when omitted. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  bindings?: EnvBindings;
  /** Values layered over file and env, used by tests and the all-in-one launcher. */
  overrides?: Record<string, unknown>;
}

/**
 * Loads one service's config: schema defaults, then the JSON file, then environment variables, then
 * explicit overrides. Validation failures throw a ConfigError that names each key (file or env var).
 */
export function loadConfig<S extends z.ZodTypeAny>(schema: S, options: LoadConfigOptions = {}): z.infer<S> {
  const env = options.env ?? process.env;
  const file = options.file ?? env.CONFIG_FILE;
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`CONFIG_FILE: cannot read ${file}: ${(err as Error).message}`]);
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError([`CONFIG_FILE: ${file} is not valid JSON: ${(err as Error).message}`]);
    }
  }
  const fromEnv: Record<string, string> = {};
  for (const [name, key] of Object.entries(options.bindings ?? {})) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      setPath(raw, key, value);
      fromEnv[key] = name;
    }
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(raw, key, value);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = issue.path.join('.') || '(root)';
        const source = fromEnv[key] ? ` (from env ${fromEnv[key]})` : '';
        return `${key}${source}: ${issue.message}`;
      }),
    );
  }
  return parsed.data;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/** Env vars arrive as strings: accept "true"/"false" as well as JSON booleans. */
export const booleanFromEnv = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
]);

export const port = z.coerce.number().int().min(0).max(65535);

export const logLevel = z.enum(['debug', 'info', 'warn', 'error', 'silent']);
