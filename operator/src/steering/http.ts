/**
 * The steering HTTP service: `GET /v1/steering?ip=…` (ranked clusters and their live endpoints) and
 * `GET /v1/playback/{title}` (the manifest with signed URLs to live servers). All decisions live in the
 * pure modules; this file only turns requests into their inputs and results into JSON.
 *
 * Until the process has filled its view of the fleet it answers 503 NotSynced. While its heartbeat
 * watch is down it keeps answering from the last view (freshness.ts), for at most
 * `staleWhileErrorSeconds`: each such answer carries `X-Edgefleet-Stale: <seconds since the watch
 * broke>`, and a 200's body `"stale": {"since": <when>}`.
 *
 * Abuse: the manifest cache is bounded in bytes; connections are capped (`maxConnections`); a request's
 * headers must arrive within `headersTimeoutSeconds` and the whole request within
 * `requestTimeoutSeconds` (checked every quarter of the headers timeout, not Node's default 30 s, so
 * a slow socket is gone when its timeout says); an idle keep-alive connection closes after
 * `keepAliveTimeoutSeconds`, and a socket without traffic either way (a client that stops reading)
 * after `requestTimeoutSeconds`; an optional per-client rate limit answers 429.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { z } from "zod";
import { clientAddress, clientNet, TrustedProxies } from "./client-address.js";
import { CURRENT_VIEW, type FleetView, type LivenessClock, livenessClock } from "./freshness.js";
import { formatIp, InvalidAddressError, type IpAddress, parseIp } from "./ip.js";
import { isServerLive, liveSetKey } from "./liveness.js";
import { ManifestCache, ownBuffer } from "./manifest-cache.js";
import { buildManifest, signingKid } from "./playback.js";
import { type RankedCluster, rankClusters } from "./rank.js";
import { RateLimiter } from "./rate-limit.js";
import type { LatLon } from "./snapshot.js";
import type { SteeringState } from "./store.js";
import { handleTelemetry, TELEMETRY_PATH, type TelemetryMetrics } from "./telemetry.js";

const latLon = z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) });

const MiB = 1 << 20;
const seconds = (max: number) => z.number().gt(0).max(max);

/** Service settings, validated once at startup; the CLI maps flags and environment onto this. */
export const SteeringServiceConfig = z
  .strictObject({
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
    /** Bytes of serialised manifests kept for reuse (manifest-cache.ts); 0 keeps none. */
    manifestCacheBytes: z
      .int()
      .min(0)
      .max(64 * 1024 * MiB)
      .default(256 * MiB),
    /** How long answers keep coming from the last view while the heartbeat watch is down (freshness.ts); 0: never. */
    staleWhileErrorSeconds: z.int().min(0).max(86_400).default(600),
    /** Connections open at once; more are closed as they arrive. */
    maxConnections: z.int().min(1).max(1_000_000).default(8192),
    /** From a connection's first byte (or its previous answer) to the end of a request's headers. */
    headersTimeoutSeconds: seconds(300).default(5),
    /** To the end of the whole request; at least the headers timeout. */
    requestTimeoutSeconds: seconds(600).default(10),
    /** An idle keep-alive connection closes after this. */
    keepAliveTimeoutSeconds: seconds(300).default(5),
    /** Requests per second per client (IPv4 address, IPv6 /64); 0: no limit. */
    rateLimitPerSecond: z.number().min(0).max(1_000_000).default(0),
    /** Requests a client may make at once before its rate applies. */
    rateLimitBurst: z.int().min(1).max(1_000_000).default(20),
  })
  .refine((c) => c.requestTimeoutSeconds >= c.headersTimeoutSeconds, {
    path: ["requestTimeoutSeconds"],
    message: "must be at least the headers timeout",
  });
export type SteeringServiceConfig = z.infer<typeof SteeringServiceConfig>;

export type SteeringServiceDeps = Readonly<{
  state: () => SteeringState;
  /** Epoch milliseconds; injected so tests can age heartbeats. */
  now: () => number;
  /** Client location from a geo database; undefined falls back to `regionDefault`. */
  geo?: ((address: IpAddress) => LatLon | undefined) | undefined;
  /** Whether the view is filled and kept current (freshness.ts); always current when not given. */
  view?: (() => FleetView) | undefined;
  log?: Logger | undefined;
  /** Where `POST /v1/telemetry` reports are recorded (telemetry.ts); validated even without. */
  telemetry?: TelemetryMetrics | undefined;
  /** Which worker of a multi-worker pod answers (workers.ts): every answer says so in X-Edgefleet-Worker. */
  worker?: number | undefined;
  /** Sees every answer: which API, its status, and how long it took (metrics: process.ts). */
  observe?: ((a: Readonly<{ route: SteeringRoute; code: number; seconds: number }>) => void) | undefined;
}>;

/** Which API a request asked for: a bounded metric label, never the path itself. */
export type SteeringRoute = "steering" | "playback" | "other";
const routeOf = (url = ""): SteeringRoute =>
  url.startsWith("/v1/steering") ? "steering" : url.startsWith(PLAYBACK) ? "playback" : "other";

/** The steering server, with what its manifest cache holds (bytes as it charges them). */
export type SteeringServer = Server &
  Readonly<{ manifestCache: Readonly<{ bytes: number; entries: number; maxBytes: number }> }>;

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
export function spreadOf(address: IpAddress): number {
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
  limiter: RateLimiter | undefined;
  deps: SteeringServiceDeps;
}>;

/** Validates settings; throws SteeringConfigError naming each field and rule. */
export function parseSteeringConfig(config: z.input<typeof SteeringServiceConfig>): SteeringServiceConfig {
  const parsed = SteeringServiceConfig.safeParse(config);
  if (!parsed.success) {
    throw new SteeringConfigError(`invalid steering settings: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

export function createSteeringServer(
  config: z.input<typeof SteeringServiceConfig>,
  deps: SteeringServiceDeps,
): SteeringServer {
  const cfg = parseSteeringConfig(config);
  let trusted: TrustedProxies;
  try {
    trusted = new TrustedProxies(cfg.trustedProxies);
  } catch (err) {
    throw new SteeringConfigError(`invalid steering settings: ${String(err)}`, { cause: err });
  }
  const limiter =
    cfg.rateLimitPerSecond > 0
      ? new RateLimiter({ perSecond: cfg.rateLimitPerSecond, burst: cfg.rateLimitBurst })
      : undefined;
  const cache = new ManifestCache(cfg.manifestCacheBytes);
  const svc: Service = { cfg, trusted, cache, limiter, deps };
  const headersTimeout = cfg.headersTimeoutSeconds * 1000;
  const server = createServer(
    {
      maxHeaderSize: cfg.maxHeaderBytes,
      headersTimeout,
      requestTimeout: cfg.requestTimeoutSeconds * 1000,
      keepAliveTimeout: cfg.keepAliveTimeoutSeconds * 1000,
      // Node checks both timeouts only this often (30 s by default): a slow socket would outlive them.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, headersTimeout / 4)),
    },
    (req, res) => handle(svc, req, res),
  );
  server.maxConnections = cfg.maxConnections;
  // A socket with no traffic either way for this long is destroyed: a client that stops reading its
  // answers blocks our writes (Node then stops reading its requests), and would otherwise hold on.
  server.timeout = cfg.requestTimeoutSeconds * 1000;
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => clientError(cfg, err, socket));
  return Object.assign(server, { manifestCache: cache });
}

/** A request Node could not parse or that took too long: a JSON answer when the socket still takes one. */
function clientError(cfg: SteeringServiceConfig, err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return void socket.destroy();
  const [status, reason, code, message] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [
          431,
          "Request Header Fields Too Large",
          "HeadersTooLarge",
          `headers: must be at most ${cfg.maxHeaderBytes} bytes in all`,
        ]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request Timeout", "RequestTimeout", "the request did not arrive in time"]
        : [400, "Bad Request", "BadRequest", "malformed HTTP request"];
  const body = JSON.stringify({ error: { code, message } });
  // Destroyed once written, not merely ended: the server keeps half-open sockets, and a client that
  // never reads would never close its side (so never free the server's).
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/**
 * What one request reads, taken once: the state, the time, and the instant liveness is judged at (the
 * same as `nowMs` unless the heartbeat watch is down): ranking, liveness and link expiry all agree.
 */
type Request = Readonly<{ state: SteeringState; nowMs: number; clock: LivenessClock }>;

function rank(svc: Service, r: Request, address: IpAddress) {
  return rankClusters({
    index: r.state.index,
    health: r.state.health,
    policy: { saturationLoad: svc.cfg.saturationLoad },
    nowMs: r.clock.atMs,
    address,
    clientLocation: svc.deps.geo?.(address) ?? svc.cfg.regionDefault,
  });
}

/** What a 200 carries while the view is stale: when the heartbeat watch broke. */
const staleField = (r: Request) =>
  r.clock.stale === undefined ? {} : { stale: { since: new Date(r.clock.stale.sinceMs).toISOString() } };

function noCluster(svc: Service, r: Request): Reply {
  const stale = r.clock.stale;
  const why =
    stale === undefined || stale.held
      ? ""
      : ` (the heartbeat watch has been down for ${Math.round((r.nowMs - stale.sinceMs) / 1000)} s, longer than the ${svc.cfg.staleWhileErrorSeconds} s steering answers from its last view)`;
  return error(503, "NoClusterAvailable", `no healthy cluster can serve this client${why}`);
}

/**
 * `GET /v1/steering?ip=…`: the clusters for an address (the client's own without `ip`), best first,
 * each with its servers that are live now.
 */
function steering(svc: Service, r: Request, query: URLSearchParams, client: () => IpAddress): Reply {
  const ipParam = query.get("ip");
  const address = ipParam === null ? client() : parseIp(ipParam, "ip");
  const ranking = rank(svc, r, address);
  if (ranking.clusters.length === 0) return noCluster(svc, r);
  return {
    status: 200,
    body: {
      client: formatIp(address),
      by: ranking.by,
      clusters: ranking.clusters.slice(0, svc.cfg.maxClusters).map((c) => describe(c, r.state.health, r.clock.atMs)),
      ...staleField(r),
    },
  };
}

/**
 * `GET /v1/playback/{title}`: the title's manifest with signed URLs, cached per client network (its
 * /24 or /48, which every link is bound to), spread class and minute. The cache key names the live
 * servers of each top cluster (liveSetKey) and the kid its links are signed with, so a cached manifest
 * never outlives a server's liveness or a rotation's step, and a server that renews after going stale
 * is named again at once; a stale answer has a key of its own (its body says it is stale).
 */
function playback(svc: Service, r: Request, id: string, client: () => IpAddress): Reply {
  const { cfg, cache } = svc;
  const { state, clock } = r;
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
  const ranking = rank(svc, r, address);
  if (ranking.clusters.length === 0) return noCluster(svc, r);
  const expiresMs = Math.ceil((r.nowMs + cfg.urlTtlSeconds * 1000) / EXPIRY_STEP_MS) * EXPIRY_STEP_MS;
  const top = ranking.clusters.slice(0, cfg.maxClusters).map(({ cluster: c }) => {
    const health = state.health.get(c.name);
    const keys = state.linkKeys.get(c.name);
    const kid = keys === undefined ? "" : signingKid(keys, health?.linkKids);
    return `${c.name}${liveSetKey(c, health, clock.atMs)}@${kid}`;
  });
  const spread = spreadOf(address);
  const net = clientNet(address);
  const stale = clock.stale === undefined ? "" : ` ~${clock.stale.sinceMs}`;
  const key = `${id} ${net} ${spread} ${expiresMs} ${top.join(" ")}${stale}`;
  const cached = cache.get(state.generation, key);
  if (cached !== undefined) return { status: 200, body: cached };
  const manifest = buildManifest({
    title,
    ranked: ranking.clusters,
    maxClusters: cfg.maxClusters,
    placements: state.placements,
    linkKeys: state.linkKeys,
    health: state.health,
    nowMs: clock.atMs,
    clientFamily: address.family,
    clientNet: net,
    spread,
    expiresAt: new Date(expiresMs),
  });
  if (manifest === undefined) {
    return error(404, "TitleNotAvailable", `title "${id}" is not filled in any cluster that serves this client yet`);
  }
  const body = ownBuffer(JSON.stringify({ ...manifest, ...staleField(r) }));
  cache.set(state.generation, key, body);
  return { status: 200, body };
}

/** Checks that come before any routing: the request's size and method, the view, the client's rate. */
function admit(svc: Service, req: IncomingMessage, view: FleetView, client: () => IpAddress): Reply | undefined {
  const raw = req.url ?? "/";
  if (Buffer.byteLength(raw) > svc.cfg.maxUrlBytes) {
    return error(414, "UriTooLong", `request target: must be at most ${svc.cfg.maxUrlBytes} bytes`);
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    return error(405, "MethodNotAllowed", "method: only GET and HEAD", { allow: "GET, HEAD" });
  }
  const wait = svc.limiter?.take(client(), svc.deps.now()) ?? 0;
  if (wait > 0) {
    return error(
      429,
      "TooManyRequests",
      `more than ${svc.cfg.rateLimitPerSecond} requests per second from this client`,
      {
        "retry-after": String(wait),
      },
    );
  }
  if (!view.synced) {
    const waiting = view.waitingFor.length > 0 ? ` (waiting for ${view.waitingFor.join(", ")})` : "";
    return error(503, "NotSynced", `steering has not loaded the fleet from the API yet${waiting}`, {
      "retry-after": "1",
    });
  }
  return undefined;
}

/** Takes from the client's rate for a request handled outside `admit` (telemetry); true when none is left. */
const rateLimited = (svc: Service, req: IncomingMessage): boolean =>
  (svc.limiter?.take(
    clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], svc.trusted),
    svc.deps.now(),
  ) ?? 0) > 0;

function route(svc: Service, req: IncomingMessage): Reply {
  const view = svc.deps.view?.() ?? CURRENT_VIEW;
  const client = () => clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], svc.trusted);
  const refused = admit(svc, req, view, client);
  if (refused !== undefined) return refused;
  const raw = req.url ?? "/";
  const q = raw.indexOf("?");
  const pathname = q < 0 ? raw : raw.slice(0, q);
  const nowMs = svc.deps.now();
  const r: Request = {
    state: svc.deps.state(),
    nowMs,
    clock: livenessClock(nowMs, view, svc.cfg.staleWhileErrorSeconds * 1000),
  };
  let reply: Reply;
  if (pathname === "/v1/steering") reply = steering(svc, r, new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)), client);
  else if (pathname.startsWith(PLAYBACK)) reply = playback(svc, r, pathname.slice(PLAYBACK.length), client);
  else reply = error(404, "NotFound", `no route for ${JSON.stringify(pathname.slice(0, 128))}`);
  const stale = r.clock.stale;
  if (stale === undefined) return reply;
  const age = String(Math.max(0, Math.floor((nowMs - stale.sinceMs) / 1000)));
  return { ...reply, headers: { ...reply.headers, [STALE_HEADER]: age } };
}

/** On every answer of a multi-worker pod: which worker gave it (to tell workers apart when they disagree). */
export const WORKER_HEADER = "x-edgefleet-worker";

/** On every answer given while the heartbeat watch is down: whole seconds since it broke. */
export const STALE_HEADER = "x-edgefleet-stale";

function handle(svc: Service, req: IncomingMessage, res: ServerResponse): void {
  const t0 = performance.now();
  let reply: Reply;
  try {
    if (req.method === "POST" && req.url?.split("?")[0] === TELEMETRY_PATH && !rateLimited(svc, req)) {
      void handleTelemetry(req, res, () => svc.deps.state().index.clusters, svc.deps.telemetry);
      return;
    }
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
    ...(svc.deps.worker === undefined ? {} : { [WORKER_HEADER]: String(svc.deps.worker) }),
    ...reply.headers,
  });
  res.end(req.method === "HEAD" ? undefined : body);
  svc.deps.observe?.({ route: routeOf(req.url), code: reply.status, seconds: (performance.now() - t0) / 1000 });
}

function describe(r: RankedCluster, health: SteeringState["health"], atMs: number) {
  const h = health.get(r.cluster.name);
  return {
    name: r.cluster.name,
    region: r.cluster.region,
    ...(r.match ? { match: r.match } : {}),
    ...(r.distanceKm === undefined ? {} : { distanceKm: Math.round(r.distanceKm) }),
    load: r.load,
    servers: r.cluster.servers
      .filter((s) => isServerLive(h, s.name, atMs))
      .map((s) => ({ name: s.name, ipv4: s.ipv4, ipv6: s.ipv6 })),
  };
}
