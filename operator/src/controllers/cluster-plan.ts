/**
 * What an OCACluster needs, decided from what is observed: pure, no I/O, no clock reads.
 *
 * Placement lifecycle (DESIGN.md decision 3): a new Placement is created Pending whenever the region's
 * catalog snapshot or the cluster's servers differ from those of its newest live Placement; the fill
 * controller (fill.ts) owns the phase from then on. This controller writes the Placement's expected
 * per-server bytes and traffic and its churn once, at creation, under its own field manager.
 */
import { createHash } from "node:crypto";
import {
  byAge,
  formatBitsPerSecond,
  formatBytes,
  heartbeatExpiry,
  isStale,
  type OCACluster,
  type OCAClusterStatus,
  type Placement,
  type PlacementSpec,
  type PlacementStatus,
  parseBitsPerSecond,
  phaseOf,
  type ServerStatus,
} from "../api/index.js";
import type { RegionCatalog } from "../catalog/catalog.js";
import { serversOf } from "../catalog/servers.js";
import {
  assign,
  churn,
  InfeasiblePlacementError,
  type PlanInput,
  type PlanResult,
  type Server,
} from "../placement/index.js";
import { type NewCondition, setConditions } from "./conditions.js";
import { fillWindowSeconds, fillWindowState } from "./fill-window.js";

/** A server's heartbeat Lease: its lease duration, and when this process saw it renewed (epoch ms). */
export type ServerHeartbeat = Readonly<{ leaseDurationSeconds: number; observedAt: number }>;

export type ClusterObservation = Readonly<{
  cluster: OCACluster;
  catalog: RegionCatalog;
  /** This cluster's Placements (spec.cluster = its name), parsed. */
  placements: readonly Placement[];
  /** The name of every Placement of the namespace, invalid ones included: a new one takes none of them. */
  placementNames?: ReadonlySet<string>;
  /** By server name. */
  heartbeats: ReadonlyMap<string, ServerHeartbeat>;
  now: Date;
}>;

export type NewPlacement = Readonly<{ name: string; spec: PlacementSpec; status: PlacementStatus }>;

export type ClusterDecision = Readonly<{
  create?: NewPlacement;
  status: OCAClusterStatus;
  /** Re-check then: a heartbeat expires or the fill window opens. */
  recheckAfterMs: number;
}>;

const live = (p: Placement) => phaseOf(p) !== "Superseded";

const sameServers = (p: PlacementSpec, servers: readonly Server[]) =>
  p.servers.length === servers.length && servers.every((s) => p.servers.some((t) => t.name === s.name));

/**
 * The name of a new Placement of `cluster` for the ring `spec`: "<cluster>-<10 hex digits>", a hash of
 * the ring (its catalog generation, cutoff and tokens) and of the first count n ≥ 0 for which no
 * Placement in `taken` has the name. The same ring and the same Placements give the same name, so a
 * retried create finds what the first attempt made; a ring planned again that equals an older
 * (Superseded) one, as after a popularity rollback, gets a name of its own instead of colliding with it.
 * Names of different clusters never meet: each ends in "-" and ten hex digits after its cluster's name.
 */
export function placementName(cluster: string, spec: PlacementSpec, taken: ReadonlySet<string> = new Set()): string {
  const ring = JSON.stringify(spec);
  for (let n = 0; ; n++) {
    const h = createHash("sha256")
      .update(n === 0 ? ring : `${ring}\0${n}`)
      .digest("hex")
      .slice(0, 10);
    if (!taken.has(`${cluster}-${h}`)) return `${cluster}-${h}`;
  }
}

/** What every check reads: the observation, and what is derived from it once. */
type Situation = Readonly<{
  o: ClusterObservation;
  servers: readonly Server[];
  /** The newest Active Placement, and the newest not Superseded (the one being filled, or the active one). */
  active: Placement | undefined;
  newest: Placement | undefined;
}>;

/** A condition's verdict; decide adds its type and the observed generation. */
type Verdict = Pick<NewCondition, "status" | "reason" | "message">;
const yes = (reason: string, message: string): Verdict => ({ status: "True", reason, message });
const no = (reason: string, message: string): Verdict => ({ status: "False", reason, message });

type ServerHealth = ReturnType<typeof serverHealth>[number];

/**
 * The cluster's status, conditions and whether a new Placement is due, each condition from its own
 * check: Placed (planPlacement), Filled, Degraded and Ready. Throws what `plan` throws, except
 * InfeasiblePlacementError, which is Placed=False.
 */
export function decide(o: ClusterObservation, plan: (i: PlanInput) => PlanResult): ClusterDecision {
  const placements = [...o.placements].sort(byAge);
  const s: Situation = {
    o,
    servers: serversOf(o.cluster.spec),
    active: placements.filter((p) => phaseOf(p) === "Active").at(-1),
    newest: placements.filter(live).at(-1),
  };
  const placed = planPlacement(s, plan);
  const pending = placed.create?.name ?? (s.newest && s.newest !== s.active ? s.newest.metadata.name : undefined);
  const health = serverHealth(s.servers, o.heartbeats, o.now);
  const observedGeneration = o.cluster.metadata.generation;
  const conditions: NewCondition[] = [
    { type: "Placed", ...placed.verdict, observedGeneration },
    { type: "Filled", ...filledCheck(s.active, pending, placements), observedGeneration },
    { type: "Degraded", ...degradedCheck(health), observedGeneration },
    { type: "Ready", ...readyCheck(s.active, health), observedGeneration },
  ];
  const window = fillWindowState(o.cluster.spec.fill.window, o.now);
  return {
    create: placed.create,
    status: clusterStatus(s, conditions, health, { create: placed.create, pending, nextFill: window.nextOpening }),
    recheckAfterMs: recheckAfter(health, window.nextStart, o.now),
  };
}

/** Placed: is there a Placement for the current catalog snapshot and servers, or can one be planned? */
function planPlacement(s: Situation, plan: (i: PlanInput) => PlanResult): { verdict: Verdict; create?: NewPlacement } {
  const { cluster, catalog } = s.o;
  const { spec } = cluster;
  const { servers, newest, active } = s;
  if (catalog.files.length === 0) return { verdict: no("EmptyCatalog", `no titles for region ${spec.region}`) };
  if (servers.length === 0) return { verdict: no("NoServers", "spec.servers is empty") };
  if (newest && newest.spec.catalogGeneration === catalog.generation && sameServers(newest.spec, servers)) {
    return { verdict: yes("UpToDate", `placement ${newest.metadata.name}`) };
  }
  let r: PlanResult;
  try {
    r = plan({
      cluster: cluster.metadata.name,
      catalogGeneration: catalog.generation,
      servers,
      catalog: catalog.files,
      cutoff: spec.hca.cutoff,
      hysteresis: spec.hca.hysteresis,
      previous: active?.spec,
      // The agents split the site's fill cap evenly over its servers.
      fillBudgetBytes:
        ((parseBitsPerSecond(spec.fill.bandwidthCap) / 8) * fillWindowSeconds(spec.fill.window)) / servers.length,
    });
  } catch (err) {
    if (!(err instanceof InfeasiblePlacementError)) throw err;
    return { verdict: no("Infeasible", err.message) };
  }
  const pspec: PlacementSpec = {
    cluster: cluster.metadata.name,
    catalogGeneration: r.plan.catalogGeneration,
    cutoff: r.plan.cutoff,
    servers: r.plan.servers.map((x) => ({ name: x.name, headTokens: x.headTokens, tailTokens: x.tailTokens })),
  };
  const create: NewPlacement = {
    name: placementName(
      cluster.metadata.name,
      pspec,
      s.o.placementNames ?? new Set(s.o.placements.map((p) => p.metadata.name)),
    ),
    spec: pspec,
    status: {
      servers: r.expectations.servers.map((x) => ({
        name: x.name,
        expectedBytes: Math.round(x.expectedBytes),
        trafficShare: x.trafficShare,
      })),
      ...(active ? { churn: placementChurn(active, pspec, catalog, servers) } : {}),
    },
  };
  return { verdict: yes("Planned", `new placement ${create.name} (cutoff ${pspec.cutoff})`), create };
}

/**
 * Filled: the active Placement serves, and no newer one waits for its fill. While one waits, its own
 * Filled condition (the fill controller's: which server lacks how many files, or how much space) is
 * repeated here, so `kubectl describe oca` says what holds the fill up.
 */
function filledCheck(
  active: Placement | undefined,
  pending: string | undefined,
  placements: readonly Placement[],
): Verdict {
  if (active && !pending) return yes("Active", `placement ${active.metadata.name} is filled and active`);
  if (!pending) return no("NoPlacement", "nothing placed yet");
  const why = placements
    .find((p) => p.metadata.name === pending)
    ?.status?.conditions?.find((c) => c.type === "Filled" && c.status === "False")?.message;
  return no("FillPending", `placement ${pending} waits for its fill${why ? `: ${why}` : ""}`);
}

/** Degraded: some server's heartbeat went stale. */
function degradedCheck(health: readonly ServerHealth[]): Verdict {
  const stale = health.filter((h) => h.health === "Stale").map((h) => h.name);
  return stale.length
    ? { status: "True", reason: "StaleHeartbeats", message: `no recent heartbeat from ${stale.join(", ")}` }
    : { status: "False", reason: "AllHeartbeating", message: "" };
}

/** Ready: a filled Placement to serve from, and at least one server heartbeating. */
function readyCheck(active: Placement | undefined, health: readonly ServerHealth[]): Verdict {
  const healthy = health.filter((h) => h.health === "Healthy").length;
  if (!active) return no("NoActivePlacement", "no filled placement to serve from yet");
  if (healthy === 0) return no("NoHealthyServers", "no server has a fresh heartbeat");
  return yes("Serving", `${healthy}/${health.length} servers healthy`);
}

/** The status: the conditions, per-server expectations and health, capacity, and the fill schedule. */
function clusterStatus(
  s: Situation,
  conditions: readonly NewCondition[],
  health: readonly ServerHealth[],
  fill: Readonly<{ create: NewPlacement | undefined; pending: string | undefined; nextFill: Date }>,
): OCAClusterStatus {
  const { cluster, now } = s.o;
  const { servers, active, newest } = s;
  // Per-server expectations come from the plan behind the newest live Placement (or the one just made).
  const shown =
    fill.create ??
    (newest ? { name: newest.metadata.name, spec: newest.spec, status: newest.status ?? {} } : undefined);
  const expectBy = new Map((shown?.status.servers ?? []).map((x) => [x.name, x]));
  const tokensBy = new Map((shown?.spec.servers ?? []).map((x) => [x.name, x]));
  return {
    observedGeneration: cluster.metadata.generation,
    conditions: setConditions(mine(cluster.status?.conditions), conditions, now),
    servers: health.map(
      (h): ServerStatus => ({
        name: h.name,
        headTokens: tokensBy.get(h.name)?.headTokens ?? 0,
        tailTokens: tokensBy.get(h.name)?.tailTokens ?? 0,
        expectedBytes: expectBy.get(h.name)?.expectedBytes ?? 0,
        trafficShare: expectBy.get(h.name)?.trafficShare ?? 0,
        health: h.health,
      }),
    ),
    capacity: {
      servers: servers.length,
      readyServers: health.filter((h) => h.health === "Healthy").length,
      storage: formatBytes(servers.reduce((a, x) => a + x.storageBytes, 0)),
      throughput: formatBitsPerSecond(servers.reduce((a, x) => a + x.throughputBitsPerSec, 0)),
    },
    ...(active ? { activePlacement: active.metadata.name } : {}),
    ...(fill.pending ? { pendingPlacement: fill.pending } : {}),
    ...(active ? lastFillOf(active) : {}),
    nextFill: iso(fill.nextFill),
  };
}

/** Watches do not fire on time passing: re-check when a heartbeat expires or the fill window opens. */
function recheckAfter(health: readonly ServerHealth[], nextFill: Date, now: Date): number {
  const expiries = health.flatMap((h) => (h.expiresAt ? [h.expiresAt.getTime() - now.getTime()] : []));
  return Math.max(
    1000,
    Math.min(60_000, nextFill.getTime() - now.getTime() || 60_000, ...expiries.filter((ms) => ms >= 0)),
  );
}

/** When the active Placement's fill started and finished, from the conditions the fill controller sets. */
function lastFillOf(p: Placement): Pick<OCAClusterStatus, "lastFill"> {
  const at = (type: string) =>
    p.status?.conditions?.find((c) => c.type === type && c.status === "True")?.lastTransitionTime;
  const start = at("FillStarted");
  const end = at("Filled");
  return start ? { lastFill: { start, ...(end ? { end } : {}) } } : {};
}

/** The condition types this controller owns; others (EdgeConfigured) belong to other field managers. */
const owned = new Set(["Ready", "Placed", "Filled", "Degraded"]);
const mine = (cs: OCAClusterStatus["conditions"]) => (cs ?? []).filter((c) => owned.has(c.type));

const iso = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");

/**
 * Health only, not the time of the last heartbeat: status changes when a server's health does, not
 * every heartbeat (1,000 servers beating every 10 s would otherwise be 100 status writes a second).
 */
function serverHealth(servers: readonly Server[], beats: ReadonlyMap<string, ServerHeartbeat>, now: Date) {
  return servers.map((s) => {
    const b = beats.get(s.name);
    if (!b) return { name: s.name, health: "Unknown" as const };
    const expiresAt = new Date(heartbeatExpiry(b, b.observedAt));
    return {
      name: s.name,
      health: isStale(expiresAt.getTime(), now.getTime()) ? ("Stale" as const) : ("Healthy" as const),
      expiresAt,
    };
  });
}

/**
 * Bytes and files the servers must fetch to move from the active Placement to the new one. Both rings
 * are assigned over the current catalog snapshot: this is the cost of the ring change (weights,
 * cutoff, servers); files the old snapshot placed that the new one drops cost nothing to add.
 */
function placementChurn(active: Placement, next: PlacementSpec, catalog: RegionCatalog, servers: readonly Server[]) {
  const after = assign(next, catalog.files, servers);
  const oldServers = servers.filter((s) => active.spec.servers.some((t) => t.name === s.name));
  if (oldServers.length < active.spec.servers.length) {
    // A server was removed and its capacity is gone from the spec: count every stored byte as moved.
    const bytes = after.bytes.reduce((a, b) => a + b, 0);
    return { previous: active.metadata.name, files: after.catalog.length, bytes: Math.round(bytes) };
  }
  const c = churn(assign(active.spec, catalog.files, oldServers), after);
  return { previous: active.metadata.name, files: c.files, bytes: Math.round(c.totalBytes) };
}
