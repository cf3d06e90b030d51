# syntax=docker/dockerfile:1
# The operator and steering image. One image, two subcommands (the Helm chart passes them as args):
#   edgefleet operator --identity=$(POD_NAME) --lease-namespace=<ns> --health-port=8081 ...
#   edgefleet steering --port=8080 --health-port=8081 --url-signing-key-file=/etc/edgefleet/url-signing/key ...
# Build from the repository root: docker build -t edgefleet .
# The edge image (nginx + agent) is nodes/Dockerfile.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
# The operator renders the edge pods' nginx configuration with the agent's own code (nodes/src).
COPY operator/src/ operator/src/
COPY nodes/src/ nodes/src/
COPY <<'JSON' tsconfig.build.json
{
  "extends": "./tsconfig.json",
  "compilerOptions": { "noEmit": false, "rootDir": ".", "outDir": "dist" },
  "include": ["operator/src", "nodes/src"],
  "exclude": ["**/*.test.ts", "**/testdata/**"]
}
JSON
RUN npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# package.json carries "type": "module", which the compiled ESM needs.
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The node image's unprivileged user (uid 1000); the chart's securityContext expects it.
USER 1000:1000
ENTRYPOINT ["node", "/app/dist/operator/src/cli/main.js"]
