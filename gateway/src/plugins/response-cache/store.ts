/** Where answers (and the entity cache's entities, under their own prefix) are kept: this replica's memory, or Redis shared by every replica. Values are serialized JSON. */
export interface ResponseCacheStore {
  readonly kind: 'memory' | 'redis';
  /** The values of these keys, undefined for each that is missing or expired. Throws when the store does not answer. */
  get(keys: readonly string[]): Promise<(string | undefined)[]>;
  /** Keeps a value for ttlMs, findable by each of its tags for invalidation. */
  set(key: string, value: string, ttlMs: number, tags: readonly string[]): Promise<void>;
  /** Drops every value carrying any of these tags; resolves with how many went. */
  invalidate(tags: readonly string[]): Promise<number>;
  /** Bytes held, when the store knows (memory). */
  bytes?(): number;
  readonly isUp: boolean;
  close(): Promise<void>;
}
