#!/usr/bin/env bash
# Proves on a live cluster (platform applied with an overlay) that the mesh
# enforces what mesh/intended-access.json says:
#   1. a pod without a sidecar gets no HTTP answer from any service (STRICT mTLS);
#   2. a sidecar pod under a foreign service account gets 403 "RBAC: access denied";
#   3. the gateway's and the orders service's own pods (their real service
#      accounts) get exactly the answers the table allows, 403 otherwise;
#   4. one request through the ingress yields one trace spanning the gateway
#      and at least one subgraph.
# Prints PASS/FAIL per check and exits 1 if anything failed.
#
# Environment:
#   INGRESS_URL   https://api.<env-host> (required for checks 4 and the edge check)
#   TRACE_API     base URL of a Jaeger-compatible query API, e.g.
#                 http://localhost:16686 after
#                 `kubectl -n tracing port-forward svc/jaeger-query 16686`.
#                 Assumption: the collector exports to Jaeger (or Tempo's Jaeger
#                 query shim) and GET $TRACE_API/api/traces/<id> returns
#                 {data:[{processes:{...:{serviceName}}}]}.
#   GRAPHQL_QUERY query sent through the ingress; must touch a subgraph.
#   NS, CURL_IMAGE, NODE_BIN, KEEP_PROBES=1 (leave probe pods for debugging).
# Side effects: creates namespaces switchyard-verify-plain and
# switchyard-verify-mesh and a NetworkPolicy in $NS that admits them (so the
# checks observe Istio, not the NetworkPolicy), all removed on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ACCESS_FILE="${ACCESS_FILE:-${here}/intended-access.json}"
NS="${NS:-switchyard}"
PLAIN_NS="switchyard-verify-plain"
MESH_NS="switchyard-verify-mesh"
CURL_IMAGE="${CURL_IMAGE:-curlimages/curl:8.11.1}"
NODE_BIN="${NODE_BIN:-/nodejs/bin/node}"
INGRESS_URL="${INGRESS_URL:-}"
TRACE_API="${TRACE_API:-}"
default_query='{ products(first: 1) { __typename } }'
GRAPHQL_QUERY="${GRAPHQL_QUERY:-${default_query}}"
POST_BODY='{"query":"{ __typename }"}'

failures=0
pass() { printf 'PASS  %s\n' "$*"; }
fail() {
  printf 'FAIL  %s\n' "$*"
  failures=$((failures + 1))
}

for tool in jq kubectl curl; do
  command -v "${tool}" >/dev/null || {
    echo "verify.sh needs ${tool}" >&2
    exit 2
  }
done

cleanup() {
  [[ "${KEEP_PROBES:-0}" == 1 ]] && return
  kubectl -n "${NS}" delete networkpolicy zz-verify-probes --ignore-not-found >/dev/null 2>&1 || true
  kubectl delete namespace "${PLAIN_NS}" "${MESH_NS}" --ignore-not-found --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

# --- expectations from the table -------------------------------------------
mapfile -t services < <(jq -r --arg ns "${NS}" \
  '.workloads | to_entries[] | select(.value.namespace == $ns and .value.protocol == "http") | .key' "${ACCESS_FILE}")
mapfile -t requests < <(jq -r '.requests[] | "\(.method) \(.path)"' "${ACCESS_FILE}")

port_of() { jq -r --arg w "$1" '.workloads[$w].ports[0]' "${ACCESS_FILE}"; }

# expected <caller-key> <workload> <method> <path>  ->  allow | deny
expected() {
  jq -r --arg f "$1" --arg t "$2" --arg m "$3" --arg p "$4" '
    [.allow[] | select((.from | index($f)) and (.to | index($t))
                       and ((.methods // []) | index($m)) and ((.paths // []) | index($p)))]
    | if length > 0 then "allow" else "deny" end' "${ACCESS_FILE}"
}

# Builds "METHOD URL" argument pairs for every service x request, plus the
# matching list of "workload method path" labels.
probe_args=()
probe_labels=()
for svc in "${services[@]}"; do
  port="$(port_of "${svc}")"
  for req in "${requests[@]}"; do
    method="${req%% *}"
    path="${req#* }"
    probe_args+=("${method}" "http://${svc}.${NS}.svc.cluster.local:${port}${path}")
    probe_labels+=("${svc} ${method} ${path}")
  done
done

# Prints one HTTP status per request pair ("000" = no HTTP answer). Runs in
# the probe pod's shell, hence the single quotes.
# shellcheck disable=SC2016
curl_loop='while [ $# -ge 2 ]; do
  m=$1; u=$2; shift 2
  if [ "$m" = POST ]; then
    c=$(curl -s -o /dev/null -w "%{http_code}" -m 5 -X POST -H "content-type: application/json" --data-raw "$BODY" "$u")
  else
    c=$(curl -s -o /dev/null -w "%{http_code}" -m 5 -X "$m" "$u")
  fi
  echo "${c:-000}"
done'

node_loop='const a = process.argv.slice(1);
(async () => {
  for (let i = 0; i + 1 < a.length; i += 2) {
    const post = a[i] === "POST";
    try {
      const r = await fetch(a[i + 1], { method: a[i], signal: AbortSignal.timeout(5000),
        headers: post ? { "content-type": "application/json" } : {}, body: post ? process.env.BODY : undefined });
      console.log(r.status);
    } catch { console.log("000"); }
  }
})();'

# judge <caller-key> <description> <statuses...>: compares each status with the table.
judge() {
  local caller="$1" description="$2"
  shift 2
  local i=0 status label svc method path want
  for status in "$@"; do
    label="${probe_labels[i]}"
    read -r svc method path <<<"${label}"
    want="$(expected "${caller}" "${svc}" "${method}" "${path}")"
    if [[ "${want}" == allow && "${status}" != 403 && "${status}" != 000 ]]; then
      pass "${description} -> ${label}: allowed (${status})"
    elif [[ "${want}" == deny && "${status}" == 403 ]]; then
      pass "${description} -> ${label}: denied (403)"
    else
      fail "${description} -> ${label}: expected ${want}, got ${status}"
    fi
    i=$((i + 1))
  done
}

# --- probe pods ------------------------------------------------------------
echo "== setting up probe pods"
kubectl create namespace "${PLAIN_NS}" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl label namespace "${PLAIN_NS}" istio-injection=disabled --overwrite >/dev/null
kubectl create namespace "${MESH_NS}" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl label namespace "${MESH_NS}" istio-injection=enabled --overwrite >/dev/null
kubectl -n "${MESH_NS}" create serviceaccount intruder --dry-run=client -o yaml | kubectl apply -f - >/dev/null

kubectl apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: zz-verify-probes
  namespace: ${NS}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector:
            matchExpressions:
              - key: kubernetes.io/metadata.name
                operator: In
                values: [${PLAIN_NS}, ${MESH_NS}]
EOF

kubectl -n "${PLAIN_NS}" run probe --image="${CURL_IMAGE}" --restart=Never \
  --command -- sleep 3600 >/dev/null 2>&1 || true
kubectl -n "${MESH_NS}" run probe --image="${CURL_IMAGE}" --restart=Never \
  --overrides='{"spec":{"serviceAccountName":"intruder"}}' \
  --command -- sleep 3600 >/dev/null 2>&1 || true
kubectl -n "${PLAIN_NS}" wait --for=condition=Ready pod/probe --timeout=180s >/dev/null
kubectl -n "${MESH_NS}" wait --for=condition=Ready pod/probe --timeout=180s >/dev/null

# --- 1. STRICT mTLS: plaintext callers get no HTTP answer at all -----------
echo "== 1. pod without a sidecar (plaintext)"
for svc in "${services[@]}"; do
  url="http://${svc}.${NS}.svc.cluster.local:$(port_of "${svc}")/graphql"
  code="$(kubectl -n "${PLAIN_NS}" exec probe -- env BODY="${POST_BODY}" sh -c "${curl_loop}" sh POST "${url}")"
  if [[ "${code}" == 000 ]]; then
    pass "no-sidecar -> ${svc}: connection refused/reset (STRICT mTLS)"
  else
    fail "no-sidecar -> ${svc}: got HTTP ${code}; plaintext must not be answered"
  fi
done

# --- 2. foreign identity with a sidecar: RBAC denies -----------------------
echo "== 2. sidecar pod under a foreign service account"
mapfile -t statuses < <(kubectl -n "${MESH_NS}" exec probe -c probe -- env BODY="${POST_BODY}" sh -c "${curl_loop}" sh "${probe_args[@]}")
judge foreign "foreign-sa" "${statuses[@]}"
body="$(kubectl -n "${MESH_NS}" exec probe -c probe -- curl -s -m 5 -X POST -H 'content-type: application/json' \
  --data-raw "${POST_BODY}" "http://users.${NS}.svc.cluster.local:$(port_of users)/graphql" || true)"
if [[ "${body}" == *"RBAC: access denied"* ]]; then
  pass "foreign-sa -> users: body is 'RBAC: access denied'"
else
  fail "foreign-sa -> users: expected 'RBAC: access denied', got '${body:0:80}'"
fi

# --- 3. real identities from inside their own pods --------------------------
for caller in gateway orders; do
  echo "== 3. from the ${caller} pod (service account ${caller})"
  if mapfile -t statuses < <(kubectl -n "${NS}" exec "deploy/${caller}" -c "${caller}" -- \
    env BODY="${POST_BODY}" "${NODE_BIN}" -e "${node_loop}" "${probe_args[@]}") && ((${#statuses[@]} == ${#probe_labels[@]})); then
    judge "${caller}" "${caller}-sa" "${statuses[@]}"
  else
    fail "${caller}-sa: could not run probes inside deploy/${caller}"
  fi
done

# --- 4. edge and tracing -----------------------------------------------------
echo "== 4. through the ingress"
if [[ -z "${INGRESS_URL}" ]]; then
  fail "ingress: INGRESS_URL is not set"
else
  code="$(curl -s -o /dev/null -w '%{http_code}' -m 10 "${INGRESS_URL}/metrics" || true)"
  if [[ "${code}" == 403 || "${code}" == 404 ]]; then
    pass "ingress -> /metrics: not exposed (${code})"
  else
    fail "ingress -> /metrics: expected 403/404, got ${code}"
  fi

  trace_id="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  span_id="$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  payload="$(jq -nc --arg q "${GRAPHQL_QUERY}" '{query: $q}')"
  code="$(curl -s -o /dev/null -w '%{http_code}' -m 15 -X POST "${INGRESS_URL}/graphql" \
    -H 'content-type: application/json' -H "traceparent: 00-${trace_id}-${span_id}-01" \
    --data-raw "${payload}" || true)"
  if [[ "${code}" == 200 ]]; then
    pass "ingress -> POST /graphql: 200 (trace ${trace_id})"
  else
    fail "ingress -> POST /graphql: expected 200, got ${code}"
  fi

  if [[ -z "${TRACE_API}" ]]; then
    fail "trace: TRACE_API is not set"
  else
    names=""
    # Spans are batched by sidecars and the collector: poll for up to a minute.
    for _ in $(seq 1 12); do
      names="$(curl -s -m 5 "${TRACE_API}/api/traces/${trace_id}" |
        jq -r '[.data[0].processes[]?.serviceName] | unique | join(",")' 2>/dev/null || true)"
      if [[ "${names}" == *gateway* && "${names}" =~ (users|products|orders) ]]; then break; fi
      sleep 5
    done
    if [[ "${names}" == *gateway* && "${names}" =~ (users|products|orders) ]]; then
      pass "trace ${trace_id} spans the gateway and a subgraph (${names})"
    else
      fail "trace ${trace_id}: expected gateway and subgraph spans, got '${names}'"
    fi
  fi
fi

echo
if ((failures > 0)); then
  echo "${failures} check(s) FAILED"
  exit 1
fi
echo "all checks passed"
