import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger, Principal } from '@switchyard/service-kit';
import { parse as parseYaml } from 'yaml';
import { apiKeyEntries, type ApiKeyEntry, type AuthenticationConfig } from './config';

/** Keys are `sy_` and 43 base64url characters; anything much longer is not one of ours. */
const MAX_API_KEY_LENGTH = 256;
const RELOAD_DEBOUNCE_MS = 100;

export interface ApiKeysStatus {
  keys: number;
  file?: string;
  /** ISO 8601 time the file was last read successfully. */
  loadedAt?: string;
  /** The file's latest refused version: the keys read before it are still the ones served. */
  lastFailure?: { at: string; message: string };
}

/** A new API key: 32 random bytes, and the hex SHA-256 that goes in config. */
export function generateApiKey(): { key: string; sha256: string } {
  const key = `sy_${randomBytes(32).toString('base64url')}`;
  return { key, sha256: hashApiKey(key) };
}

/**
 * SHA-256, not a password hash: a key is 32 random bytes, so there is no dictionary to slow down, and
 * a fast hash keeps each request's lookup in microseconds.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

interface StoredKey {
  digest: Buffer;
  principal: Principal;
}

/**
 * API keys from config and, optionally, a file that is re-read when it changes (a Kubernetes Secret
 * update, an edit), so a key removed from it stops working without a restart.
 */
export class ApiKeyStore {
  private inline: StoredKey[];
  private fromFile: StoredKey[] = [];
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;
  private loadedAt?: Date;
  private lastFailure?: { at: Date; message: string };
  private lastText?: string;

  private constructor(
    private readonly config: AuthenticationConfig['api_keys'],
    private readonly rateLimitClasses: string[],
    private readonly logger: Logger,
  ) {
    this.inline = config.keys.map((entry) => stored(entry));
  }

  /** Reads the file (a broken one stops the start, naming the entry) and watches it. */
  static async create(config: AuthenticationConfig['api_keys'], rateLimitClasses: string[], logger: Logger): Promise<ApiKeyStore> {
    const store = new ApiKeyStore(config, rateLimitClasses, logger);
    if (config.file) {
      const path = resolve(config.file);
      store.fromFile = await store.readFile(path);
      store.loadedAt = new Date();
      // The directory, not the file: an editor's save-by-rename or Kubernetes' symlink swap of a Secret
      // replaces the file, which ends a watch on the file itself.
      store.watcher = watch(dirname(path), { persistent: false }, () => {
        clearTimeout(store.debounce);
        store.debounce = setTimeout(() => void store.reload(path), RELOAD_DEBOUNCE_MS);
      });
      store.watcher.on('error', (err) => {
        store.lastFailure = { at: new Date(), message: `watching ${dirname(path)} stopped: ${err.message}` };
        logger.error({ file: path, error: err.message }, 'API key file is no longer watched; restart the gateway to apply changes');
      });
    }
    return store;
  }

  get size(): number {
    return this.inline.length + this.fromFile.length;
  }

  /** The principal for a presented key, or undefined. Every stored digest is compared, in constant time. */
  lookup(presented: string): Principal | undefined {
    if (presented.length > MAX_API_KEY_LENGTH) return undefined;
    const digest = createHash('sha256').update(presented).digest();
    let found: Principal | undefined;
    for (const key of [...this.inline, ...this.fromFile]) {
      if (timingSafeEqual(digest, key.digest) && !found) found = key.principal;
    }
    return found;
  }

  status(): ApiKeysStatus {
    return {
      keys: this.size,
      ...(this.config.file && { file: resolve(this.config.file) }),
      ...(this.loadedAt && { loadedAt: this.loadedAt.toISOString() }),
      ...(this.lastFailure && { lastFailure: { at: this.lastFailure.at.toISOString(), message: this.lastFailure.message } }),
    };
  }

  close(): void {
    clearTimeout(this.debounce);
    this.watcher?.close();
  }

  private async reload(path: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      // Mid-swap the file may be briefly absent; the next event brings it back.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.lastFailure = { at: new Date(), message: (err as Error).message };
        this.logger.error({ file: path, error: (err as Error).message }, 'API key file unreadable; the keys read before are still served');
      }
      return;
    }
    if (text === this.lastText) return;
    try {
      this.fromFile = await this.readFile(path, text);
      this.loadedAt = new Date();
      this.lastFailure = undefined;
      this.logger.info({ file: path, keys: this.fromFile.length }, 'API key file reloaded');
    } catch (err) {
      // The keys read before stay: refusing every machine client over a typo would be an outage.
      this.lastFailure = { at: new Date(), message: (err as Error).message };
      this.logger.error({ file: path, error: (err as Error).message }, 'API key file refused; the keys read before are still served');
    }
  }

  private async readFile(path: string, text?: string): Promise<StoredKey[]> {
    const content = text ?? (await readFile(path, 'utf8'));
    this.lastText = content;
    let parsed: unknown;
    try {
      parsed = parseYaml(content);
    } catch (err) {
      throw new Error(`${basename(path)}: not YAML or JSON (${(err as Error).message})`);
    }
    const result = apiKeyEntries.safeParse(parsed ?? []);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      throw new Error(`${path}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
    }
    for (const [i, entry] of result.data.entries()) {
      if (entry.rate_limit_class !== undefined && !this.rateLimitClasses.includes(entry.rate_limit_class)) {
        throw new Error(`${path}: ${i}.rate_limit_class: names no class in rate_limit.classes (it has ${this.rateLimitClasses.join(', ')})`);
      }
    }
    return result.data.map((entry) => stored(entry));
  }
}

function stored(entry: ApiKeyEntry): StoredKey {
  return {
    digest: Buffer.from(entry.sha256, 'hex'),
    principal: Object.freeze({
      kind: 'apiKey',
      id: entry.name,
      scopes: entry.scopes,
      claims: {},
      ...(entry.rate_limit_class !== undefined && { rateLimitClass: entry.rate_limit_class }),
    }) as Principal,
  };
}
