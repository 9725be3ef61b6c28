import { spawnSync } from 'node:child_process';
import { evaluateMatrix, expandIntended, intendedAccess, isAllowed, mtlsMode, podLabelSets, render, type K8sObject } from '../tests/platform/helpers';
import type { Outcome, Scenario } from './scenario';

const SERVICES = ['gateway', 'users', 'products', 'orders'];
const OVERLAY = 'prod';

/** The production overlay as kubectl renders it, once; undefined without kubectl. */
let rendered: K8sObject[] | undefined;
function manifests(): K8sObject[] | undefined {
  if (spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status !== 0) return undefined;
  return (rendered ??= render(OVERLAY));
}
const NO_KUBECTL: Outcome = { happened: 'kubectl is not installed: it renders k8s/kustomize/overlays/prod', pass: false, skipped: true };

/** "products <- gateway (POST /graphql), orders (POST /internal/reservations)": the callers of each service and what they may send. */
function callersTable(allowed: string[]): string {
  const lines = SERVICES.map((service) => {
    const byCaller = new Map<string, string[]>();
    for (const entry of allowed) {
      const [from, rest] = entry.split(' -> ') as [string, string];
      const [target, method, path] = rest.split(' ') as [string, string, string];
      if (target.split(':')[0] !== service) continue;
      byCaller.set(from, [...(byCaller.get(from) ?? []), `${method} ${path}`]);
    }
    return `${service.padEnd(9)}<- ${[...byCaller].map(([from, requests]) => `${from} (${requests.join(', ')})`).join('; ')}`;
  });
  return `${lines.join('\n')}\n`;
}

export const mesh: Scenario = {
  name: 'mesh',
  title: 'the service mesh as deployed: who may call whom, over mutual TLS only',
  checks: [
    {
      title: 'who may call whom',
      does: `renders the ${OVERLAY} overlay (kubectl kustomize) and evaluates its Istio AuthorizationPolicies for every caller, service and request, as Istio would`,
      expects: 'exactly the access in mesh/intended-access.json: clients reach only the gateway, only the gateway calls the subgraphs, orders calls products only to reserve stock',
      readIt: 'each line is a service and who may call it with which requests; anything not listed (a pod in another namespace, users calling orders) is denied',
      async run() {
        const objs = manifests();
        if (!objs) return NO_KUBECTL;
        const access = intendedAccess();
        const allowed = evaluateMatrix(objs, access);
        const intended = expandIntended(access, (w) => podLabelSets(objs, access.workloads[w]!.namespace, access.workloads[w]!.labels).length > 0);
        const extra = allowed.filter((a) => !intended.includes(a));
        const missing = intended.filter((a) => !allowed.includes(a));
        return {
          happened: `${allowed.length} allowed (caller, service, request) combinations; ${extra.length} beyond the intended table, ${missing.length} of it missing`,
          detail: callersTable(allowed),
          pass: extra.length === 0 && missing.length === 0,
        };
      },
    },
    {
      title: 'STRICT mutual TLS',
      does: "reads the PeerAuthentication that applies to each service's port, and asks the policies about a plaintext request (no mesh identity) to orders",
      expects: 'STRICT for gateway, users, products and orders; the plaintext request refused',
      readIt: 'STRICT means only mesh workloads with a certificate get through, so every caller above is a verified service account, never an address',
      async run() {
        const objs = manifests();
        if (!objs) return NO_KUBECTL;
        const access = intendedAccess();
        const modes = SERVICES.map((service) => {
          const workload = access.workloads[service]!;
          const labels = podLabelSets(objs, workload.namespace, workload.labels)[0] ?? {};
          return { service, port: workload.ports[0]!, mode: mtlsMode(objs, workload.namespace, labels, workload.ports[0]!) };
        });
        const orders = access.workloads.orders!;
        const plaintext = isAllowed(objs, orders.namespace, podLabelSets(objs, orders.namespace, orders.labels)[0] ?? {}, { principal: null, port: 4003, method: 'POST', path: '/graphql' });
        return {
          happened: `${modes.map((m) => `${m.service}:${m.port} ${m.mode}`).join(', ')}; a plaintext POST /graphql to orders ${plaintext ? 'allowed' : 'refused'}`,
          pass: modes.every((m) => m.mode === 'STRICT') && !plaintext,
        };
      },
    },
  ],
};
