import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Logger } from '@switchyard/service-kit';
import { checkSupergraph, readSupergraphFile, sha256, type ActiveSupergraph } from './supergraph';

export interface SupergraphStatus {
  hash: string;
  /** ISO 8601. */
  loadedAt: string;
  path: string;
  /** The latest refused reload, until a reload succeeds or the file is back to what is served. */
  lastFailure?: { at: string; message: string };
}

/**
 * Makes a checked supergraph ready to serve, throwing if it cannot be (ApolloGateway refused it), and
 * returns the step that makes it the one served; that step runs together with the manager's own swap.
 */
export type PrepareSupergraph = (next: ActiveSupergraph) => Promise<() => void>;

export interface SupergraphManagerOptions {
  path: string;
  subgraphUrls: Record<string, string>;
  hotReload: boolean;
  /**
   * Throws, with a message naming the config key at fault, for a supergraph that is valid but that the
   * rest of the config cannot serve safely (authorization's, say): at start the gateway does not start,
   * on reload the previous version keeps serving.
   */
  check?: (supergraph: ActiveSupergraph) => void;
  logger: Logger;
}

/** Editors and Kubernetes replace a file in several steps; one reload after the last of them. */
const RELOAD_DEBOUNCE_MS = 100;

/**
 * Owns the supergraph file: reads and checks it at construction (so a broken file stops the gateway at
 * start), and with hotReload watches it and swaps to each new version that passes every check.
 */
export class SupergraphManager {
  private current: ActiveSupergraph;
  private lastFailure: SupergraphStatus['lastFailure'];
  /** The content last refused, so that events that do not change it are not checked and logged again. */
  private refusedHash?: string;
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;
  private reloads: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: SupergraphManagerOptions) {
    this.current = readSupergraphFile(resolve(options.path), options.subgraphUrls);
    options.check?.(this.current);
  }

  get active(): ActiveSupergraph {
    return this.current;
  }

  status(): SupergraphStatus {
    const { hash, loadedAt, path } = this.current;
    return { hash, loadedAt: loadedAt.toISOString(), path, ...(this.lastFailure && { lastFailure: this.lastFailure }) };
  }

  /** Serves the supergraph read at construction, then (with hotReload) watches the file for new versions. */
  async start(prepare: PrepareSupergraph): Promise<void> {
    const commit = await prepare(this.current);
    commit();
    if (!this.options.hotReload) return;
    // The directory, not the file: an editor's save-by-rename or Kubernetes' symlink swap of a ConfigMap
    // replaces the file, which ends a watch on the file itself. Events for other files cost one read and
    // hash comparison each.
    this.watcher = watch(dirname(this.current.path), { persistent: false }, () => {
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.reloads = this.reloads.then(() => this.reload(prepare));
      }, RELOAD_DEBOUNCE_MS);
    });
    this.watcher.on('error', (err) => {
      this.fail(`watching ${dirname(this.current.path)} stopped: ${err.message}; restart the gateway to serve a new supergraph`);
    });
  }

  /** Stops watching; a reload already under way is waited for. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.debounce);
    this.watcher?.close();
    await this.reloads;
  }

  private async reload(prepare: PrepareSupergraph): Promise<void> {
    if (this.closed) return;
    const { path } = this.current;
    let sdl: string;
    try {
      sdl = await readFile(path, 'utf8');
    } catch (err) {
      return this.fail(`supergraphPath: cannot read ${path}: ${(err as Error).message}`);
    }
    const hash = sha256(sdl);
    if (hash === this.current.hash) {
      this.lastFailure = this.refusedHash = undefined;
      return;
    }
    if (hash === this.refusedHash) return;
    try {
      const next = checkSupergraph(path, sdl, this.options.subgraphUrls);
      this.options.check?.(next);
      const commit = await prepare(next);
      const previous = this.current;
      this.current = next;
      this.lastFailure = this.refusedHash = undefined;
      commit();
      this.options.logger.info({ path, hash, previousHash: previous.hash }, 'serving a new supergraph');
    } catch (err) {
      this.refusedHash = hash;
      this.fail((err as Error).message);
    }
  }

  private fail(message: string): void {
    this.lastFailure = { at: new Date().toISOString(), message };
    this.options.logger.error({
      path: this.current.path,
      hash: this.current.hash,
      error: message,
    }, 'supergraph reload failed; still serving the previous one');
  }
}
