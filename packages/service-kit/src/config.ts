import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Raised when a service's configuration is invalid; the message names every offending key and its source. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * How one environment variable sets config: the dotted key that takes its text, or a function that
 * turns the text (and the value the lower layers left, read by dotted key) into dotted settings.
 * A function may throw to refuse the text; its message is reported against the variable.
 */
export type EnvBinding = string | ((text: string, current: (key: string) => unknown) => Record<string, unknown>);
export type EnvBindings = Record<string, EnvBinding>;

export interface LoadConfigOptions {
  /** A YAML file (JSON when it ends in .json); CONFIG_FILE in the environment when omitted. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  bindings?: EnvBindings;
  /** Dotted keys layered over file and env, used by tests, the CLI and the all-in-one launcher. */
  overrides?: Record<string, unknown>;
}

type Tree = Record<string, unknown>;

/**
 * Loads one service's config: schema defaults, then the file (with `${env.NAME}` and
 * `${env.NAME:-default}` expanded in its strings), then environment variables, then explicit
 * overrides. Any problem throws a ConfigError naming each key and where its value came from.
 */
export function loadConfig<S extends z.ZodTypeAny>(schema: S, options: LoadConfigOptions = {}): z.infer<S> {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.CONFIG_FILE || undefined);
  const fileLabel = file && `file ${file}`;
  // Which layer set each dotted key; a key with no entry got its value from the file or a default.
  const sources = new Map<string, string>();
  const issues: string[] = [];

  const fromFile = file ? readConfigFile(file, options.file ? fileLabel! : `${fileLabel} (named by env CONFIG_FILE)`) : {};
  const expansion = expandEnvReferences(fromFile, env);
  const raw = expansion.tree;
  for (const { path, message } of expansion.problems) issues.push(`${dotted(path)} (from ${fileLabel}): ${message}`);
  for (const { path, names } of expansion.expanded) sources.set(dotted(path), `${names.map((n) => `\${env.${n}}`).join(', ')} in ${fileLabel}`);
  if (issues.length) throw new ConfigError(issues);

  const layer = (key: string, value: unknown, source: string) => {
    for (const known of [...sources.keys()]) if (known === key || known.startsWith(`${key}.`)) sources.delete(known);
    setPath(raw, key, value);
    sources.set(key, source);
  };
  for (const [name, binding] of Object.entries(options.bindings ?? {})) {
    const text = env[name];
    if (text === undefined || text === '') continue;
    if (typeof binding === 'string') {
      layer(binding, text, `env ${name}`);
      continue;
    }
    try {
      for (const [key, value] of Object.entries(binding(text, (key) => getPath(raw, key)))) layer(key, value, `env ${name}`);
    } catch (err) {
      issues.push(`env ${name}: ${(err as Error).message}`);
    }
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) layer(key, value, 'overrides');
  }

  // A refused env var set nothing, so validating the rest still reports every other problem at once.
  const parsed = schema.safeParse(raw);
  if (parsed.success && !issues.length) return parsed.data;
  if (parsed.success) throw new ConfigError(issues);

  const sourceOf = (path: Path): string | undefined => {
    for (let length = path.length; length > 0; length--) {
      const source = sources.get(dotted(path.slice(0, length)));
      if (source) return source;
    }
    return path.length && fileLabel && getPath(fromFile, String(path[0])) !== undefined ? fileLabel : undefined;
  };
  const describe = (path: Path, message: string) => {
    const source = sourceOf(path);
    return `${dotted(path) || '(root)'}${source ? ` (from ${source})` : ''}: ${message}`;
  };
  const envNamesFor = (key: string) => Object.entries(options.bindings ?? {}).filter(([, b]) => b === key).map(([name]) => name);
  throw new ConfigError([
    ...issues,
    ...parsed.error.issues.flatMap((issue) => {
      if (issue.code === z.ZodIssueCode.unrecognized_keys) return issue.keys.map((key) => describe([...issue.path, key], 'unknown key'));
      if (issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined') {
        const names = envNamesFor(dotted(issue.path));
        return [describe(issue.path, names.length ? `required (set it in the file or with env ${names.join(' or ')})` : 'required')];
      }
      return [describe(issue.path, issue.message)];
    }),
  ]);
}

function readConfigFile(file: string, label: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${label}: cannot read: ${(err as Error).message}`]);
  }
  let parsed: unknown;
  try {
    // YAML 1.2 is a superset of JSON; JSON.parse for .json files gives JSON's own error messages.
    parsed = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError([`${label}: not valid ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError([`${label}: must be a mapping of keys to values`]);
  return parsed as Tree;
}

const ENV_REFERENCE = /\$\{env\.([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

type Path = (string | number)[];

/**
 * Expands Router's `${env.NAME}` and `${env.NAME:-default}` in every string of a copy of the tree;
 * `:-` takes the default when the variable is unset or empty, as in the shell.
 */
function expandEnvReferences(tree: Tree, env: NodeJS.ProcessEnv) {
  const problems: { path: Path; message: string }[] = [];
  const expanded: { path: Path; names: string[] }[] = [];
  const expand = (value: unknown, path: Path): unknown => {
    if (Array.isArray(value)) return value.map((item, i) => expand(item, [...path, i]));
    if (typeof value === 'object' && value !== null) {
      const copy: Tree = {};
      for (const [key, item] of Object.entries(value)) define(copy, key, expand(item, [...path, key]));
      return copy;
    }
    if (typeof value !== 'string' || !value.includes('${env.')) return value;
    const names: string[] = [];
    const result = value.replace(ENV_REFERENCE, (_match, name: string, fallback: string | undefined) => {
      names.push(name);
      const set = env[name];
      if (fallback !== undefined) return set === undefined || set === '' ? fallback : set;
      if (set === undefined) problems.push({ path, message: `\${env.${name}} is not set and has no default (write \${env.${name}:-default})` });
      return set ?? '';
    });
    if (value.replace(ENV_REFERENCE, '').includes('${env.')) problems.push({ path, message: 'malformed ${env.NAME} reference' });
    if (names.length) expanded.push({ path, names });
    return result;
  };
  return { tree: expand(tree, []) as Tree, problems, expanded };
}

function dotted(path: Path): string {
  return path.join('.');
}

function getPath(tree: unknown, key: string): unknown {
  let node = tree;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined;
    node = (node as Tree)[part];
  }
  return node;
}

/** Sets a dotted key, creating objects (or arrays, for numeric parts) on the way. */
function setPath(tree: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree;
  parts.slice(0, -1).forEach((part, i) => {
    let next = Object.hasOwn(node, part) ? node[part] : undefined;
    if (typeof next !== 'object' || next === null) {
      next = /^\d+$/.test(parts[i + 1]!) ? [] : {};
      define(node, part, next);
    }
    node = next as Tree;
  });
  define(node, parts[parts.length - 1]!, value);
}

/** Own-property assignment, so a key such as "__proto__" (from an env var name) is data, not a prototype. */
function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Env vars and `${env.X}` expansions arrive as text; these helpers also take the text of their values. */
const booleanText: Record<string, boolean> = { true: true, false: false, '1': true, '0': false };

export const booleanFromEnv = z.preprocess((v) => (typeof v === 'string' && Object.hasOwn(booleanText, v) ? booleanText[v] : v), z.boolean());

/** An integer, or its decimal text. */
export function integer(range: { min?: number; max?: number } = {}) {
  let schema = z.number().int();
  if (range.min !== undefined) schema = schema.min(range.min);
  if (range.max !== undefined) schema = schema.max(range.max);
  return z.preprocess((v) => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v), schema);
}

export const port = integer({ min: 0, max: 65535 });

export const logLevel = z.enum(['debug', 'info', 'warn', 'error', 'silent']);

/** A list that also takes comma-separated text, the way env vars (and expansions) carry lists. */
export function commaList<T extends z.ZodArray<z.ZodTypeAny>>(list: T) {
  return z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), list);
}

/** An absolute http: or https: URL: the only kinds the services' HTTP clients can call. */
export const httpUrl = z.string().refine((text) => {
  try {
    return /^https?:$/.test(new URL(text).protocol);
  } catch {
    return false;
  }
}, 'must be an absolute http: or https: URL');

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
/** setTimeout treats anything longer as 1 ms, so a longer duration would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Router-style durations ("500ms", "10s", "2m", "1h", "1m30s") or an integer of milliseconds; parses to ms. */
export const duration = z
  .union([z.number().int().nonnegative(), z.string().regex(/^(?:\d+(?:ms|s|m|h))+$|^\d+$/, 'must be a duration such as "500ms", "10s", "2m" or "1h"')], {
    errorMap: () => ({ message: 'must be a duration such as "500ms", "10s", "2m" or "1h", or an integer of milliseconds' }),
  })
  .transform((value, ctx) => {
    const ms =
      typeof value === 'number' || /^\d+$/.test(value)
        ? Number(value)
        : [...value.matchAll(/(\d+)(ms|s|m|h)/g)].reduce((sum, [, n, unit]) => sum + Number(n) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS], 0);
    if (ms > MAX_TIMER_MS) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be at most ${MAX_TIMER_MS} ms (about 24.8 days), Node's longest timer` });
      return z.NEVER;
    }
    return ms;
  });

const BYTE_UNITS = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 } as const;
const BYTE_SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?$/i;

/** Byte sizes: an integer, or a number with a unit ("400KiB", "1MiB", "1MB"; KB/MB/GB are powers of 1000). */
export const byteSize = z
  .union([z.number().int().nonnegative(), z.string().regex(BYTE_SIZE, 'must be a size such as "16KiB", "1MiB" or "1MB"')], {
    errorMap: () => ({ message: 'must be a size such as "16KiB", "1MiB" or "1MB", or an integer of bytes' }),
  })
  .transform((value, ctx) => {
    if (typeof value === 'number') return value;
    const [, amount, unit = 'b'] = BYTE_SIZE.exec(value)!;
    const bytes = Math.floor(Number(amount) * BYTE_UNITS[unit.toLowerCase() as keyof typeof BYTE_UNITS]);
    if (!Number.isSafeInteger(bytes)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'is too large' });
      return z.NEVER;
    }
    return bytes;
  });
