import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadGatewayConfig } from '../../gateway/src/config';
import { PLATFORM_GATEWAY_CONFIG } from '../../scripts/platform-gateway';
import { loadConfig, subgraphEnvBindings, traceExportFromEnv, type SubgraphDefinition } from '@switchyard/service-kit';
import { ordersSubgraph } from '../../subgraphs/orders/src/main';
import { productsSubgraph } from '../../subgraphs/products/src/main';
import { usersSubgraph } from '../../subgraphs/users/src/main';
import { describeIfKubectl, overlays, render, type K8sObject } from './helpers';

/** A valid-looking value for a Secret's key: a URL for a URL, the same token for every reader of one Secret. */
function secretStandIn(ref: { name: string; key: string }): string {
  if (ref.key.endsWith('REDIS_URL')) return 'rediss://redis.internal:6379';
  if (ref.key.endsWith('DATABASE_URL')) return 'postgres://app:secret@db.internal:5432/switchyard';
  return `stand-in-for-${ref.name}-${ref.key}`.padEnd(64, '.');
}

/** The env a container gets from its ConfigMaps and Secrets (stood in for by valid-looking values). */
function containerEnv(objects: K8sObject[], deployment: K8sObject): Record<string, string> {
  const env: Record<string, string> = {};
  const container = deployment.spec.template.spec.containers[0];
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
    if (name && !map) throw new Error(`${deployment.metadata.name} reads ConfigMap ${name}, which the overlay does not render`);
    Object.assign(env, map?.data ?? {});
  }
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) env[entry.name] = entry.value;
    else if (entry.valueFrom?.secretKeyRef) env[entry.name] = secretStandIn(entry.valueFrom.secretKeyRef);
  }
  return env;
}

describeIfKubectl('the config each overlay gives a service is config that service accepts', () => {
  describe.each(overlays)('%s', (overlay) => {
    const objects = render(overlay);
    const deployment = (name: string) => {
      const found = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
      if (!found) throw new Error(`no ${name} Deployment in ${overlay}`);
      return found;
    };

    it('the gateway validates its config and listens where the Service sends traffic', () => {
      const env = containerEnv(objects, deployment('gateway'));
      const config = loadGatewayConfig({ env });
      expect(config.supergraph.listen).toEqual({ host: '0.0.0.0', port: 4000 });
      expect(Object.keys(config.override_subgraph_url).sort()).toEqual(['orders', 'products', 'users']);
      expect(config.authentication.router.jwt?.jwks[0]?.url).toMatch(/^https:\/\//);
      // The full readiness report and the cache invalidation on the admin port (the mesh opens it to products
      // for POST /invalidation only); the public /readyz says only what is up.
      expect(config.health_check.listen).toEqual({ host: '0.0.0.0', port: 8088 });
      // Only dev opts back in to introspection; NODE_ENV=production closes it everywhere else.
      expect([env.NODE_ENV, config.supergraph.introspection]).toEqual(['production', overlay === 'dev']);
    });

    it('the gateway runs the policy npm start runs: the same admission, authorization, deadline, retries, breakers, criticality and error masking', () => {
      const local = loadGatewayConfig({ file: PLATFORM_GATEWAY_CONFIG, env: {} });
      for (const name of ['gateway', 'gateway-canary']) {
        const deployed = loadGatewayConfig({ env: containerEnv(objects, deployment(name)) });
        const policy = (config: typeof local) => ({
          // Where the budgets are counted is the one difference: Redis behind the ingress's hop in a cluster, memory on a laptop.
          rate_limit: { ...config.rate_limit, store: undefined, redis: undefined, trusted_proxy_hops: undefined },
          demand_control: config.demand_control,
          // Telling a denied caller what it lacks follows NODE_ENV: on for a developer, off when deployed.
          authorization: { ...config.authorization, explain_denials: undefined },
          traffic_shaping: config.traffic_shaping,
          include_subgraph_errors: config.include_subgraph_errors,
          cache_control: config.cache_control,
          // The public contract on its own path, from the file the image carries.
          contracts: config.contracts,
          // The same response cache, shared in the cluster's Redis rather than one process's memory; its
          // invalidation is wired by env in both (npm start generates the token per run, see below).
          response_cache: { ...config.response_cache, store: undefined, redis: undefined, invalidation: undefined },
          // The same entity cache, likewise.
          entity_cache: { ...config.entity_cache, store: undefined, redis: undefined },
        });
        expect(policy(deployed)).toEqual(policy(local));
        expect(deployed.rate_limit).toMatchObject({ enabled: true, store: 'redis', trusted_proxy_hops: 1 });
        expect(local.rate_limit).toMatchObject({ enabled: true, store: 'memory', trusted_proxy_hops: 0 });
        expect(deployed.demand_control.mode).toBe('enforce');
        expect(deployed.contracts).toEqual({ public: { path: '/public/graphql', schema_path: 'gateway/contracts/public.graphql' } });
        expect(deployed.response_cache).toMatchObject({ enabled: true, store: 'redis', redis: { url: 'rediss://redis.internal:6379' } });
        expect(local.response_cache).toMatchObject({ enabled: true, store: 'memory' });
        expect(deployed.entity_cache).toMatchObject({ enabled: true, store: 'redis', redis: { url: 'rediss://redis.internal:6379' } });
        expect(local.entity_cache).toMatchObject({ enabled: true, store: 'memory' });
        expect([deployed.authorization.explain_denials, local.authorization.explain_denials]).toEqual([false, true]);
        expect(deployed.traffic_shaping.all).toMatchObject({ retry: { enabled: true }, circuit_breaker: { enabled: true } });
      }
    });

    it('the supergraph and contract files the gateway reads are ones its image carries (the Dockerfile copies them beside dist/)', () => {
      const config = loadGatewayConfig({ env: containerEnv(objects, deployment('gateway')) });
      const copied = /for f in ([^;]+); do/.exec(readFileSync(resolve(__dirname, '../../Dockerfile'), 'utf8'))![1]!.trim().split(/\s+/);
      const read = [config.supergraph.schema_path, ...Object.values(config.contracts).map((contract) => contract.schema_path)];
      expect(read).toEqual(['gateway/supergraph.graphql', 'gateway/contracts/public.graphql']);
      for (const path of read) expect(copied).toContain(path.split('/')[1]);
    });

    it('products invalidates cached products on the gateway\'s admin port, both holding the token of one Secret', () => {
      const products = containerEnv(objects, deployment('products'));
      const productsConfig = loadConfig(productsSubgraph.configSchema, { env: products, bindings: { ...subgraphEnvBindings('products'), ...productsSubgraph.envBindings } });
      const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'gateway')!;
      const adminPort = service.spec.ports.find((p: K8sObject) => p.name === 'http-admin');
      expect([productsConfig.cacheInvalidation.url, adminPort.port]).toEqual(['http://gateway.switchyard.svc.cluster.local:8088/invalidation', 8088]);
      for (const name of ['gateway', 'gateway-canary']) {
        const gateway = loadGatewayConfig({ env: containerEnv(objects, deployment(name)) });
        expect(gateway.response_cache.invalidation).toEqual({ enabled: true, path: '/invalidation', token: productsConfig.cacheInvalidation.token });
        expect(deployment(name).spec.template.spec.containers[0].ports).toContainEqual({ name: 'admin', containerPort: gateway.health_check.listen!.port });
      }
    });

    it('every gateway replica and the canary charge rate limits to one shared Redis from the gateway-redis Secret', () => {
      for (const name of ['gateway', 'gateway-canary']) {
        const container = deployment(name).spec.template.spec.containers[0];
        expect(container.env.find((e: K8sObject) => e.name === 'REDIS_URL')?.valueFrom).toEqual({ secretKeyRef: { name: 'gateway-redis', key: 'REDIS_URL' } });
        const config = loadGatewayConfig({ env: containerEnv(objects, deployment(name)) });
        expect(config.rate_limit).toMatchObject({ enabled: true, store: 'redis', redis: { url: 'rediss://redis.internal:6379' } });
      }
    });

    it.each([
      { subgraph: usersSubgraph as SubgraphDefinition<any, unknown>, port: 4001 },
      { subgraph: productsSubgraph as SubgraphDefinition<any, unknown>, port: 4002 },
      { subgraph: ordersSubgraph as SubgraphDefinition<any, unknown>, port: 4003 },
    ])('$subgraph.name validates its config, uses PostgreSQL and does not seed demo data', ({ subgraph, port }) => {
      const env = containerEnv(objects, deployment(subgraph.name));
      const config = loadConfig(subgraph.configSchema, { env, bindings: { ...subgraphEnvBindings(subgraph.name), ...subgraph.envBindings } });
      expect(config.server.port).toBe(port);
      expect(config.database.url).toMatch(/^postgres/);
      if (overlay !== 'dev') expect(config.seed).toBe(false);
    });

    it.each(['gateway', 'users', 'products', 'orders'])('%s exports its spans as OTLP/HTTP protobuf to the mesh collector', (name) => {
      const env = containerEnv(objects, deployment(name));
      expect(traceExportFromEnv(env)).toEqual({ otlp: 'http/protobuf' });
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector.observability.svc.cluster.local:4318');
    });
  });
});
