import type { GatewayConfig } from '@apollo/gateway';
import { InMemoryLRUCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';

export type QueryPlanCache = NonNullable<NonNullable<GatewayConfig['queryPlannerConfig']>['cache']>;
type QueryPlan = NonNullable<Awaited<ReturnType<QueryPlanCache['get']>>>;

/** Told about every lookup in the query-plan cache, with the time it took in seconds. */
export interface QueryPlanCacheObserver {
  hit(seconds: number): void;
  miss(seconds: number): void;
}

/** ApolloGateway's default plan cache size (30 MiB, by approximate JSON size). */
const MAX_BYTES = 30 * 2 ** 20;

/**
 * ApolloGateway's query-plan cache as it builds it by default (an LRU of about 30 MiB), handed to it
 * through queryPlannerConfig.cache so that hits and misses can be counted: ApolloGateway exposes neither.
 */
export class ObservedQueryPlanCache implements QueryPlanCache {
  private readonly cache = new InMemoryLRUCache<QueryPlan>({ maxSize: MAX_BYTES });

  constructor(private readonly observer: QueryPlanCacheObserver) {}

  async get(key: string): Promise<QueryPlan | undefined> {
    const start = performance.now();
    const plan = await this.cache.get(key);
    const seconds = (performance.now() - start) / 1000;
    if (plan) this.observer.hit(seconds);
    else this.observer.miss(seconds);
    return plan;
  }

  set(key: string, value: QueryPlan, options?: KeyValueCacheSetOptions): Promise<void> {
    return this.cache.set(key, value, options);
  }

  delete(key: string): Promise<boolean | void> {
    return this.cache.delete(key);
  }

  clear(): void {
    this.cache.clear();
  }

  /** Plans held; counted when metrics are collected, not per request. */
  get size(): number {
    return this.cache.keys().length;
  }
}
