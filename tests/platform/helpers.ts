/**
 * Shared machinery for the platform tests: rendering overlays, running the
 * schema validator, the hardening checks and an Istio AuthorizationPolicy
 * evaluator. Scenario tests live in the *.test.ts files beside this one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = Record<string, any>;

export const repoRoot = path.resolve(__dirname, '../..');
export const overlays = ['dev', 'staging', 'prod'] as const;
export type Overlay = (typeof overlays)[number];

function hasTool(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

/**
 * describe when the tool exists; under CI a missing tool must fail loudly,
 * so the suite still runs (and its first command throws).
 */
export function describeIfTool(tool: string, probeArgs: string[]): jest.Describe {
  // npm run scenarios renders the overlays with these helpers outside jest, where there is nothing to describe.
  if (typeof describe === 'undefined') return undefined as unknown as jest.Describe;
  if (hasTool(tool, probeArgs)) return describe;
  if (process.env.CI === 'true') return describe;
  // eslint-disable-next-line no-console
  console.warn(`[platform tests] ${tool} not found: skipping its tests (they fail under CI=true).`);
  const skipped: jest.Describe = describe.skip;
  return skipped;
}

export const describeIfKubectl = describeIfTool('kubectl', ['version', '--client']);

export function parseYaml(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join('; '));
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && o !== undefined);
}

const renderCache = new Map<string, string>();

/** `kubectl kustomize` of an overlay, cached per test file (jest module registry). */
export function renderText(overlay: Overlay): string {
  let text = renderCache.get(overlay);
  if (text === undefined) {
    text = execFileSync('kubectl', ['kustomize', path.join(repoRoot, 'k8s/kustomize/overlays', overlay)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    renderCache.set(overlay, text);
  }
  return text;
}

export function render(overlay: Overlay): K8sObject[] {
  return parseYaml(renderText(overlay));
}

export function fixture(name: string): K8sObject[] {
  return parseYaml(readFileSync(path.join(__dirname, 'fixtures', name), 'utf8'));
}

export interface ValidationReport {
  ok: boolean;
  objects: Array<{ apiVersion?: string; kind?: string; name?: string; errors: string[]; unknownFields: string[] }>;
}

/** Runs the ESM schema validator (kubernetes-models are ES modules; jest here is CommonJS). */
export function validateManifests(yamlText: string): ValidationReport {
  const result = spawnSync('node', [path.join(__dirname, 'validate-manifests.mjs')], {
    input: yamlText,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!result.stdout) throw new Error(`validator crashed: ${result.stderr}`);
  return JSON.parse(result.stdout) as ValidationReport;
}

export const byKind = (objs: K8sObject[], kind: string): K8sObject[] => objs.filter((o) => o.kind === kind);
export const find = (objs: K8sObject[], kind: string, name: string, namespace?: string): K8sObject | undefined =>
  objs.find(
    (o) => o.kind === kind && o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace),
  );

const podKinds = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'];
export const workloads = (objs: K8sObject[]): K8sObject[] => objs.filter((o) => podKinds.includes(o.kind));
export const id = (o: K8sObject): string => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

/** Hardening every pod must have; returns human-readable violations. */
export function podViolations(workload: K8sObject, requireDigest: boolean): string[] {
  const out: string[] = [];
  const podSpec = workload.spec?.template?.spec ?? {};
  const podSc = podSpec.securityContext ?? {};
  const where = id(workload);
  if (podSc.seccompProfile?.type !== 'RuntimeDefault') out.push(`${where}: pod seccompProfile is not RuntimeDefault`);
  if (podSpec.automountServiceAccountToken !== false) out.push(`${where}: service-account token is automounted`);
  for (const c of [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])]) {
    const at = `${where} container ${c.name}`;
    const sc = c.securityContext ?? {};
    const runAsNonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    const runAsUser = sc.runAsUser ?? podSc.runAsUser;
    if (runAsNonRoot !== true) out.push(`${at}: runAsNonRoot is not true`);
    if (!Number.isInteger(runAsUser) || runAsUser <= 0) out.push(`${at}: runAsUser is not a numeric non-root uid`);
    if (sc.readOnlyRootFilesystem !== true) out.push(`${at}: root filesystem is writable`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${at}: allowPrivilegeEscalation is not false`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push(`${at}: capabilities are not dropped (ALL)`);
    for (const kind of ['requests', 'limits']) {
      for (const res of ['cpu', 'memory']) {
        if (c.resources?.[kind]?.[res] === undefined) out.push(`${at}: missing resources.${kind}.${res}`);
      }
    }
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      if (!c[probe]) out.push(`${at}: missing ${probe}`);
    }
    const image: string = c.image ?? '';
    if (/:latest(@|$)/.test(image)) out.push(`${at}: image uses :latest (${image})`);
    if (!/[:@]/.test(image.split('/').pop() ?? '')) out.push(`${at}: image has neither tag nor digest (${image})`);
    if (requireDigest && !/@sha256:[0-9a-f]{64}$/.test(image)) out.push(`${at}: image not pinned by digest (${image})`);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Istio AuthorizationPolicy evaluation (the subset of semantics we use; any
// field outside it throws, so an unmodelled policy cannot silently pass).
// ---------------------------------------------------------------------------

export interface IntendedAccess {
  principals: Record<string, string | null>;
  workloads: Record<
    string,
    { namespace: string; labels: Record<string, string>; ports: number[]; protocol: 'http' | 'tcp'; overlays?: string[] }
  >;
  requests: Array<{ method: string; path: string }>;
  allow: Array<{ from: string[]; to: string[]; port: number; methods?: string[]; paths?: string[] }>;
}

export function intendedAccess(): IntendedAccess {
  return JSON.parse(readFileSync(path.join(repoRoot, 'mesh/intended-access.json'), 'utf8')) as IntendedAccess;
}

export const ROOT_NAMESPACE = 'istio-system';

export interface Request {
  principal: string | null;
  port: number;
  method?: string;
  path?: string;
  /** The Host (authority), for rules with `hosts`. */
  host?: string;
  /** The verified end-user JWT's `iss/sub`, as RequestAuthentication sets it; absent without a valid token. */
  requestPrincipal?: string;
  /** Request headers by lower-case name, for `when: request.headers[...]` conditions. */
  headers?: Record<string, string>;
}

function valueMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return pattern === value;
}
const anyMatch = (patterns: string[], value: string | undefined): boolean => patterns.some((p) => valueMatches(p, value));
const namespaceOf = (principal: string | null): string | undefined => principal?.match(/^[^/]+\/ns\/([^/]+)\/sa\//)?.[1];

const supportedSource = new Set(['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'requestPrincipals', 'notRequestPrincipals']);
const supportedOperation = new Set(['ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths', 'hosts']);
const httpOnly = ['methods', 'notMethods', 'paths', 'notPaths', 'hosts'];

function sourceMatches(source: K8sObject, req: Request): boolean {
  for (const key of Object.keys(source)) if (!supportedSource.has(key)) throw new Error(`unsupported source field ${key}`);
  const ns = namespaceOf(req.principal);
  const principal = req.principal ?? undefined;
  if (source.principals && !anyMatch(source.principals, principal)) return false;
  if (source.notPrincipals && anyMatch(source.notPrincipals, principal)) return false;
  if (source.namespaces && !anyMatch(source.namespaces, ns)) return false;
  if (source.notNamespaces && anyMatch(source.notNamespaces, ns)) return false;
  if (source.requestPrincipals && !anyMatch(source.requestPrincipals, req.requestPrincipal)) return false;
  if (source.notRequestPrincipals && anyMatch(source.notRequestPrincipals, req.requestPrincipal)) return false;
  return true;
}

function operationMatches(op: K8sObject, req: Request, action: string): boolean {
  for (const key of Object.keys(op)) if (!supportedOperation.has(key)) throw new Error(`unsupported operation field ${key}`);
  const tcp = req.method === undefined;
  if (tcp && httpOnly.some((k) => op[k] !== undefined)) {
    // Istio: for TCP traffic an ALLOW rule with HTTP-only fields never
    // matches; a DENY rule ignores those fields (denies more).
    if (action === 'ALLOW') return false;
  }
  const port = String(req.port);
  if (op.ports && !op.ports.map(String).includes(port)) return false;
  if (op.notPorts && op.notPorts.map(String).includes(port)) return false;
  if (!tcp) {
    if (op.methods && !anyMatch(op.methods, req.method)) return false;
    if (op.notMethods && anyMatch(op.notMethods, req.method)) return false;
    if (op.paths && !anyMatch(op.paths, req.path)) return false;
    if (op.notPaths && anyMatch(op.notPaths, req.path)) return false;
    if (op.hosts && !anyMatch(op.hosts, req.host)) return false;
  }
  return true;
}

/** `when` conditions on request headers only; any other key throws, as for unmodelled fields. */
function conditionHolds(condition: K8sObject, req: Request): boolean {
  const header = /^request\.headers\[([^\]]+)\]$/.exec(condition.key)?.[1];
  if (header === undefined) throw new Error(`unsupported condition key ${condition.key}`);
  const value = req.headers?.[header.toLowerCase()];
  if (condition.values && !anyMatch(condition.values, value)) return false;
  if (condition.notValues && anyMatch(condition.notValues, value)) return false;
  return true;
}

function ruleMatches(rule: K8sObject, req: Request, action: string): boolean {
  if (rule.when && !rule.when.every((c: K8sObject) => conditionHolds(c, req))) return false;
  if (rule.from && !rule.from.some((f: K8sObject) => sourceMatches(f.source ?? {}, req))) return false;
  if (rule.to && !rule.to.some((t: K8sObject) => operationMatches(t.operation ?? {}, req, action))) return false;
  return true;
}

const selects = (selector: K8sObject | undefined, labels: Record<string, string>): boolean =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

function applies(policy: K8sObject, namespace: string, labels: Record<string, string>): boolean {
  const ns = policy.metadata?.namespace;
  if (ns !== namespace && ns !== ROOT_NAMESPACE) return false;
  if (policy.spec?.targetRef || policy.spec?.targetRefs) throw new Error('unsupported targetRef');
  return selects(policy.spec?.selector, labels);
}

/** Effective PeerAuthentication mode for a workload port: workload > namespace > mesh. */
export function mtlsMode(objs: K8sObject[], namespace: string, labels: Record<string, string>, port: number): string {
  const pas = byKind(objs, 'PeerAuthentication');
  const candidates = [
    pas.filter((p) => p.metadata.namespace === namespace && p.spec?.selector && selects(p.spec.selector, labels)),
    pas.filter((p) => p.metadata.namespace === namespace && !p.spec?.selector),
    pas.filter((p) => p.metadata.namespace === ROOT_NAMESPACE && !p.spec?.selector),
  ];
  for (const level of candidates) {
    for (const pa of level) {
      const portMode = pa.spec?.portLevelMtls?.[String(port)]?.mode;
      if (portMode && portMode !== 'UNSET') return portMode;
      const mode = pa.spec?.mtls?.mode;
      if (mode && mode !== 'UNSET') return mode;
    }
  }
  return 'PERMISSIVE';
}

/**
 * Would the ingress gateway pass this client request on: RequestAuthentication first (a bearer token
 * that does not verify is a 401 there; `bearerValid` says whether it would), then the edge policies.
 */
export function edgeAdmits(objs: K8sObject[], req: Omit<Request, 'principal' | 'requestPrincipal'> & { bearerValid?: boolean }): boolean {
  const authorization = req.headers?.authorization;
  const bearer = authorization !== undefined && /^Bearer\s/i.test(authorization);
  if (bearer && !req.bearerValid) return false;
  const verified = bearer && req.bearerValid ? { requestPrincipal: 'https://issuer/usr_001' } : {};
  const policies = byKind(objs, 'AuthorizationPolicy').filter((p) => applies(p, 'istio-ingress', { istio: 'ingressgateway' }));
  const edgeRequest: Request = { ...req, principal: null, ...verified };
  if (policies.some((p) => p.spec?.action === 'DENY' && (p.spec.rules ?? []).some((r: K8sObject) => ruleMatches(r, edgeRequest, 'DENY')))) return false;
  const allow = policies.filter((p) => (p.spec?.action ?? 'ALLOW') === 'ALLOW');
  return allow.length === 0 || allow.some((p) => (p.spec?.rules ?? []).some((r: K8sObject) => ruleMatches(r, edgeRequest, 'ALLOW')));
}

/** Would Istio let this request reach the workload (mTLS, then DENY, then ALLOW)? */
export function isAllowed(objs: K8sObject[], namespace: string, labels: Record<string, string>, req: Request): boolean {
  if (req.principal === null && mtlsMode(objs, namespace, labels, req.port) === 'STRICT') return false;
  const policies = byKind(objs, 'AuthorizationPolicy').filter((p) => applies(p, namespace, labels));
  for (const p of policies) {
    const action = p.spec?.action ?? 'ALLOW';
    if (action !== 'ALLOW' && action !== 'DENY') throw new Error(`unsupported action ${action}`);
  }
  const deny = policies.filter((p) => p.spec?.action === 'DENY');
  if (deny.some((p) => (p.spec.rules ?? []).some((r: K8sObject) => ruleMatches(r, req, 'DENY')))) return false;
  const allow = policies.filter((p) => (p.spec?.action ?? 'ALLOW') === 'ALLOW');
  if (allow.length === 0) return true;
  return allow.some((p) => (p.spec?.rules ?? []).some((r: K8sObject) => ruleMatches(r, req, 'ALLOW')));
}

const key = (from: string, to: string, port: number, method?: string, reqPath?: string): string =>
  method === undefined ? `${from} -> ${to}:${port} tcp` : `${from} -> ${to}:${port} ${method} ${reqPath}`;

/** Pod label sets of the rendered workloads that an intended-access workload stands for. */
export function podLabelSets(objs: K8sObject[], namespace: string, labels: Record<string, string>): Array<Record<string, string>> {
  return workloads(objs)
    .filter((w) => w.metadata?.namespace === namespace)
    .map((w) => (w.spec?.template?.metadata?.labels ?? {}) as Record<string, string>)
    .filter((l) => Object.entries(labels).every(([k, v]) => l[k] === v));
}

/** Every allowed (caller, workload, port, request) in the universe, evaluated from the policies. */
export function evaluateMatrix(objs: K8sObject[], access: IntendedAccess): string[] {
  const allowed: string[] = [];
  for (const [wName, w] of Object.entries(access.workloads)) {
    const labelSets = podLabelSets(objs, w.namespace, w.labels);
    for (const [pName, principal] of Object.entries(access.principals)) {
      for (const port of w.ports) {
        const reqs: Array<{ method?: string; path?: string }> = w.protocol === 'tcp' ? [{}] : access.requests;
        for (const r of reqs) {
          const verdicts = labelSets.map((labels) => isAllowed(objs, w.namespace, labels, { principal, port, ...r }));
          if (new Set(verdicts).size > 1) throw new Error(`pods of ${wName} disagree for ${key(pName, wName, port, r.method, r.path)}`);
          if (verdicts[0]) allowed.push(key(pName, wName, port, r.method, r.path));
        }
      }
    }
  }
  return allowed.sort();
}

/** The intended table expanded over the same universe, for the workloads rendered in this overlay. */
export function expandIntended(access: IntendedAccess, present: (workload: string) => boolean): string[] {
  const out: string[] = [];
  for (const a of access.allow) {
    for (const from of a.from) {
      for (const to of a.to) {
        if (!present(to)) continue;
        if (access.workloads[to].protocol === 'tcp') {
          out.push(key(from, to, a.port));
          continue;
        }
        for (const r of access.requests) {
          if ((a.methods ?? []).includes(r.method) && (a.paths ?? []).includes(r.path)) out.push(key(from, to, a.port, r.method, r.path));
        }
      }
    }
  }
  return [...new Set(out)].sort();
}
