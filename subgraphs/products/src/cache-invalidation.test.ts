import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, createLogger, loadConfig, startMetrics } from '@switchyard/service-kit';
import { z } from 'zod';
import { parsePrometheusText } from '../../../tests/support/prometheus';
import { cacheInvalidationConfigSchema, cacheInvalidationEnvBindings, createCacheInvalidator } from './cache-invalidation';

const TOKEN = 'an-invalidation-token-of-32-characters';

/** A stand-in for the gateway's invalidation endpoint: records what it was sent, answers as told (or never). */
async function fakeEndpoint(answer: (call: number) => number | 'hang') {
  const calls: { authorization?: string; body: unknown }[] = [];
  const waiting = new Set<() => void>();
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    calls.push({ authorization: req.headers.authorization, body: JSON.parse(body) });
    const status = answer(calls.length);
    if (status === 'hang') {
      waiting.add(() => res.destroy());
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ invalidated: 1 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/invalidation`,
    calls,
    close: async () => {
      for (const release of waiting) release();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function invalidatorFor(url: string, timeoutMs = 1000) {
  const metrics = startMetrics({ serviceName: 'products', env: {} });
  const invalidator = createCacheInvalidator({ url, token: TOKEN, timeoutMs }, { logger: createLogger('products', 'silent'), meter: metrics.meter })!;
  const counted = async () =>
    Object.fromEntries(parsePrometheusText(await metrics.scrape()).get('products_cache_invalidations_total')?.samples.map((s) => [s.labels.outcome, s.value]) ?? []);
  return { invalidator, counted, close: () => metrics.shutdown() };
}

describe('the products service tells the gateway which products a change of stock touched', () => {
  it('one call per distinct product of a change, with the bearer token, counted', async () => {
    const endpoint = await fakeEndpoint(() => 200);
    const { invalidator, counted, close } = await invalidatorFor(endpoint.url);
    try {
      invalidator.productsChanged(['prd_0002', 'prd_0001', 'prd_0002']);
      await invalidator.close();
      expect(endpoint.calls.map((call) => [call.authorization, call.body]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
        [`Bearer ${TOKEN}`, { type: 'Product', key: 'prd_0001' }],
        [`Bearer ${TOKEN}`, { type: 'Product', key: 'prd_0002' }],
      ]);
      expect(await counted()).toEqual({ ok: 2 });
    } finally {
      await Promise.all([close(), endpoint.close()]);
    }
  });

  it('never holds up the change: it returns before any call is answered; a refusal, a gateway that hangs past the timeout and one that is down are counted as failed', async () => {
    const endpoint = await fakeEndpoint((call) => (call === 1 ? 401 : 'hang'));
    const { invalidator, counted, close } = await invalidatorFor(endpoint.url, 200);
    const down = await invalidatorFor('http://127.0.0.1:1/invalidation');
    try {
      invalidator.productsChanged(['prd_0001']);
      expect(endpoint.calls).toEqual([]);
      await invalidator.close();
      invalidator.productsChanged(['prd_0002']);
      const started = performance.now();
      await invalidator.close();
      expect(performance.now() - started).toBeLessThan(2000);
      down.invalidator.productsChanged(['prd_0003']);
      await down.invalidator.close();
      expect([endpoint.calls.length, await counted(), await down.counted()]).toEqual([2, { failed: 2 }, { failed: 1 }]);
    } finally {
      await Promise.all([close(), down.close(), endpoint.close()]);
    }
  });

  it('is off without a URL, and a URL without a token is refused at start', async () => {
    const schema = z.object({ cacheInvalidation: cacheInvalidationConfigSchema });
    const load = (env: Record<string, string>) => loadConfig(schema, { bindings: cacheInvalidationEnvBindings, env });
    const metrics = startMetrics({ serviceName: 'products', env: {}, prometheus: false });
    expect(createCacheInvalidator(load({}).cacheInvalidation, { logger: createLogger('products', 'silent'), meter: metrics.meter })).toBeUndefined();
    await metrics.shutdown();
    expect(() => load({ CACHE_INVALIDATION_URL: 'http://127.0.0.1:8088/invalidation' })).toThrow(ConfigError);
    expect(load({ CACHE_INVALIDATION_URL: 'http://127.0.0.1:8088/invalidation', CACHE_INVALIDATION_TOKEN: TOKEN }).cacheInvalidation).toEqual({
      url: 'http://127.0.0.1:8088/invalidation',
      token: TOKEN,
      timeoutMs: 1000,
    });
  });
});
