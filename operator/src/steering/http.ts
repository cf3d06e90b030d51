/**
 * The steering HTTP service: `GET /v1/steering?ip=…` (ranked clusters and their live endpoints) and
 * `GET /v1/playback/{title}` (the manifest with signed URLs to live servers). All decisions live in the
 * pure modules; this file only turns requests into their inputs and results into JSON.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { z } from "zod";
import { clientAddress, TrustedProxies } from "./client-address.js";
import { formatIp, InvalidAddressError, type IpAddress, parseIp } from "./ip.js";
import { isServerLive, liveSetKey } from "./liveness.js";
import { ManifestCache } from "./manifest-cache.js";
import { buildManifest } from "./playback.js";
import { type RankedCluster, rankClusters } from "./rank.js";
import type { LatLon } from "./snapshot.js";
import type { SteeringState } from "./store.js";

const latLon = z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) });

/** Service settings, validated once at startup; the CLI maps flags and environment onto this. */
export const SteeringServiceConfig = z.strictObject({
  /** CIDRs of the load balancers whose X-Forwarded-For is believed. */
  trustedProxies: z.array(z.string()).max(1024).default([]),
  saturationLoad: z.number().gt(0).max(1).default(0.95),
  /** Clusters offered per file in a manifest (and listed by /v1/steering). */
  maxClusters: z.int().min(1).max(16).default(3),
  urlTtlSeconds: z
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(6 * 3600),
  /** Where clients are assumed to be when the geo source does not know: the region's centre. */
  regionDefault: latLon.optional(),
  maxUrlBytes: z.int().min(64).max(65_536).default(2048),
  maxHeaderBytes: z.int().min(1024).max(65_536).default(8192),
  /** Serialised manifests kept for reuse (see manifest-cache.ts). */
  manifestCacheEntries: z.int().min(0).max(1_000_000).default(50_000),
});
export type SteeringServiceConfig = z.infer<typeof SteeringServiceConfig>;

export type SteeringServiceDeps = Readonly<{
  state: () => SteeringState;
  /** Epoch milliseconds; injected so tests can age heartbeats. */
  now: () => number;
  /** Client location from a geo database; undefined falls back to `regionDefault`. */
  geo?: ((address: IpAddress) => LatLon | undefined) | undefined;
  log?: Logger | undefined;
}>;

/** Thrown by createSteeringServer for invalid settings; the message names each field and rule. */
export class SteeringConfigError extends Error {
  override name = "SteeringConfigError";
}

const TITLE_ID = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;
const PLAYBACK = "/v1/playback/";

/**
 * Clients fall into SPREAD classes by a hash of their address; a file with n ≤ 4 holders is split evenly
 * over them (12 is a multiple of 1, 2, 3 and 4), and each class's manifests are still cached.
 */
const SPREAD = 12;
function spreadOf(address: IpAddress): number {
  let h = 0x811c9dc5;
  for (const w of address.words) h = Math.imul(h ^ w, 0x01000193) ^ (h >>> 15);
  return (h >>> 0) % SPREAD;
}

/** Links expire on a whole minute, so one client's manifests are identical (and cacheable) for a minute. */
const EXPIRY_STEP_MS = 60_000;

/** `body` is JSON-serialised unless it already is a Buffer (a cached manifest). */
type Reply = Readonly<{ status: number; body: unknown; headers?: Record<string, string> }>;

const error = (status: number, code: string, message: string, headers?: Record<string, string>): Reply => ({
  status,
  body: { error: { code, message } },
  ...(headers ? { headers } : {}),
});

/** What every request of one server reads: its settings, trusted proxies, manifest cache and clock. */
type Service = Readonly<{
  cfg: SteeringServiceConfig;
  trusted: TrustedProxies;
  cache: ManifestCache;
  deps: SteeringServiceDeps;
}>;

export function createSteeringServer(config: z.input<typeof SteeringServiceConfig>, deps: SteeringServiceDeps): Server {
  const parsed = SteeringServiceConfig.safeParse(config);
  if (!parsed.success) {
    throw new SteeringConfigError(`invalid steering settings: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  const cfg = parsed.data;
  let trusted: TrustedProxies;
  try {
    trusted = new TrustedProxies(cfg.trustedProxies);
  } catch (err) {
    throw new SteeringConfigError(`invalid steering settings: ${String(err)}`, { cause: err });
  }
  const svc: Service = { cfg, trusted, cache: new ManifestCache(cfg.manifestCacheEntries), deps };
  const server = createServer({ maxHeaderSize: cfg.maxHeaderBytes, requestTimeout: 10_000 }, (req, res) =>
    handle(svc, req, res),
  );
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const [status, code, message] =
      err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "HeadersTooLarge", `headers: must be at most ${cfg.maxHeaderBytes} bytes in all`]
        : [400, "BadRequest", "malformed HTTP request"];
    const body = JSON.stringify({ error: { code, message } });
    const reason = status === 431 ? "Request Header Fields Too Large" : "Bad Request";
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

/** `nowMs` is read once per request: ranking, liveness and link expiry all see the same instant. */
function rank(svc: Service, state: SteeringState, address: IpAddress, nowMs: number) {
  return rankClusters({
    index: state.index,
    health: state.health,
    policy: { saturationLoad: svc.cfg.saturationLoad },
    nowMs,
    address,
    clientLocation: svc.deps.geo?.(address) ?? svc.cfg.regionDefault,
  });
}

/**
 * `GET /v1/steering?ip=…`: the clusters for an address (the client's own without `ip`), best first,
 * each with its servers that are live now.
 */
function steering(svc: Service, state: SteeringState, query: URLSearchParams, client: () => IpAddress): Reply {
  const ipParam = query.get("ip");
  const address = ipParam === null ? client() : parseIp(ipParam, "ip");
  const nowMs = svc.deps.now();
  const ranking = rank(svc, state, address, nowMs);
  if (ranking.clusters.length === 0)
    return error(503, "NoClusterAvailable", "no healthy cluster can serve this client");
  return {
    status: 200,
    body: {
      client: formatIp(address),
      by: ranking.by,
      clusters: ranking.clusters.slice(0, svc.cfg.maxClusters).map((r) => describe(r, state.health, nowMs)),
    },
  };
}

/**
 * `GET /v1/playback/{title}`: the title's manifest with signed URLs, cached per client class and minute.
 * The cache key names the live servers of each top cluster (liveSetKey), so a cached manifest never
 * outlives a server's liveness, and a server that renews after going stale is named again at once.
 */
function playback(svc: Service, state: SteeringState, id: string, client: () => IpAddress): Reply {
  const { cfg, cache } = svc;
  if (!TITLE_ID.test(id)) {
    return error(
      400,
      "InvalidTitle",
      "title: must be 1-32 characters of a-z, 0-9 and '-', starting and ending alphanumeric",
    );
  }
  const title = state.titles.get(id);
  if (title === undefined) return error(404, "UnknownTitle", `title "${id}" is not in the catalog`);
  const address = client();
  const nowMs = svc.deps.now();
  const ranking = rank(svc, state, address, nowMs);
  if (ranking.clusters.length === 0) {
    return error(503, "NoClusterAvailable", "no healthy cluster can serve this client");
  }
  const expiresMs = Math.ceil((nowMs + cfg.urlTtlSeconds * 1000) / EXPIRY_STEP_MS) * EXPIRY_STEP_MS;
  const top = ranking.clusters
    .slice(0, cfg.maxClusters)
    .map(({ cluster: c }) => c.name + liveSetKey(c, state.health.get(c.name), nowMs));
  const spread = spreadOf(address);
  const key = `${id} ${address.family} ${spread} ${expiresMs} ${top.join(" ")}`;
  const cached = cache.get(state.generation, key);
  if (cached !== undefined) return { status: 200, body: cached };
  const manifest = buildManifest({
    title,
    ranked: ranking.clusters,
    maxClusters: cfg.maxClusters,
    placements: state.placements,
    linkSecrets: state.linkSecrets,
    health: state.health,
    nowMs,
    clientFamily: address.family,
    spread,
    expiresAt: new Date(expiresMs),
  });
  if (manifest === undefined) {
    return error(404, "TitleNotAvailable", `title "${id}" is not filled in any cluster that serves this client yet`);
  }
  const body = Buffer.from(JSON.stringify(manifest));
  if (cfg.manifestCacheEntries > 0) cache.set(state.generation, key, body);
  return { status: 200, body };
}

function route(svc: Service, req: IncomingMessage): Reply {
  const raw = req.url ?? "/";
  if (Buffer.byteLength(raw) > svc.cfg.maxUrlBytes) {
    return error(414, "UriTooLong", `request target: must be at most ${svc.cfg.maxUrlBytes} bytes`);
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    return error(405, "MethodNotAllowed", "method: only GET and HEAD", { allow: "GET, HEAD" });
  }
  const q = raw.indexOf("?");
  const pathname = q < 0 ? raw : raw.slice(0, q);
  const client = () => clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], svc.trusted);
  const state = svc.deps.state();
  if (pathname === "/v1/steering")
    return steering(svc, state, new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)), client);
  if (pathname.startsWith(PLAYBACK)) return playback(svc, state, pathname.slice(PLAYBACK.length), client);
  return error(404, "NotFound", `no route for ${JSON.stringify(pathname.slice(0, 128))}`);
}

function handle(svc: Service, req: IncomingMessage, res: ServerResponse): void {
  let reply: Reply;
  try {
    reply = route(svc, req);
  } catch (err) {
    if (err instanceof InvalidAddressError) {
      reply = error(400, "InvalidAddress", err.message);
    } else {
      svc.deps.log?.error({ err }, "steering request failed");
      reply = error(500, "Internal", "internal error");
    }
  }
  const body = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(JSON.stringify(reply.body));
  res.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": body.length,
    // Answers depend on the client address and carry expiring signatures.
    "cache-control": "no-store",
    ...reply.headers,
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

function describe(r: RankedCluster, health: SteeringState["health"], nowMs: number) {
  const h = health.get(r.cluster.name);
  return {
    name: r.cluster.name,
    region: r.cluster.region,
    ...(r.match ? { match: r.match } : {}),
    ...(r.distanceKm === undefined ? {} : { distanceKm: Math.round(r.distanceKm) }),
    load: r.load,
    servers: r.cluster.servers
      .filter((s) => isServerLive(h, s.name, nowMs))
      .map((s) => ({ name: s.name, ipv4: s.ipv4, ipv6: s.ipv6 })),
  };
}
