import { LRUCache } from 'lru-cache';
import type { ResponseCacheStore } from './store';

interface Held {
  value: string;
  expiresAt: number;
  tags: readonly string[];
}

/**
 * One replica's answers, at most maxBytes of them (keys and values, as UTF-16 length), the least recently
 * used going first. Expiry is read on the gateway's clock, so tests move time instead of waiting.
 */
export class MemoryResponseCacheStore implements ResponseCacheStore {
  readonly kind = 'memory';
  readonly isUp = true;
  private readonly entries: LRUCache<string, Held>;
  private readonly byTag = new Map<string, Set<string>>();

  constructor(
    maxBytes: number,
    private readonly now: () => number,
    /** Told the key of each entry dropped for room before it expired. */
    onEvict: (key: string) => void,
  ) {
    this.entries = new LRUCache<string, Held>({
      maxSize: maxBytes,
      sizeCalculation: (held, key) => Math.max(1, key.length + held.value.length),
      dispose: (held, key, reason) => {
        this.untag(key, held.tags);
        if (reason === 'evict') onEvict(key);
      },
    });
  }

  async get(keys: readonly string[]): Promise<(string | undefined)[]> {
    return keys.map((key) => {
      const held = this.entries.get(key);
      if (!held) return undefined;
      if (held.expiresAt > this.now()) return held.value;
      this.entries.delete(key);
      return undefined;
    });
  }

  async set(key: string, value: string, ttlMs: number, tags: readonly string[]): Promise<void> {
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs, tags });
    // An answer larger than the whole cache is not kept (lru-cache refuses it), so it gets no tags either.
    if (!this.entries.has(key)) return;
    for (const tag of tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  async invalidate(tags: readonly string[]): Promise<number> {
    let dropped = 0;
    for (const tag of tags) {
      for (const key of [...(this.byTag.get(tag) ?? [])]) if (this.entries.delete(key)) dropped += 1;
    }
    return dropped;
  }

  bytes(): number {
    return this.entries.calculatedSize;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  private untag(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.byTag.delete(tag);
    }
  }
}
