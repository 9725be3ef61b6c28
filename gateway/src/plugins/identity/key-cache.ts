import { importJWK, importSPKI, type JWK, type KeyLike } from 'jose';
import { metrics, type Meter, type ObservableCallback } from '@opentelemetry/api';
import type { Logger } from '@switchyard/service-kit';
import type { JwksSourceConfig, JwsAlgorithm } from './config';

/** One verification key, as the cache holds it: what the JWK declared, and the key jose verifies with. */
interface CachedKey {
  kid: string;
  /** The `alg` the JWK or its source pins, if any; a token naming another alg does not get this key. */
  alg?: string;
  kty: string;
  key: KeyLike;
}

export interface KeySetStatus {
  /** The JWKS url, or "static" for keys given in config. */
  source: string;
  /** Keys currently served (0 once the cache is past max_stale). */
  keys: number;
  /** ISO 8601 time of the last successful fetch; null before the first. */
  lastSuccess: string | null;
  /** The last fetch failed: tokens verify from the keys fetched at lastSuccess. */
  stale: boolean;
  /** Past max_stale since lastSuccess (or never fetched): tokens cannot be verified until the provider answers. */
  expired: boolean;
  lastFailure?: { at: string; message: string };
}

/** The token names a key id the source does not have (after at most one refresh). */
export class UnknownKeyError extends Error {}
/** No keys can be served at all (provider down past max_stale, or never reached): our fault, not the token's. */
export class KeysUnavailableError extends Error {}

/** The key type each algorithm needs, so an RSA key is never handed to an ES256 check. */
const KTY_FOR: Record<JwsAlgorithm, string> = {
  RS256: 'RSA', RS384: 'RSA', RS512: 'RSA', PS256: 'RSA', PS384: 'RSA', PS512: 'RSA',
  ES256: 'EC', ES384: 'EC', ES512: 'EC', EdDSA: 'OKP',
};

/** A JWKS much larger than this is not a key set; refuse it rather than hold it in memory. */
const MAX_JWKS_BYTES = 1 << 20;

/**
 * Taken when a cache starts, not at import: the metrics API has no proxy, so instruments made before the
 * process registers its MeterProvider would stay no-ops.
 */
function jwksInstruments(meter: Meter = metrics.getMeter('switchyard-gateway')) {
  return {
    fetches: meter.createCounter('switchyard.jwks.fetch', { description: 'JWKS fetches by the gateway, by url and outcome (success, failure).' }),
    age: meter.createObservableGauge('switchyard.jwks.age', {
      description: 'Seconds since the last successful JWKS fetch, by url; grows while the identity provider is down.',
      unit: 's',
    }),
  };
}

/**
 * The gateway's own cache of one JWKS url. jose's createRemoteJWKSet is not used: when its refetch fails
 * every token becomes an error, and it never refreshes on a timer. This one refreshes on
 * poll_interval, lets an unknown kid trigger at most one refresh per cool-down (sharing one fetch among
 * concurrent requests), and keeps serving the last good keys for max_stale after a failed refresh.
 */
export class JwksKeyCache {
  private keys = new Map<string, CachedKey[]>();
  private lastSuccess?: number;
  private lastFailure?: { at: number; message: string };
  private lastOnDemand = -Infinity;
  private fetches = 0;
  private inFlight?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private instruments?: ReturnType<typeof jwksInstruments>;
  private readonly observeAge: ObservableCallback = (result) => {
    if (this.lastSuccess !== undefined) result.observe((Date.now() - this.lastSuccess) / 1000, { url: this.url });
  };

  readonly url: string;

  constructor(
    private readonly source: JwksSourceConfig & { url: string },
    private readonly logger: Logger,
    /** The gateway's meter; the global one (a no-op unless a provider is registered) without it. */
    private readonly meter?: Meter,
  ) {
    this.url = source.url;
  }

  /** Fetches once (a failure is reported, not thrown: the provider may come up later) and starts polling. */
  async start(): Promise<void> {
    this.instruments = jwksInstruments(this.meter);
    this.instruments.age.addCallback(this.observeAge);
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.source.poll_interval);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.instruments?.age.removeCallback(this.observeAge);
  }

  /** The key for a token's header, refreshing once (per cool-down) when the kid is not cached. */
  async keyFor(kid: string | undefined, alg: JwsAlgorithm): Promise<KeyLike> {
    const cached = this.lookup(kid, alg);
    if (cached) return cached;
    if (this.inFlight) {
      await this.inFlight;
    } else if (Date.now() - this.lastOnDemand >= this.source.unknown_kid_cooldown) {
      this.lastOnDemand = Date.now();
      await this.refresh();
    }
    const fresh = this.lookup(kid, alg);
    if (fresh) return fresh;
    if (!this.serving()) throw new KeysUnavailableError(`no usable keys from ${this.url}`);
    throw new UnknownKeyError();
  }

  /**
   * Changes whenever the keys may have changed (each successful fetch), and is -1 while no keys are
   * served: a token verified under one generation is known good only while it lasts.
   */
  get generation(): number {
    return this.serving() ? this.fetches : -1;
  }

  status(): KeySetStatus {
    const serving = this.serving();
    return {
      source: this.url,
      keys: serving ? [...this.keys.values()].reduce((n, list) => n + list.length, 0) : 0,
      lastSuccess: this.lastSuccess === undefined ? null : new Date(this.lastSuccess).toISOString(),
      stale: this.lastFailure !== undefined,
      expired: !serving,
      ...(this.lastFailure && { lastFailure: { at: new Date(this.lastFailure.at).toISOString(), message: this.lastFailure.message } }),
    };
  }

  /** One fetch at a time: a poll and an unknown kid arriving together share it. */
  refresh(): Promise<void> {
    this.inFlight ??= this.fetchKeys().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private serving(): boolean {
    return this.lastSuccess !== undefined && Date.now() - this.lastSuccess <= this.source.max_stale;
  }

  private lookup(kid: string | undefined, alg: JwsAlgorithm): KeyLike | undefined {
    if (!this.serving()) return undefined;
    return pickKey(this.keys, kid, alg);
  }

  private async fetchKeys(): Promise<void> {
    try {
      const response = await fetch(this.url, { signal: AbortSignal.timeout(this.source.timeout), headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`answered HTTP ${response.status}`);
      const text = await response.text();
      if (text.length > MAX_JWKS_BYTES) throw new Error(`answered more than ${MAX_JWKS_BYTES} bytes`);
      const body = JSON.parse(text) as { keys?: unknown };
      if (!Array.isArray(body.keys)) throw new Error('answered JSON without a "keys" array');
      this.keys = await importKeySet(body.keys as JWK[], this.source.algorithms, (message) => this.logger.warn({ jwks: this.url }, message));
      const recovered = this.lastFailure !== undefined;
      this.lastSuccess = Date.now();
      this.lastFailure = undefined;
      this.fetches++;
      this.instruments?.fetches.add(1, { url: this.url, outcome: 'success' });
      if (recovered) this.logger.info({ jwks: this.url, keys: this.status().keys }, 'JWKS fetched again; keys are fresh');
    } catch (err) {
      const message = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${this.source.timeout} ms` : (err as Error).message;
      this.lastFailure = { at: Date.now(), message };
      this.instruments?.fetches.add(1, { url: this.url, outcome: 'failure' });
      this.logger.warn({ jwks: this.url, lastSuccess: this.status().lastSuccess, error: message }, 'JWKS fetch failed; serving the last keys fetched until max_stale');
    }
  }
}

/** Keys given in config: imported once at start, never stale. */
export class StaticKeySet {
  private constructor(private readonly keys: Map<string, CachedKey[]>) {}

  static async create(source: JwksSourceConfig & { keys: NonNullable<JwksSourceConfig['keys']> }, path: string): Promise<StaticKeySet> {
    const keys = new Map<string, CachedKey[]>();
    for (const [i, entry] of source.keys.entries()) {
      try {
        if ('pem' in entry && typeof entry.pem === 'string') {
          const pem = entry.pem;
          // A PEM carries no algorithm; it is imported for each allowed one its key type fits.
          for (const alg of source.algorithms) {
            const key = await importSPKI(pem, alg).catch(() => undefined);
            if (key) add(keys, { kid: entry.kid, alg, kty: KTY_FOR[alg], key });
          }
          if (!keys.has(entry.kid)) throw new Error(`fits none of the algorithms ${source.algorithms.join(', ')}`);
        } else {
          add(keys, await importOne(entry as JWK));
        }
      } catch (err) {
        throw new Error(`${path}.keys.${i}: not a usable public key (${(err as Error).message})`);
      }
    }
    return new StaticKeySet(keys);
  }

  /** Static keys never change. */
  readonly generation = 0;

  async keyFor(kid: string | undefined, alg: JwsAlgorithm): Promise<KeyLike> {
    const key = pickKey(this.keys, kid, alg);
    if (!key) throw new UnknownKeyError();
    return key;
  }

  status(): KeySetStatus {
    return { source: 'static', keys: [...this.keys.values()].reduce((n, list) => n + list.length, 0), lastSuccess: null, stale: false, expired: false };
  }
}

function add(keys: Map<string, CachedKey[]>, key: CachedKey): void {
  keys.set(key.kid, [...(keys.get(key.kid) ?? []), key]);
}

/** A token without a kid gets a key only when exactly one fits its algorithm: guessing among several would be arbitrary. */
function pickKey(keys: Map<string, CachedKey[]>, kid: string | undefined, alg: JwsAlgorithm): KeyLike | undefined {
  const fits = (k: CachedKey) => k.kty === KTY_FOR[alg] && (k.alg === undefined || k.alg === alg);
  if (kid !== undefined) return keys.get(kid)?.find(fits)?.key;
  const candidates = [...keys.values()].flat().filter(fits);
  return candidates.length === 1 ? candidates[0]!.key : undefined;
}

async function importOne(jwk: JWK): Promise<CachedKey> {
  if ('d' in jwk) throw new Error('is a private key');
  // On Node, importJWK makes a KeyObject from the JWK alone; jose still checks alg against the key type when verifying.
  const key = (await importJWK({ ...jwk, ext: true }, jwk.alg)) as KeyLike;
  return { kid: jwk.kid ?? '', alg: jwk.alg, kty: jwk.kty!, key };
}

/** The signing keys of a fetched JWKS; an encryption key or one we cannot use is skipped (and said), not fatal. */
async function importKeySet(jwks: JWK[], algorithms: JwsAlgorithm[], warn: (message: string) => void): Promise<Map<string, CachedKey[]>> {
  const keys = new Map<string, CachedKey[]>();
  for (const jwk of jwks) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (!['RSA', 'EC', 'OKP'].includes(jwk.kty ?? '') || (jwk.alg !== undefined && !(algorithms as string[]).includes(jwk.alg))) continue;
    try {
      add(keys, await importOne(jwk));
    } catch (err) {
      warn(`JWKS key ${jwk.kid ?? '(no kid)'} skipped: ${(err as Error).message}`);
    }
  }
  return keys;
}
