import { createHash } from 'node:crypto';
import type { Attributes, Meter } from '@opentelemetry/api';
import type { Logger } from '@switchyard/service-kit';
import stableStringify from 'fast-json-stable-stringify';
import { isObjectType } from 'graphql';
import type { RequestContext } from '../../core/context';
import type { GatewayPlugin, SubgraphAnswer } from '../../core/plugin';
import { parseCacheControl, type CachePolicy } from '../headers/cache-control';
import { MemoryResponseCacheStore } from '../response-cache/memory-store';
import { RedisResponseCacheStore } from '../response-cache/redis-store';
import type { ResponseCacheStore } from '../response-cache/store';
import type { EntityCacheConfig } from './config';
import { entitiesWithErrors, mergeEntities, representationsOf, selectionOf, tagsOfRepresentation, type Representation } from './entity-fetch';

/** What is kept per entity: the subgraph's answer for it and for how long. */
interface StoredEntity {
  data: unknown;
  /** Epoch ms on the gateway's clock. */
  storedAt: number;
  /** Seconds it may be kept from storedAt. */
  maxAge: number;
  scope: CachePolicy['scope'];
}

/** One representation's keys: the public one, and its principal's own for a caller that may have private entries. */
interface EntityKeys {
  publicKey: string;
  privateKey?: string;
}

export interface EntityCacheServices {
  logger: Logger;
  meter?: Meter;
  now: () => number;
  /** The client's values a subgraph request depends on (the header rules' propagated headers): part of every key. */
  varyBy: (context: RequestContext) => readonly unknown[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The entity cache: each entity an `_entities` fetch answers, kept per subgraph and type for the max-age
 * of that answer's Cache-Control (capped by max_ttl or the subgraph's ttl), so a product fetched for one
 * query serves every query that reaches it. A fetch sends only the representations the cache lacks (none
 * at all when it has them all) and the answer is put back together in the planner's order.
 *
 * Keys are `<subgraph>:<type>:<hash>`, the hash over the supergraph version, the fetch's selection (its
 * text without the planner's operation name, and its other variables), the representation (key fields
 * and any @requires fields, as stable JSON) and the client values the header rules send on. A private
 * entity is kept under a key that adds the principal (kind, id, scopes) and is looked up only under it;
 * an anonymous caller's is not kept. Not kept either: an answer without max-age or with no-store, an
 * entity an error touches, null. Only queries use it: what a mutation reads next is read fresh. A store
 * that does not answer makes misses, never a failed request.
 */
export async function useEntityCache(config: EntityCacheConfig, services: EntityCacheServices): Promise<GatewayPlugin | undefined> {
  if (!config.enabled) return undefined;
  const { logger, meter, now } = services;
  const counters = meter && {
    hits: meter.createCounter('switchyard.entity_cache.hits', { description: 'Entities answered from the entity cache.' }),
    misses: meter.createCounter('switchyard.entity_cache.misses', { description: 'Entities the entity cache did not have (fetched from the subgraph).' }),
    stored: meter.createCounter('switchyard.entity_cache.stored', { unit: 'By', description: 'Bytes of entities written to the entity cache.' }),
    evictions: meter.createCounter('switchyard.entity_cache.evictions', { description: 'Entities the memory store dropped for room before they expired.' }),
  };
  // One attribute set per subgraph and type; types are the supergraph's, so their number is bounded.
  const attributeSets = new Map<string, Attributes>();
  const attributesOf = (subgraph: string, type: string) => {
    const key = `${subgraph}:${type}`;
    let attributes = attributeSets.get(key);
    if (!attributes) attributeSets.set(key, (attributes = { 'switchyard.cache.store': config.store, 'subgraph.name': subgraph, 'graphql.type.name': type }));
    return attributes;
  };
  const redis =
    config.store === 'redis'
      ? new RedisResponseCacheStore({
          url: config.redis.url!,
          timeoutMs: config.redis.timeout,
          keyPrefix: config.redis.key_prefix,
          onStatus: (up, error) => (up ? logger.info('entity cache: Redis is up') : logger.warn({ error: error?.message }, 'entity cache: Redis is down; every entity is a miss')),
        })
      : undefined;
  const store: ResponseCacheStore =
    redis ??
    new MemoryResponseCacheStore(config.memory.max_bytes, now, (key) => {
      const [subgraph, type] = key.split(':');
      counters?.evictions.add(1, attributesOf(subgraph!, type!));
    });
  await redis?.connect();
  if (meter && store.bytes) {
    meter.createObservableGauge('switchyard.entity_cache.size', { unit: 'By', description: 'Bytes of entities the memory store holds.' }).addCallback((gauge) => gauge.observe(store.bytes!(), { 'switchyard.cache.store': config.store }));
  }
  const subgraphEnabled = (subgraph: string) => !Object.hasOwn(config.subgraphs, subgraph) || config.subgraphs[subgraph]!.enabled;
  const ttlCapOf = (subgraph: string) => (Object.hasOwn(config.subgraphs, subgraph) ? config.subgraphs[subgraph]!.ttl : undefined) ?? config.max_ttl;

  const keysOf = (context: RequestContext, subgraph: string, selection: string, representation: Representation): EntityKeys => {
    const prefix = `${subgraph}:${representation.__typename}:`;
    const identity = JSON.stringify([context.operation!.served.supergraph.hash, selection, stableStringify(representation), services.varyBy(context)]);
    const publicKey = prefix + sha256(identity);
    const { principal } = context;
    if (!config.private || principal.kind === 'anonymous') return { publicKey };
    return { publicKey, privateKey: prefix + sha256(JSON.stringify([identity, principal.kind, principal.id, [...principal.scopes].sort()])) };
  };

  /** The cached entity for these keys, if any is still fresh: a private one only from its principal's key. */
  const cachedOf = (publicValue: string | undefined, privateValue: string | undefined): StoredEntity | undefined => {
    for (const [value, fromPrivateKey] of [[publicValue, false], [privateValue, true]] as const) {
      if (value === undefined) continue;
      const entity = JSON.parse(value) as StoredEntity;
      if (entity.scope === 'private' && !fromPrivateKey) continue;
      if (now() - entity.storedAt >= entity.maxAge * 1000) continue;
      return entity;
    }
    return undefined;
  };

  return {
    name: 'entity_cache',
    stage: 'transport',
    async aroundSubgraphFetch(context, fetch, send) {
      const representations = representationsOf(fetch);
      const operation = context.operation;
      if (!representations || operation?.type !== 'query' || !subgraphEnabled(fetch.subgraph)) return send(fetch);
      const schema = operation.served.supergraph.schema;
      const selection = sha256(JSON.stringify(selectionOf(fetch)));
      // A type the supergraph does not have is never cached (nor counted): the subgraph answers for it as it may.
      const keys = representations.map((r) => (isObjectType(schema.getType(r.__typename)) ? keysOf(context, fetch.subgraph, selection, r) : undefined));
      // One lookup for the whole fetch: each representation's public key and, for a principal, its private one.
      const lookedUp: string[] = [];
      const slots = keys.map((k) => k && { publicAt: lookedUp.push(k.publicKey) - 1, privateAt: k.privateKey ? lookedUp.push(k.privateKey) - 1 : undefined });
      let values: (string | undefined)[] = [];
      if (lookedUp.length > 0) {
        try {
          values = await store.get(lookedUp);
        } catch (err) {
          context.logger.debug({ err }, 'entity cache lookup failed: fetching every entity');
        }
      }
      const cached = slots.map((slot, i) => {
        if (!slot) return undefined;
        const entity = cachedOf(values[slot.publicAt], slot.privateAt === undefined ? undefined : values[slot.privateAt]);
        counters?.[entity ? 'hits' : 'misses'].add(1, attributesOf(fetch.subgraph, representations[i]!.__typename));
        return entity;
      });
      const sentIndexes = representations.flatMap((_, i) => (cached[i] ? [] : [i]));
      if (sentIndexes.length < representations.length) recordHits(context, fetch.subgraph, cached, now);
      const entities = representations.map((_, i) => cached[i]?.data ?? null);
      if (sentIndexes.length === 0) return { body: { data: { _entities: entities } } };

      const narrowed = sentIndexes.length === representations.length ? fetch : { ...fetch, variables: { ...fetch.variables, representations: sentIndexes.map((i) => representations[i]) } };
      const answer = await send(narrowed);
      await storeFetched(context, fetch.subgraph, answer, sentIndexes.map((i) => [representations[i]!, keys[i]] as const));
      return narrowed === fetch ? answer : { ...answer, body: mergeEntities(entities, sentIndexes, answer.body) };
    },
    invalidate: (tags) => store.invalidate(tags),
    readiness: () => ({ entity_cache: { store: store.kind, up: store.isUp } }),
    dispose: () => store.close(),
  };

  /** Keeps each entity of the answer that may be kept, for its principal alone when private. */
  async function storeFetched(context: RequestContext, subgraph: string, answer: SubgraphAnswer, sent: readonly (readonly [Representation, EntityKeys | undefined])[]): Promise<void> {
    const policy = parseCacheControl(answer.headers?.['cache-control']);
    const fetched = answer.body.data?._entities;
    const withErrors = entitiesWithErrors(answer.body.errors);
    if (!policy || !Array.isArray(fetched) || fetched.length !== sent.length || !withErrors) return;
    const maxAge = Math.min(policy.maxAge, Math.floor(ttlCapOf(subgraph) / 1000));
    if (maxAge <= 0) return;
    const writes = sent.map(async ([representation, keys], j) => {
      const data = fetched[j];
      const key = policy.scope === 'public' ? keys?.publicKey : keys?.privateKey;
      if (!key || data === null || data === undefined || withErrors.has(j)) return;
      const value = JSON.stringify({ data, storedAt: now(), maxAge, scope: policy.scope } satisfies StoredEntity);
      try {
        await store.set(key, value, maxAge * 1000, tagsOfRepresentation(representation));
        counters?.stored.add(Buffer.byteLength(value), attributesOf(subgraph, representation.__typename));
      } catch (err) {
        context.logger.debug({ err }, 'entity cache write failed');
      }
    });
    await Promise.all(writes);
  }
}

/**
 * The entities answered from the cache join the request's fetches as one answer that was not sent, with
 * the Cache-Control they still have: the response's merged policy (and the response cache) is then
 * never longer than what is left of theirs, and private when any of them is.
 */
function recordHits(context: RequestContext, subgraph: string, cached: readonly (StoredEntity | undefined)[], now: () => number): void {
  let maxAge = Infinity;
  let scope: CachePolicy['scope'] = 'public';
  for (const entity of cached) {
    if (!entity) continue;
    maxAge = Math.min(maxAge, entity.maxAge - Math.floor((now() - entity.storedAt) / 1000));
    if (entity.scope === 'private') scope = 'private';
  }
  // A hit is fresh, so at least a second of its max-age is left.
  context.fetches.push({ subgraph, seconds: 0, status: 200, headers: { 'cache-control': `${scope}, max-age=${maxAge}` }, cached: true });
}
