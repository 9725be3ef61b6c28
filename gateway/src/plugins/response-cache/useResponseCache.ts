import { createHash } from 'node:crypto';
import type { Meter } from '@opentelemetry/api';
import type { Logger } from '@switchyard/service-kit';
import type { RequestContext } from '../../core/context';
import type { GatewayPlugin } from '../../core/plugin';
import { mergedCachePolicy, type CachePolicy } from '../headers/cache-control';
import type { ResponseCacheConfig } from './config';
import { MemoryResponseCacheStore } from './memory-store';
import { RedisResponseCacheStore } from './redis-store';
import type { ResponseCacheStore } from './store';
import { tagsOf } from './tags';

/** What is kept per answer: its data (answers with errors are never kept) and what its headers need. */
interface StoredAnswer {
  data: unknown;
  /** Epoch ms on the gateway's clock. */
  storedAt: number;
  /** Seconds it may be kept from storedAt. */
  maxAge: number;
  scope: CachePolicy['scope'];
  tags: string[];
}

/** One request's lookup: the keys a miss is stored under, or the answer a hit came from. */
interface Lookup {
  publicKey: string;
  /** Only for a principal that may have private answers kept: never for an anonymous caller. */
  privateKey?: string;
  hit?: StoredAnswer;
}

export interface ResponseCacheServices {
  logger: Logger;
  meter?: Meter;
  now: () => number;
  /** The client's values a subgraph request depends on (the header rules' propagated headers): part of every key. */
  varyBy: (context: RequestContext) => readonly unknown[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The response cache: a query's whole answer, kept for the max-age the subgraphs' Cache-Control allows
 * (merged restrictively, capped by max_ttl) and answered again without execution, with `Age`.
 *
 * Never one user's data to another: the key is the supergraph version, the operation as executed (its
 * hash includes every plugin's change: what authorization removed for this caller), its coerced
 * variables and the client values the header rules send on; a private answer is kept under a key that
 * adds the principal (kind, id and scopes) and is looked up only under it; an anonymous caller's private
 * answer is not kept at all. Mutations, answers with errors and uncacheable answers are never kept. A
 * store that does not answer makes a miss, never a failed request.
 */
export async function useResponseCache(config: ResponseCacheConfig, services: ResponseCacheServices): Promise<GatewayPlugin | undefined> {
  if (!config.enabled) return undefined;
  const { logger, meter, now } = services;
  const attributes = { 'switchyard.cache.store': config.store };
  const counters = meter && {
    hits: meter.createCounter('switchyard.response_cache.hits', { description: 'Queries answered from the response cache.' }),
    misses: meter.createCounter('switchyard.response_cache.misses', { description: 'Queries the response cache had no answer for (executed).' }),
    stored: meter.createCounter('switchyard.response_cache.stored', { unit: 'By', description: 'Bytes of answers written to the response cache.' }),
    evictions: meter.createCounter('switchyard.response_cache.evictions', { description: 'Answers the memory store dropped for room before they expired.' }),
  };
  const redis =
    config.store === 'redis'
      ? new RedisResponseCacheStore({
          url: config.redis.url,
          timeoutMs: config.redis.timeout,
          keyPrefix: config.redis.key_prefix,
          onStatus: (up, error) => (up ? logger.info('response cache: Redis is up') : logger.warn({ error: error?.message }, 'response cache: Redis is down; every query is a miss')),
        })
      : undefined;
  const store: ResponseCacheStore = redis ?? new MemoryResponseCacheStore(config.memory.max_bytes, now, () => counters?.evictions.add(1, attributes));
  await redis?.connect();
  if (meter && store.bytes) {
    meter.createObservableGauge('switchyard.response_cache.size', { unit: 'By', description: 'Bytes of answers the memory store holds.' }).addCallback((gauge) => gauge.observe(store.bytes!(), attributes));
  }
  const lookups = new WeakMap<RequestContext, Lookup>();

  return {
    name: 'response_cache',
    stage: 'execution',
    async beforeExecution(context, planned) {
      const { operation } = planned;
      if (operation.type !== 'query') return;
      const publicKey = sha256(JSON.stringify([operation.served.supergraph.hash, planned.queryHash, operation.operationName ?? null, operation.variables, services.varyBy(context)]));
      const { principal } = context;
      const privateKey = config.private && principal.kind !== 'anonymous' ? sha256(JSON.stringify([publicKey, principal.kind, principal.id, [...principal.scopes].sort()])) : undefined;
      const lookup: Lookup = { publicKey, privateKey };
      lookups.set(context, lookup);
      let values: (string | undefined)[];
      try {
        values = await store.get(privateKey ? [publicKey, privateKey] : [publicKey]);
      } catch (err) {
        context.logger.debug({ err }, 'response cache lookup failed: executing');
        values = [];
      }
      for (const [i, value] of values.entries()) {
        if (value === undefined) continue;
        const answer = JSON.parse(value) as StoredAnswer;
        // A private answer is served only from its principal's own key.
        if (answer.scope === 'private' && i === 0) continue;
        if (now() - answer.storedAt >= answer.maxAge * 1000) continue;
        lookup.hit = answer;
        counters?.hits.add(1, attributes);
        return { data: answer.data as Record<string, unknown> };
      }
      counters?.misses.add(1, attributes);
      return undefined;
    },
    async onResponse(context, response) {
      const lookup = lookups.get(context);
      if (!lookup) return;
      const tagHeader = config.cache_tag.enabled ? config.cache_tag.header.toLowerCase() : undefined;
      if (lookup.hit) {
        const age = Math.floor((now() - lookup.hit.storedAt) / 1000);
        response.headers.age = String(age);
        // Only where the gateway sends Cache-Control at all (cache_control.enabled): what is left of the max-age.
        if (response.headers['cache-control'] !== undefined) response.headers['cache-control'] = `${lookup.hit.scope}, max-age=${Math.max(0, lookup.hit.maxAge - age)}`;
        if (tagHeader && lookup.hit.tags.length > 0) response.headers[tagHeader] = lookup.hit.tags.join(',');
        return;
      }
      const policy = mergedCachePolicy(context, response);
      if (!policy) return;
      const key = policy.scope === 'public' ? lookup.publicKey : lookup.privateKey;
      if (!key) return;
      const maxAge = Math.min(policy.maxAge, Math.floor(config.max_ttl / 1000));
      if (maxAge <= 0) return;
      const tags = tagsOf(context.operation!.served.apiSchema, context.operation!, response.body.data);
      const value = JSON.stringify({ data: response.body.data, storedAt: now(), maxAge, scope: policy.scope, tags } satisfies StoredAnswer);
      const bytes = Buffer.byteLength(value);
      if (bytes > config.max_entry_bytes) return;
      try {
        await store.set(key, value, maxAge * 1000, tags);
        counters?.stored.add(bytes, attributes);
      } catch (err) {
        context.logger.debug({ err }, 'response cache write failed');
      }
      if (tagHeader && tags.length > 0) response.headers[tagHeader] = tags.join(',');
    },
    invalidate: (tags) => store.invalidate(tags),
    readiness: () => ({ response_cache: { store: store.kind, up: store.isUp } }),
    dispose: () => store.close(),
  };
}
