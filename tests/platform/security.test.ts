/**
 * Security and operability properties of each rendered overlay: mTLS
 * everywhere, hardened pods, disruption/scaling objects, a closed edge.
 */
import {
  byKind,
  describeIfKubectl,
  edgeAdmits,
  find,
  fixture,
  id,
  K8sObject,
  mtlsMode,
  overlays,
  podViolations,
  render,
  workloads,
} from './helpers';
import { loadGatewayConfig } from '../../gateway/src/config';
import { ordersConfigSchema } from '../../subgraphs/orders/src/main';

const services = ['gateway', 'users', 'products', 'orders'];
const meshNamespaces = ['switchyard', 'observability'];

describeIfKubectl.each(overlays)('overlay %s', (overlay) => {
  // Rendered in beforeAll, not at collection time, so a skipped suite never runs kubectl.
  let objs: K8sObject[] = [];
  beforeAll(() => {
    objs = render(overlay);
  });
  const pinned = overlay !== 'dev';

  describe('mutual TLS', () => {
    it('is STRICT mesh-wide and in every Switchyard namespace', () => {
      const mode = (ns: string): unknown =>
        byKind(objs, 'PeerAuthentication').find((p) => p.metadata.namespace === ns && !p.spec?.selector)?.spec?.mtls?.mode;
      expect(mode('istio-system')).toBe('STRICT');
      for (const ns of meshNamespaces) expect(mode(ns)).toBe('STRICT');
    });

    it('has no port-level or workload exception that relaxes it', () => {
      const relaxed = byKind(objs, 'PeerAuthentication').flatMap((p) => [
        ...(['PERMISSIVE', 'DISABLE'].includes(p.spec?.mtls?.mode) ? [`${p.metadata.name}: ${p.spec.mtls.mode}`] : []),
        ...Object.entries((p.spec?.portLevelMtls ?? {}) as Record<string, { mode?: string }>)
          .filter(([, v]) => v.mode !== 'STRICT')
          .map(([port, v]) => `${p.metadata.namespace}/${p.metadata.name} port ${port}: ${v.mode}`),
      ]);
      expect(relaxed).toEqual([]);
    });

    it('leaves no Service port reachable without mTLS', () => {
      const open: string[] = [];
      for (const svc of byKind(objs, 'Service').filter((s) => meshNamespaces.includes(s.metadata.namespace))) {
        for (const port of svc.spec.ports ?? []) {
          const target = typeof port.targetPort === 'number' ? port.targetPort : port.port;
          const mode = mtlsMode(objs, svc.metadata.namespace, svc.spec.selector ?? {}, target);
          if (mode !== 'STRICT') open.push(`${svc.metadata.name}:${port.port} is ${mode}`);
        }
      }
      expect(open).toEqual([]);
    });

    it('every DestinationRule originates Istio mTLS', () => {
      const notMutual = byKind(objs, 'DestinationRule').flatMap((dr) => {
        // The top-level policy must say ISTIO_MUTUAL; port/subset overrides may only repeat it.
        const overrides = [
          ...(dr.spec?.trafficPolicy?.portLevelSettings ?? []),
          ...(dr.spec?.subsets ?? []).map((s: K8sObject) => s.trafficPolicy ?? {}),
        ].filter((p: K8sObject) => p.tls !== undefined);
        return [dr.spec?.trafficPolicy ?? {}, ...overrides]
          .filter((p: K8sObject) => p.tls?.mode !== 'ISTIO_MUTUAL')
          .map(() => dr.metadata.name);
      });
      expect(notMutual).toEqual([]);
      expect(byKind(objs, 'DestinationRule').map((d) => d.metadata.name).sort()).toEqual(
        ['gateway', 'orders', 'otel-collector', 'products', 'users'],
      );
    });

    it('gives the gateway stable and canary subsets keyed on the version label', () => {
      const subsets = find(objs, 'DestinationRule', 'gateway')?.spec?.subsets;
      expect(subsets).toEqual([
        { name: 'stable', labels: { version: 'stable' } },
        { name: 'canary', labels: { version: 'canary' } },
      ]);
    });
  });

  describe('pods', () => {
    it('run non-root, read-only, capability-free, with limits and all three probes', () => {
      expect(workloads(objs).flatMap((w) => podViolations(w, pinned))).toEqual([]);
    });

    it(pinned ? 'pin every image by digest' : 'use no :latest image', () => {
      const images = workloads(objs).flatMap((w) => w.spec.template.spec.containers.map((c: K8sObject) => c.image as string));
      expect(images.length).toBeGreaterThan(5);
      for (const image of images) {
        expect(image).not.toMatch(/:latest/);
        if (pinned) expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
      }
    });

    it('outlive the graceful drain: termination grace > preStop + SHUTDOWN_DRAIN_MS', () => {
      const config = byKind(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('gateway-config'));
      const drainSeconds = Number(config?.data?.SHUTDOWN_DRAIN_MS) / 1000;
      expect(drainSeconds).toBeGreaterThan(0);
      for (const name of [...services, 'gateway-canary']) {
        const spec = find(objs, 'Deployment', name)?.spec.template.spec;
        const preStop = spec.containers[0].lifecycle?.preStop?.sleep?.seconds ?? 0;
        expect(preStop).toBeGreaterThan(0);
        expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(preStop + drainSeconds);
      }
    });

    it('run under their own service account', () => {
      for (const name of services) {
        expect(find(objs, 'Deployment', name)?.spec.template.spec.serviceAccountName).toBe(name);
        expect(find(objs, 'ServiceAccount', name, 'switchyard')?.automountServiceAccountToken).toBe(false);
      }
    });
  });

  describe('availability', () => {
    it.each(services)('%s has a PodDisruptionBudget and a CPU HorizontalPodAutoscaler', (name) => {
      const deployment = find(objs, 'Deployment', name, 'switchyard');
      const pdb = find(objs, 'PodDisruptionBudget', name, 'switchyard');
      const hpa = find(objs, 'HorizontalPodAutoscaler', name, 'switchyard');
      expect(deployment && pdb && hpa).toBeTruthy();
      const podLabels = deployment?.spec.template.metadata.labels;
      expect(Object.entries(pdb?.spec.selector.matchLabels).every(([k, v]) => podLabels[k] === v)).toBe(true);
      expect(hpa?.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(hpa?.spec.metrics[0].containerResource).toMatchObject({ name: 'cpu', container: name });
      expect(hpa?.spec.minReplicas).toBeLessThanOrEqual(hpa?.spec.maxReplicas);
    });
  });

  describe('namespace and network', () => {
    it('labels the namespace for sidecar injection and Pod Security "restricted"', () => {
      for (const ns of meshNamespaces) {
        expect(find(objs, 'Namespace', ns)?.metadata.labels).toMatchObject({
          'istio-injection': 'enabled',
          'pod-security.kubernetes.io/enforce': 'restricted',
        });
      }
    });

    it('denies all ingress and egress by default in the switchyard namespace', () => {
      expect(find(objs, 'NetworkPolicy', 'default-deny', 'switchyard')?.spec).toEqual({
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
      });
    });

    it('names Service ports by protocol for Istio (http-/grpc-/tcp-/tls- plus appProtocol)', () => {
      const bad = byKind(objs, 'Service').flatMap((s) =>
        (s.spec.ports ?? [])
          .filter((p: K8sObject) => !/^(http|grpc|tcp|tls)-/.test(p.name) || !p.appProtocol)
          .map((p: K8sObject) => `${s.metadata.name}:${p.name}`),
      );
      expect(bad).toEqual([]);
    });
  });

  describe('edge', () => {
    it('serves HTTPS only (TLS 1.2+), redirects port 80, and names a specific host', () => {
      const gw = find(objs, 'Gateway', 'switchyard', 'istio-ingress');
      const [http, https] = gw?.spec.servers;
      expect(http.tls).toEqual({ httpsRedirect: true });
      expect(https.port.protocol).toBe('HTTPS');
      expect(https.tls).toMatchObject({ mode: 'SIMPLE', credentialName: expect.any(String), minProtocolVersion: 'TLSV1_2' });
      for (const s of gw?.spec.servers) for (const h of s.hosts) expect(h).not.toContain('*');
      expect(find(objs, 'VirtualService', 'gateway')?.spec.hosts).toEqual(https.hosts);
    });

    it('routes the canary override header first, then splits stable/canary by weights summing to 100', () => {
      const http = find(objs, 'VirtualService', 'gateway')?.spec.http;
      expect(http.slice(0, 2).every((r: K8sObject) => r.match[0].headers['x-switchyard-canary'].exact === 'always')).toBe(true);
      // Every route serves the full graph and the public contract, nothing else.
      for (const r of http) expect(r.match.map((m: K8sObject) => m.uri)).toEqual([{ exact: '/graphql' }, { exact: '/public/graphql' }]);
      for (const r of http.slice(2)) {
        expect(r.route.map((d: K8sObject) => d.destination.subset)).toEqual(['stable', 'canary']);
        expect(r.route.reduce((n: number, d: K8sObject) => n + d.weight, 0)).toBe(100);
      }
    });

    describe('who retries: Envoy only what never reached a pod, the gateway the rest within its budget', () => {
      const seconds = (duration: string) => {
        const match = /^(\d+(?:\.\d+)?)s$/.exec(duration);
        if (!match) throw new Error(`not a duration in seconds: ${duration}`);
        return Number(match[1]) * 1000;
      };
      const routes = () =>
        byKind(objs, 'VirtualService').flatMap((vs) => vs.spec.http.map((r: K8sObject) => ({ ...r, name: `${vs.metadata.name}/${r.name}` })));
      /** The gateway's traffic shaping as the rendered ConfigMap sets it. */
      const gatewayShaping = () => {
        const env = byKind(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('gateway-config'))?.data;
        const names = ['REQUEST_TIMEOUT', 'SUBGRAPH_TIMEOUT', 'SUBGRAPH_RETRY', 'CIRCUIT_BREAKER'];
        return loadGatewayConfig({ env: Object.fromEntries(names.map((n) => [n, env[n]])) }).traffic_shaping;
      };

      it('every route, at the edge and between services, retries on connect-failure and refused-stream only', () => {
        expect(routes().map((r) => r.name)).toEqual(
          expect.arrayContaining(['gateway/graphql', 'gateway/graphql-get', 'users/default', 'products/default', 'orders/default']),
        );
        for (const r of routes()) {
          expect([r.name, r.retries?.retryOn.split(',').sort()]).toEqual([r.name, ['connect-failure', 'refused-stream']]);
        }
      });

      it("every route's timeout and per-try timeout lie above the gateway's request deadline, so the app times out first", () => {
        const shaping = gatewayShaping();
        expect([shaping.router.timeout, shaping.all.timeout]).toEqual([15_000, 5_000]);
        // orders gives its own calls to products (through products/default) less than that, too.
        expect(ordersConfigSchema.shape.products.parse(undefined).timeoutMs).toBeLessThan(shaping.router.timeout);
        for (const r of routes()) {
          expect([r.name, seconds(r.retries.perTryTimeout) > shaping.router.timeout]).toEqual([r.name, true]);
          expect([r.name, seconds(r.timeout) >= seconds(r.retries.perTryTimeout)]).toEqual([r.name, true]);
        }
      });

      it('the gateway retries queries (never mutations) within a budget', () => {
        expect(gatewayShaping().all.retry).toMatchObject({ enabled: true, retry_mutations: false, budget: { ratio: 0.2 } });
      });
    });

    it('verifies JWTs at the ingress with the same issuer, JWKS and audience as the gateway', () => {
      const config = byKind(objs, 'ConfigMap').find((c) => c.metadata.name.startsWith('gateway-config'))?.data;
      const ra = find(objs, 'RequestAuthentication', 'switchyard-jwt', 'istio-ingress');
      expect(ra?.spec.selector.matchLabels).toEqual({ istio: 'ingressgateway' });
      expect(ra?.spec.jwtRules).toEqual([
        { issuer: config.JWT_ISSUER, jwksUri: config.JWT_JWKS_URL, audiences: [config.JWT_AUDIENCE], forwardOriginalToken: true },
      ]);
    });

    it('lets machine clients with an x-api-key and no Authorization through to the gateway, and still stops unverified credentials', () => {
      const host = byKind(objs, 'Gateway').find((g) => g.metadata.name === 'switchyard')?.spec.servers[0].hosts[0];
      // The full graph and the public contract alike.
      for (const path of ['/graphql', '/public/graphql']) {
        const graphql = { port: 443, method: 'POST', path, host };
        expect(edgeAdmits(objs, { ...graphql, headers: { 'x-api-key': 'sy_key' } })).toBe(true);
        expect(edgeAdmits(objs, { ...graphql, headers: {} })).toBe(true);
        expect(edgeAdmits(objs, { ...graphql, headers: { authorization: 'Bearer valid' }, bearerValid: true })).toBe(true);
        // The gateway refuses both together (400); the edge may pass them, with a verified token only.
        expect(edgeAdmits(objs, { ...graphql, headers: { authorization: 'Bearer forged', 'x-api-key': 'sy_key' } })).toBe(false);
        expect(edgeAdmits(objs, { ...graphql, headers: { authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': 'sy_key' } })).toBe(false);
      }
      expect(edgeAdmits(objs, { port: 443, method: 'POST', path: '/readyz', host, headers: { 'x-api-key': 'sy_key' } })).toBe(false);
      expect(edgeAdmits(objs, { port: 443, method: 'POST', path: '/public/readyz', host, headers: {} })).toBe(false);
    });

    it('samples traces to the otel-tracing provider and writes Envoy access logs', () => {
      const t = find(objs, 'Telemetry', 'mesh-default', 'istio-system');
      expect(t?.spec.tracing[0].providers).toEqual([{ name: 'otel-tracing' }]);
      expect(t?.spec.tracing[0].randomSamplingPercentage).toBeGreaterThan(0);
      expect(t?.spec.accessLogging[0].providers).toEqual([{ name: 'envoy' }]);
    });
  });
});

describe('the hardening check can fail', () => {
  it('rejects a Deployment without a readiness probe', () => {
    const [deployment] = fixture('deployment-missing-probe.yaml');
    expect(podViolations(deployment, true)).toEqual([`${id(deployment)} container orders: missing readinessProbe`]);
  });
});
