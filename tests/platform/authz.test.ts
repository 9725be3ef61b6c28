/**
 * The AuthorizationPolicies, evaluated like Istio does, grant exactly the
 * access in mesh/intended-access.json - nothing more, nothing less.
 */
import {
  byKind,
  describeIfKubectl,
  evaluateMatrix,
  expandIntended,
  fixture,
  intendedAccess,
  K8sObject,
  overlays,
  podLabelSets,
  render,
} from './helpers';

const access = intendedAccess();

function allowedFor(objs: K8sObject[]): string[] {
  return evaluateMatrix(objs, access);
}
const callersOf = (allowed: string[], workload: string): string[] =>
  [...new Set(allowed.filter((k) => k.split(' -> ')[1].startsWith(`${workload}:`)).map((k) => k.split(' -> ')[0]))].sort();

describeIfKubectl.each(overlays)('authorization matrix in %s', (overlay) => {
  // Rendered in beforeAll, not at collection time, so a skipped suite never runs kubectl.
  let objs: K8sObject[] = [];
  let allowed: string[] = [];
  const present = (w: string): boolean => {
    const spec = access.workloads[w];
    return podLabelSets(objs, spec.namespace, spec.labels).length > 0;
  };
  beforeAll(() => {
    objs = render(overlay);
    allowed = allowedFor(objs);
  });

  it('renders every workload the table expects in this environment', () => {
    const missing = Object.entries(access.workloads)
      .filter(([, w]) => !w.overlays || w.overlays.includes(overlay))
      .map(([name]) => name)
      .filter((name) => !present(name));
    expect(missing).toEqual([]);
  });

  it('allows exactly the intended table (mesh/intended-access.json)', () => {
    expect(allowed).toEqual(expandIntended(access, present));
  });

  it('nobody but the gateway may call orders', () => {
    expect(callersOf(allowed, 'orders').filter((c) => c !== 'prometheus')).toEqual(['gateway']);
  });

  it('nobody but the gateway and orders may call products', () => {
    expect(callersOf(allowed, 'products').filter((c) => c !== 'prometheus')).toEqual(['gateway', 'orders']);
  });

  it('orders reaches products only on the three reservation endpoints', () => {
    expect(allowed.filter((k) => k.startsWith('orders -> products:'))).toEqual([
      'orders -> products:4002 POST /internal/reservations',
      'orders -> products:4002 POST /internal/reservations/confirm',
      'orders -> products:4002 POST /internal/reservations/release',
    ]);
  });

  it('products reaches the gateway only to invalidate cached products: POST /invalidation on the admin port', () => {
    expect(allowed.filter((k) => k.startsWith('products -> gateway:'))).toEqual(['products -> gateway:8088 POST /invalidation']);
  });

  it('nobody but the ingress, Prometheus and products may call the gateway, and only products its admin port', () => {
    expect(callersOf(allowed, 'gateway')).toEqual(['ingress', 'products', 'prometheus']);
    expect(allowed.filter((k) => k.includes(' -> gateway:8088 '))).toEqual(['products -> gateway:8088 POST /invalidation']);
  });

  it('the ingress gateway reaches only /graphql and the public contract\'s /public/graphql on the gateway', () => {
    expect(allowed.filter((k) => k.startsWith('ingress -> ') && !k.includes('otel-collector'))).toEqual([
      'ingress -> gateway:4000 GET /graphql',
      'ingress -> gateway:4000 GET /public/graphql',
      'ingress -> gateway:4000 OPTIONS /graphql',
      'ingress -> gateway:4000 OPTIONS /public/graphql',
      'ingress -> gateway:4000 POST /graphql',
      'ingress -> gateway:4000 POST /public/graphql',
    ]);
  });

  it('Prometheus may GET /metrics on every service and nothing else', () => {
    expect(allowed.filter((k) => k.startsWith('prometheus -> '))).toEqual([
      'prometheus -> gateway:4000 GET /metrics',
      'prometheus -> orders:4003 GET /metrics',
      'prometheus -> products:4002 GET /metrics',
      'prometheus -> users:4001 GET /metrics',
    ]);
  });

  it('a caller without a sidecar (no mTLS) is refused everywhere', () => {
    expect(allowed.filter((k) => k.startsWith('anonymous -> '))).toEqual([]);
  });

  it('a foreign service account, or the namespace default one, is refused everywhere', () => {
    expect(allowed.filter((k) => k.startsWith('foreign -> ') || k.startsWith('namespace-default -> '))).toEqual([]);
  });

  it('health and readiness endpoints are never reachable through the mesh', () => {
    expect(allowed.filter((k) => / \/(healthz|readyz)$/.test(k))).toEqual([]);
  });

  it('ALLOW rules use only positive matches and never a wildcard principal', () => {
    const offending: string[] = [];
    for (const p of byKind(objs, 'AuthorizationPolicy')) {
      if ((p.spec?.action ?? 'ALLOW') !== 'ALLOW') continue;
      const text = JSON.stringify(p.spec?.rules ?? []);
      if (/"not[A-Z]/.test(text)) offending.push(`${p.metadata.name}: negative match in ALLOW`);
      for (const r of p.spec?.rules ?? []) {
        for (const f of r.from ?? []) {
          if ((f.source?.principals ?? []).some((x: string) => x.includes('*'))) offending.push(`${p.metadata.name}: wildcard principal`);
        }
      }
    }
    expect(offending).toEqual([]);
  });

  it('ships allow-nothing for each mesh namespace together with the allows', () => {
    const allowNothing = byKind(objs, 'AuthorizationPolicy').filter(
      (p) => p.spec && Object.keys(p.spec).length === 0,
    );
    expect(allowNothing.map((p) => p.metadata.namespace).sort()).toEqual(['observability', 'switchyard']);
    expect(allowed).toContain('ingress -> gateway:4000 POST /graphql');
  });
});

describeIfKubectl('the matrix check can fail', () => {
  it('catches a policy that opens orders to everyone', () => {
    const objs = [...render('dev'), ...fixture('authorization-orders-open.yaml')];
    const allowed = allowedFor(objs);
    expect(allowed).not.toEqual(expandIntended(access, () => true));
    expect(allowed).toContain('foreign -> orders:4003 POST /graphql');
    expect(callersOf(allowed, 'orders')).toContain('users');
  });
});
