# The operator and steering image. One image, two services (the Helm chart passes them as args):
#   edgefleet operator --identity=$(POD_NAME) --lease-namespace=<ns> --health-port=8081 ...
#   edgefleet steering --port=8080 --health-port=8081 --url-signing-keys-dir=/etc/edgefleet/url-signing ...
# and the reference client: docker run edgefleet play --steering URL --title ID [--ca edge-ca.pem] [--json]
# Build from the repository root: docker build -t edgefleet .
# The edge image (nginx + agent) is nodes/Dockerfile. Both build with the legacy builder too (no BuildKit
# syntax); without a registry, hack/kind/images.sh passes BASE, a local image with the same Node and user.

ARG BASE=node:24-bookworm-slim
FROM ${BASE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY operator/tsconfig.build.json operator/
COPY operator/src/ operator/src/
# Only what the CLI imports is compiled: the player's sources for `edgefleet play`, not its tests.
COPY player/src/ player/src/
RUN npx tsc -p operator/tsconfig.build.json \
 && npm prune --omit=dev

FROM ${BASE}
ENV NODE_ENV=production
WORKDIR /app
# package.json carries "type": "module", which the compiled ESM needs.
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The node image's unprivileged user (uid 1000); the chart's securityContext expects it.
USER 1000:1000
ENTRYPOINT ["node", "/app/dist/operator/src/cli/main.js"]
