import { createHash } from 'node:crypto';
import type { Meter } from '@opentelemetry/api';
import type { Logger } from '@switchyard/service-kit';
import type { GraphQLSchema } from 'graphql';
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
 * The attributes an answer is counted under: once per type among its tags (`graphql.type.name`; only
 * types of the served schema, so the label stays bounded), or once without a type when it has none.
 */
function perType(attributes: Record<string, string>, schema: GraphQLSchema, tags: readonly string[]): Record<string, string>[] {
  const types = tags.filter((tag) => !tag.includes(':') && schema.getType(tag) !== undefined);
  return types.length === 0 ? [attributes] : types.map((type) => ({ ...attributes, 'graphql.type.name': type }));
}

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
  // hits, misses and stored count once per type in the answer: per type they give its hit rate; summed
  // over types they count type occurrences, not queries.
  const counters = meter && {
    hits: meter.createCounter('switchyard.response_cache.hits', { description: 'Queries answered from the response cache, per type in the answer.' }),
    misses: meter.createCounter('switchyard.response_cache.misses', { description: 'Queries the response cache had no answer for (executed), per type in the answer.' }),
    stored: meter.createCounter('switchyard.response_cache.stored', { unit: 'By', description: 'Bytes of answers written to the response cache, per type in the answer.' }),
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
        if (counters) for (const typed of perType(attributes, operation.served.apiSchema, answer.tags)) counters.hits.add(1, typed);
        return { data: answer.data as Record<string, unknown> };
      }
      // Counted once the answer is known, with its types.
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
      const schema = context.operation!.served.apiSchema;
      const policy = mergedCachePolicy(context, response);
      const tags = (policy || counters) && response.body.data ? tagsOf(schema, context.operation!, response.body.data) : [];
      if (counters) for (const typed of perType(attributes, schema, tags)) counters.misses.add(1, typed);
      if (!policy) return;
      const key = policy.scope === 'public' ? lookup.publicKey : lookup.privateKey;
      if (!key) return;
      const maxAge = Math.min(policy.maxAge, Math.floor(config.max_ttl / 1000));
      if (maxAge <= 0) return;
      const value = JSON.stringify({ data: response.body.data, storedAt: now(), maxAge, scope: policy.scope, tags } satisfies StoredAnswer);
      const bytes = Buffer.byteLength(value);
      if (bytes > config.max_entry_bytes) return;
      try {
        await store.set(key, value, maxAge * 1000, tags);
        if (counters) for (const typed of perType(attributes, schema, tags)) counters.stored.add(bytes, typed);
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
