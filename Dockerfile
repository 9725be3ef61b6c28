# syntax=docker/dockerfile:1.7
# One image per service from the same file:
#   docker build --build-arg SERVICE=users -t switchyard/users .
# SERVICE is one of: gateway, users, products, orders.
#
# Base images are pinned by tag. For reproducible builds also pin the digest
# (CI resolves and records it; update deliberately):
#   node:24.12.0-bookworm-slim@sha256:<digest>
#   gcr.io/distroless/nodejs24-debian12:nonroot@sha256:<digest>
ARG NODE_IMAGE=node:24.12.0-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# --- workspace manifests only, so the npm ci layers cache across code edits
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && cp package.json package-lock.json /manifests/ \
 && find packages subgraphs gateway -maxdepth 2 -name package.json -exec cp --parents {} /manifests/ \;

# --- compile TypeScript with the full (dev) dependency set from the lockfile
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY --from=manifests /manifests/ ./
# --ignore-scripts: the root prepare script builds, and the sources are not copied yet; the next step builds.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

# --- production dependencies of this service's workspace only: each workspace declares what it imports
# (tests/platform/workspaces.test.ts), and --workspace installs that workspace and the workspaces it depends on,
# without the root's dependencies or any other service's. npm links each installed workspace under
# node_modules/@switchyard/; /workspaces lists their folders, which the assemble stage copies.
FROM ${NODE_IMAGE} AS prod-deps
ARG SERVICE
RUN test -n "${SERVICE}" || (echo "--build-arg SERVICE=<gateway|users|products|orders> is required" >&2; exit 1)
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm set -eu; \
    if [ "${SERVICE}" = gateway ]; then dir=gateway; else dir="subgraphs/${SERVICE}"; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace="${dir}"; \
    find node_modules/@switchyard -mindepth 1 -maxdepth 1 -type l -printf '%l\n' | sed 's#^\.\./\.\./##' | sort > /workspaces; \
    grep -qx "${dir}" /workspaces

# --- assemble /app for one service: compiled JS plus the runtime files it reads
FROM ${NODE_IMAGE} AS assemble
ARG SERVICE
WORKDIR /src
COPY --from=build /src/ ./
COPY --from=prod-deps /workspaces /workspaces
RUN set -eu; \
    if [ "${SERVICE}" = gateway ]; then dir=gateway; else dir="subgraphs/${SERVICE}"; fi; \
    test -f "${dir}/dist/main.js"; \
    mkdir -p /out; \
    for pkg in $(cat /workspaces); do \
      mkdir -p "/out/${pkg}"; \
      cp "${pkg}/package.json" "/out/${pkg}/"; \
      cp -r "${pkg}/dist" "/out/${pkg}/"; \
    done; \
    for f in schema.graphql migrations supergraph.graphql contracts; do \
      if [ -e "${dir}/${f}" ]; then cp -r "${dir}/${f}" "/out/${dir}/"; fi; \
    done; \
    find /out \( -name '*.d.ts' -o -name '*.d.ts.map' -o -name '*.tsbuildinfo' \) -delete; \
    ln -s "${dir}/dist/main.js" /out/main.js

# --- runtime: distroless (no shell, no package manager), non-root
FROM ${RUNTIME_IMAGE}
ARG SERVICE
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    SERVICE=${SERVICE}
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=prod-deps /app/package.json ./package.json
COPY --from=assemble /out/ ./
# Numeric uid/gid: Kubernetes runAsNonRoot can only verify numeric users.
USER 10001:10001
EXPOSE 4000 4001 4002 4003
# For `docker run`/compose. Kubernetes ignores HEALTHCHECK and uses the
# liveness/readiness/startup probes in k8s/kustomize/base instead. Written in
# node because the image has no curl or shell.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["/nodejs/bin/node", "-e", "const p=process.env.PORT||{gateway:4000,users:4001,products:4002,orders:4003}[process.env.SERVICE];fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The distroless entrypoint is node; main.js links to gateway/dist/main.js or
# subgraphs/<service>/dist/main.js, resolved to its real path so the service
# finds its schema and migrations beside it.
CMD ["main.js"]
