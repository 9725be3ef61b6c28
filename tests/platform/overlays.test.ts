/**
 * dev, staging and prod are the same platform: once the fields that are
 * allowed to vary are blanked, the rendered objects must be identical.
 */
import { describeIfKubectl, id, K8sObject, Overlay, render } from './helpers';

const BLANK = '<varies>';

/** Objects that exist only because of the per-environment datastore choice. */
function isDatastore(o: K8sObject): boolean {
  const app = o.metadata?.labels?.app ?? o.spec?.selector?.matchLabels?.app;
  if (['postgres', 'redis'].includes(app) || ['postgres', 'redis'].includes(o.metadata?.name)) return true;
  if (o.kind === 'ConfigMap' && o.metadata.name.startsWith('postgres-init')) return true;
  if (o.kind === 'AuthorizationPolicy' && /^(postgres|redis)-clients$/.test(o.metadata.name)) return true;
  return o.kind === 'ServiceEntry' && ['rds-postgres', 'elasticache-redis'].includes(o.metadata.name);
}

/** Blanks exactly the fields overlays may change: replicas, resources, images, config data, weights, hosts, sampling, identity URLs. */
function normalise(objs: K8sObject[]): Map<string, K8sObject> {
  const hashed = new Map<string, string>();
  for (const o of objs) {
    const m = o.kind === 'ConfigMap' && /^(.*)-[a-z0-9]{10}$/.exec(o.metadata.name);
    if (m) hashed.set(o.metadata.name, m[1]);
  }
  const out = new Map<string, K8sObject>();
  for (const original of objs.filter((o) => !isDatastore(o))) {
    // Generated ConfigMap names carry a content hash: compare by base name.
    const o = JSON.parse(JSON.stringify(original), (_k, v) => (typeof v === 'string' && hashed.has(v) ? hashed.get(v) : v)) as K8sObject;
    const spec = o.spec ?? {};
    switch (o.kind) {
      case 'Deployment':
      case 'StatefulSet':
        if ('replicas' in spec) spec.replicas = BLANK;
        for (const c of spec.template.spec.containers) {
          c.image = BLANK;
          c.resources = BLANK;
        }
        break;
      case 'HorizontalPodAutoscaler':
        spec.minReplicas = BLANK;
        spec.maxReplicas = BLANK;
        break;
      case 'ConfigMap':
        for (const k of Object.keys(o.data ?? {})) o.data[k] = BLANK;
        break;
      case 'Gateway':
        for (const s of spec.servers) s.hosts = BLANK;
        break;
      case 'VirtualService':
        if (spec.gateways) spec.hosts = BLANK;
        for (const r of spec.http) for (const d of r.route) if ('weight' in d) d.weight = BLANK;
        break;
      case 'AuthorizationPolicy':
        for (const r of spec.rules ?? []) for (const t of r.to ?? []) if (t.operation?.hosts) t.operation.hosts = BLANK;
        break;
      case 'Telemetry':
        for (const t of spec.tracing ?? []) t.randomSamplingPercentage = BLANK;
        break;
      case 'RequestAuthentication':
        for (const r of spec.jwtRules) {
          r.issuer = BLANK;
          r.jwksUri = BLANK;
        }
        break;
    }
    out.set(id(o), o);
  }
  return out;
}

function differences(a: Overlay, b: Overlay): string[] {
  const left = normalise(render(a));
  const right = normalise(render(b));
  const diffs: string[] = [];
  for (const k of new Set([...left.keys(), ...right.keys()])) {
    if (!left.has(k)) diffs.push(`${k}: only in ${b}`);
    else if (!right.has(k)) diffs.push(`${k}: only in ${a}`);
    else if (JSON.stringify(left.get(k)) !== JSON.stringify(right.get(k))) diffs.push(`${k}: differs beyond the allowed fields`);
  }
  return diffs.sort();
}

describeIfKubectl('overlays differ only in data', () => {
  it('staging and prod are structurally identical', () => {
    expect(differences('staging', 'prod')).toEqual([]);
  });

  it('dev differs from staging only by its in-cluster datastores', () => {
    expect(differences('dev', 'staging')).toEqual([]);
  });

  it('dev alone runs in-cluster PostgreSQL and Redis; staging/prod route to AWS endpoints', () => {
    const kinds = (o: Overlay): string[] => render(o).filter(isDatastore).map((x) => `${x.kind}/${x.metadata.name}`).sort();
    expect(kinds('dev')).toEqual(expect.arrayContaining(['StatefulSet/postgres', 'StatefulSet/redis']));
    for (const env of ['staging', 'prod'] as const) {
      expect(kinds(env)).toEqual(['ServiceEntry/elasticache-redis', 'ServiceEntry/rds-postgres']);
    }
  });

  it('the normaliser notices a structural change', () => {
    const prod = render('prod');
    const tampered = prod.map((o) =>
      o.kind === 'Deployment' && o.metadata.name === 'orders'
        ? { ...o, spec: { ...o.spec, template: { ...o.spec.template, spec: { ...o.spec.template.spec, hostNetwork: true } } } }
        : o,
    );
    const a = normalise(prod);
    const b = normalise(tampered);
    const key = 'Deployment switchyard/orders';
    expect(JSON.stringify(a.get(key))).not.toEqual(JSON.stringify(b.get(key)));
  });
});
