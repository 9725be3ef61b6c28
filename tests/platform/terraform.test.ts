/**
 * Static guarantees of the AWS infrastructure, read from the HCL itself
 * (terraform init is not possible offline, so plan-time checks are out).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { describeIfTool, intendedAccess, K8sObject, repoRoot } from './helpers';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const hcl2json = require('@cdktf/hcl2json') as { parse(file: string, content: string): Promise<K8sObject> };

const tfRoot = path.join(repoRoot, 'terraform');

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

let parsed: Array<{ file: string; json: K8sObject }> = [];

beforeAll(async () => {
  parsed = await Promise.all(
    tfFiles(tfRoot).map(async (file) => ({ file, json: await hcl2json.parse(path.basename(file), readFileSync(file, 'utf8')) })),
  );
});

function blocks(section: 'resource' | 'variable' | 'module' | 'terraform', type?: string): Block[] {
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

  it('prod keeps RDS deletion protection and >= 7 days of backups', () => {
    const tfvars = readFileSync(path.join(tfRoot, 'environments/prod/terraform.tfvars'), 'utf8');
    expect(tfvars).toMatch(/^rds_deletion_protection\s*=\s*true$/m);
    expect(Number(/^rds_backup_retention_period\s*=\s*(\d+)$/m.exec(tfvars)?.[1])).toBeGreaterThanOrEqual(7);
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
    const rules = [...resources('aws_vpc_security_group_ingress_rule'), ...resources('aws_security_group_rule')].filter((r) =>
      r.dir.endsWith(`modules/${module}`),
    );
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
    const rule = [...resources('aws_vpc_security_group_ingress_rule'), ...resources('aws_security_group_rule')].find(
      (r) => r.body.from_port === port && r.body.to_port === port,
    );
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

  it('every environment root pins its providers and calls every module', () => {
    for (const env of ['dev', 'staging', 'prod']) {
      const dir = path.join(tfRoot, 'environments', env);
      const providers = blocks('terraform')
        .filter((b) => b.dir === dir)
        .flatMap((b) => b.body.required_providers ?? []);
      const pinned = Object.fromEntries(
        providers.flatMap((p: K8sObject) => Object.entries(p)).map(([k, v]) => [k, (v as K8sObject).version]),
      );
      expect(Object.keys(pinned).sort()).toEqual(['aws', 'helm', 'tls']);
      for (const v of Object.values(pinned)) expect(v).toMatch(/\d/);
      const modules = blocks('module').filter((b) => b.dir === dir).map((b) => b.name).sort();
      expect(modules).toEqual(['ecr', 'eks', 'elasticache', 'istio', 'rds', 'vpc']);
    }
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
