/**
 * Static guarantees of the AWS infrastructure, read from the HCL itself
 * (terraform init is not possible offline, so plan-time checks are out).
 * Layout: one root, terraform/platform, composes the modules; each
 * terraform/environments/<env> holds only data (terraform.tfvars, backend.hcl).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { describeIfTool, intendedAccess, K8sObject, repoRoot } from './helpers';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const hcl2json = require('@cdktf/hcl2json') as { parse(file: string, content: string): Promise<K8sObject> };

const tfRoot = path.join(repoRoot, 'terraform');
const platformDir = path.join(tfRoot, 'platform');
const environmentsDir = path.join(tfRoot, 'environments');
const envs = ['dev', 'prod', 'staging'];
const allModules = ['ecr', 'eks', 'elasticache', 'istio', 'rds', 'vpc'];

function tfFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return entry === '.terraform' ? [] : tfFiles(full);
    return entry.endsWith('.tf') ? [full] : [];
  });
}

interface Block {
  dir: string;
  name: string;
  body: K8sObject;
}

const parseHcl = async (file: string): Promise<K8sObject> => hcl2json.parse(path.basename(file), readFileSync(file, 'utf8'));

let parsed: Array<{ file: string; json: K8sObject }> = [];
/** Per environment: its terraform.tfvars and backend.hcl, as attribute maps. */
const envData: Record<string, { tfvars: K8sObject; backend: K8sObject }> = {};

beforeAll(async () => {
  parsed = await Promise.all(tfFiles(tfRoot).map(async (file) => ({ file, json: await parseHcl(file) })));
  for (const env of envs) {
    const dir = path.join(environmentsDir, env);
    envData[env] = {
      tfvars: await parseHcl(path.join(dir, 'terraform.tfvars')),
      backend: await parseHcl(path.join(dir, 'backend.hcl')),
    };
  }
});

function blocks(section: 'resource' | 'variable' | 'module' | 'output' | 'terraform', type?: string): Block[] {
  const out: Block[] = [];
  for (const { file, json } of parsed) {
    const group = type ? json[section]?.[type] : json[section];
    if (!group) continue;
    if (section === 'terraform') {
      for (const body of group) out.push({ dir: path.dirname(file), name: 'terraform', body });
      continue;
    }
    for (const [name, bodies] of Object.entries(group as Record<string, K8sObject[]>)) {
      for (const body of bodies) out.push({ dir: path.dirname(file), name, body });
    }
  }
  return out;
}

const resources = (type: string): Block[] => blocks('resource', type);
const rel = (b: Block): string => `${path.relative(tfRoot, b.dir)}:${b.name}`;

/** All `locals` of one directory (module or root), merged. */
function locals(dir: string): K8sObject {
  return Object.assign({}, ...parsed.filter((p) => path.dirname(p.file) === dir).flatMap((p) => p.json.locals ?? []));
}

/** `${each.key}` and `${each.value.attr}` replaced by one for_each entry's values. */
function substitute(value: unknown, key: string, entry: K8sObject): unknown {
  if (Array.isArray(value)) return value.map((v) => substitute(v, key, entry));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, key, entry)]));
  }
  if (value === '${each.key}') return key;
  const attr = typeof value === 'string' ? /^\$\{each\.value\.(\w+)\}$/.exec(value) : null;
  return attr ? entry[attr[1]] : value;
}

/**
 * Resource blocks, with a `for_each` over a local map expanded into one block
 * per key (named `name["key"]`), so a rule table is checked entry by entry.
 */
function instances(type: string): Block[] {
  return resources(type).flatMap((b) => {
    const local = typeof b.body.for_each === 'string' ? /^\$\{local\.(\w+)\}$/.exec(b.body.for_each) : null;
    if (!local) return [b];
    const map = locals(b.dir)[local[1]] as Record<string, K8sObject> | undefined;
    if (!map) throw new Error(`${rel(b)}: for_each over unknown local.${local[1]}`);
    return Object.entries(map).map(([key, entry]) => ({
      dir: b.dir,
      name: `${b.name}["${key}"]`,
      body: substitute(b.body, key, entry) as K8sObject,
    }));
  });
}

const ingressRules = (): Block[] => [
  ...instances('aws_vpc_security_group_ingress_rule'),
  ...instances('aws_security_group_rule'),
];

/** Literal value, or the default of the module variable it references. */
function resolve(b: Block, value: unknown): unknown {
  const m = typeof value === 'string' ? /^\$\{var\.(\w+)\}$/.exec(value) : null;
  if (!m) return value;
  return blocks('variable').find((v) => v.dir === b.dir && v.name === m[1])?.body.default;
}

describe('terraform: data stores', () => {
  it('RDS is encrypted, private, in a DB subnet group, backed up >= 7 days', () => {
    const dbs = resources('aws_db_instance');
    expect(dbs.length).toBeGreaterThan(0);
    for (const db of dbs) {
      expect([rel(db), db.body.storage_encrypted]).toEqual([rel(db), true]);
      expect([rel(db), db.body.publicly_accessible]).toEqual([rel(db), false]);
      expect(db.body.db_subnet_group_name).toMatch(/aws_db_subnet_group\./);
      expect(Number(resolve(db, db.body.backup_retention_period))).toBeGreaterThanOrEqual(7);
      const validation = blocks('variable').find((v) => v.dir === db.dir && v.name === 'backup_retention_period')?.body.validation;
      expect(JSON.stringify(validation)).toContain('>= 7');
    }
  });

  it.each(envs)('%s keeps >= 7 days of RDS backups', (env) => {
    expect(envData[env].tfvars.rds_backup_retention_period).toBeGreaterThanOrEqual(7);
  });

  it.each(['staging', 'prod'])('%s keeps RDS deletion protection', (env) => {
    expect(envData[env].tfvars.rds_deletion_protection).toBe(true);
  });

  it('Redis encrypts in transit and at rest and requires a sensitive AUTH token', () => {
    const groups = resources('aws_elasticache_replication_group');
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) {
      expect(g.body.transit_encryption_enabled).toBe(true);
      expect(g.body.at_rest_encryption_enabled).toBe(true);
      const token = /^\$\{var\.(\w+)\}$/.exec(g.body.auth_token)?.[1];
      expect(token).toBeDefined();
      expect(blocks('variable').find((v) => v.dir === g.dir && v.name === token)?.body.sensitive).toBe(true);
    }
  });

  it.each([
    ['rds', 5432],
    ['elasticache', 6379],
  ])('%s accepts its port only from the node security group', (module, port) => {
    const rules = ingressRules().filter((r) => r.dir.endsWith(`modules/${module}`));
    expect(rules.map((r) => [r.body.from_port, r.body.to_port, r.body.referenced_security_group_id])).toEqual([
      [port, port, '${var.node_security_group_id}'],
    ]);
  });
});

describe('terraform: cluster and registry', () => {
  it('ECR scans on push and has immutable tags', () => {
    const repos = resources('aws_ecr_repository');
    expect(repos.length).toBeGreaterThan(0);
    for (const r of repos) {
      expect(r.body.image_tag_mutability).toBe('IMMUTABLE');
      expect(r.body.image_scanning_configuration[0].scan_on_push).toBe(true);
    }
  });

  it.each([15017, 15012])('nodes accept istiod port %i from the EKS cluster security group', (port) => {
    const rule = ingressRules().find((r) => r.body.from_port === port && r.body.to_port === port);
    expect(rule).toBeDefined();
    const source = rule?.body.referenced_security_group_id ?? rule?.body.source_security_group_id;
    expect(source).toMatch(/cluster_security_group_id/);
    expect(rule?.body.security_group_id).toMatch(/aws_security_group\.node\.id/);
  });

  it('EKS envelope-encrypts Secrets with KMS and offers a private-only endpoint', () => {
    const [cluster] = resources('aws_eks_cluster');
    expect(cluster.body.encryption_config[0].resources).toEqual(['secrets']);
    expect(cluster.body.encryption_config[0].provider[0].key_arn).toMatch(/aws_kms_key\./);
    expect(cluster.body.vpc_config[0].endpoint_private_access).toBe(true);
    expect(cluster.body.vpc_config[0].endpoint_public_access).toBe('${var.endpoint_public_access}');
    expect(resources('aws_iam_openid_connect_provider')).toHaveLength(1);
    expect(resources('aws_eks_node_group').length).toBeGreaterThan(0);
  });

  it('the single platform root pins its providers, keeps a partial S3 backend and calls every module once', () => {
    const [tf, ...more] = blocks('terraform').filter((b) => b.dir === platformDir);
    expect(more).toHaveLength(0);
    expect(tf.body.required_version).toMatch(/\d/);
    const pinned = Object.fromEntries(
      (tf.body.required_providers ?? [])
        .flatMap((p: K8sObject) => Object.entries(p))
        .map(([k, v]: [string, K8sObject]) => [k, v.version]),
    );
    expect(Object.keys(pinned).sort()).toEqual(['aws', 'helm', 'tls']);
    for (const v of Object.values(pinned)) expect(v).toMatch(/\d/);
    // No state location in code: every environment brings its own (backend.hcl).
    expect(tf.body.backend).toEqual({ s3: [{}] });
    const calls = blocks('module').filter((b) => b.dir === platformDir);
    expect(calls.map((b) => [b.name, b.body.source]).sort()).toEqual(allModules.map((m) => [m, `../modules/${m}`]));
    expect(readdirSync(path.join(tfRoot, 'modules')).sort()).toEqual(allModules);
  });
});

describe('terraform: environments differ only in data', () => {
  it('there is one environment directory per overlay and no other root', () => {
    expect(readdirSync(environmentsDir).sort()).toEqual(envs);
    const roots = [...new Set([...blocks('module'), ...blocks('terraform').filter((b) => b.body.backend)].map((b) => b.dir))];
    expect(roots).toEqual([platformDir]);
  });

  it.each(envs)('%s holds only terraform.tfvars and backend.hcl', (env) => {
    const files = readdirSync(path.join(environmentsDir, env)).filter((f) => !f.startsWith('.'));
    expect(files.sort()).toEqual(['backend.hcl', 'terraform.tfvars']);
  });

  it.each(envs)('%s sets every required platform variable, nothing undeclared, and no secret', (env) => {
    const { tfvars } = envData[env];
    const declared = blocks('variable').filter((v) => v.dir === platformDir);
    const required = declared.filter((v) => !('default' in v.body) && !v.body.sensitive).map((v) => v.name);
    const secrets = declared.filter((v) => v.body.sensitive).map((v) => v.name);
    expect(secrets).toContain('redis_auth_token');
    expect(Object.keys(tfvars).sort()).toEqual(required.sort());
    expect(tfvars.environment).toBe(env);
  });

  it('each environment keeps its state under its own key, with locking', () => {
    const backends = envs.map((env) => envData[env].backend);
    expect(backends.map((b) => b.key)).toEqual(envs.map((env) => `switchyard/${env}.tfstate`));
    for (const b of backends) expect(b.use_lockfile).toBe(true);
  });

  it('a state is bound to its environment: planning another environment against it fails', () => {
    const guard = resources('terraform_data').filter((b) => b.dir === platformDir && b.name === 'environment');
    expect(guard).toHaveLength(1);
    expect(guard[0].body.triggers_replace).toBe('${var.environment}');
    expect(guard[0].body.lifecycle[0].prevent_destroy).toBe(true);
  });

  it('k8s/scripts/sync-terraform-outputs.sh runs the platform root and reads only outputs it declares', () => {
    const script = readFileSync(path.join(repoRoot, 'k8s/scripts/sync-terraform-outputs.sh'), 'utf8');
    expect(script).toContain('terraform/platform');
    expect(script).toContain('TF_DATA_DIR');
    const read = [...script.matchAll(/\.(\w+)\.value\b/g)].map((m) => m[1]);
    expect(read).toEqual(expect.arrayContaining(['environment', 'rds_endpoint', 'redis_endpoint']));
    const declared = blocks('output').filter((o) => o.dir === platformDir).map((o) => o.name);
    for (const output of read) expect([output, declared.includes(output)]).toEqual([output, true]);
  });
});

describe('terraform: Istio install agrees with the manifests', () => {
  const values = (name: string): K8sObject =>
    parse(readFileSync(path.join(tfRoot, 'modules/istio/values', `${name}.yaml`), 'utf8')) as K8sObject;

  it('istiod uses the CNI agent and defines the otel-tracing provider the Telemetry names', () => {
    const istiod = values('istiod');
    expect(istiod.pilot.cni.enabled).toBe(true);
    expect(istiod.meshConfig.enablePrometheusMerge).toBe(true);
    expect(istiod.meshConfig.extensionProviders).toContainEqual({
      name: 'otel-tracing',
      opentelemetry: { service: 'otel-collector.observability.svc.cluster.local', port: 4317 },
    });
  });

  it('the ingress gateway release yields the principal used in the access table', () => {
    const ingress = resources('helm_release').find((r) => r.body.chart === 'gateway');
    expect(`cluster.local/ns/${ingress?.body.namespace}/sa/${ingress?.body.name}`).toBe(
      intendedAccess().principals.ingress,
    );
    expect(resources('helm_release').map((r) => r.body.chart).sort()).toEqual(['base', 'cni', 'gateway', 'istiod']);
  });
});

describeIfTool('terraform', ['version'])('terraform formatting', () => {
  it('terraform fmt -check -recursive terraform/ is clean', () => {
    const result = spawnSync('terraform', ['fmt', '-check', '-recursive', tfRoot], { encoding: 'utf8' });
    expect({ status: result.status, unformatted: result.stdout.trim() }).toEqual({ status: 0, unformatted: '' });
  });
});
