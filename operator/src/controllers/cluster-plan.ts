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

export type ServerHeartbeat = Readonly<{ renewTime: Date; leaseDurationSeconds: number }>;

export type ClusterObservation = Readonly<{
  cluster: OCACluster;
  catalog: RegionCatalog;
  /** This cluster's Placements (spec.cluster = its name), parsed. */
  placements: readonly Placement[];
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

/** A name that is the same for the same ring, so a retried create finds what the first attempt made. */
export function placementName(cluster: string, spec: PlacementSpec): string {
  const h = createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 10);
  return `${cluster}-${h}`;
}

export function decide(o: ClusterObservation, plan: (i: PlanInput) => PlanResult): ClusterDecision {
  const { cluster, catalog, now } = o;
  const spec = cluster.spec;
  const servers = serversOf(spec);
  const placements = [...o.placements].sort(byAge);
  const active = placements.filter((p) => phaseOf(p) === "Active").at(-1);
  const newest = placements.filter(live).at(-1);
  const conditions: NewCondition[] = [];
  const gen = cluster.metadata.generation;
  let create: NewPlacement | undefined;

  const upToDate = newest && newest.spec.catalogGeneration === catalog.generation && sameServers(newest.spec, servers);
  if (catalog.files.length === 0) {
    conditions.push({
      type: "Placed",
      status: "False",
      reason: "EmptyCatalog",
      message: `no titles for region ${spec.region}`,
      observedGeneration: gen,
    });
  } else if (servers.length === 0) {
    conditions.push({
      type: "Placed",
      status: "False",
      reason: "NoServers",
      message: "spec.servers is empty",
      observedGeneration: gen,
    });
  } else if (upToDate) {
    conditions.push({
      type: "Placed",
      status: "True",
      reason: "UpToDate",
      message: `placement ${newest.metadata.name}`,
      observedGeneration: gen,
    });
  } else {
    try {
      const r = plan({
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
      const pspec: PlacementSpec = {
        cluster: cluster.metadata.name,
        catalogGeneration: r.plan.catalogGeneration,
        cutoff: r.plan.cutoff,
        servers: r.plan.servers.map((s) => ({ name: s.name, headTokens: s.headTokens, tailTokens: s.tailTokens })),
      };
      create = {
        name: placementName(cluster.metadata.name, pspec),
        spec: pspec,
        status: {
          servers: r.expectations.servers.map((s) => ({
            name: s.name,
            expectedBytes: Math.round(s.expectedBytes),
            trafficShare: s.trafficShare,
          })),
          ...(active ? { churn: placementChurn(active, pspec, catalog, servers) } : {}),
        },
      };
      conditions.push({
        type: "Placed",
        status: "True",
        reason: "Planned",
        message: `new placement ${create.name} (cutoff ${pspec.cutoff})`,
        observedGeneration: gen,
      });
    } catch (err) {
      if (!(err instanceof InfeasiblePlacementError)) throw err;
      conditions.push({
        type: "Placed",
        status: "False",
        reason: "Infeasible",
        message: err.message,
        observedGeneration: gen,
      });
    }
  }
  const pending = create?.name ?? (newest && newest !== active ? newest.metadata.name : undefined);
  conditions.push(
    active && !pending
      ? {
          type: "Filled",
          status: "True",
          reason: "Active",
          message: `placement ${active.metadata.name} is filled and active`,
          observedGeneration: gen,
        }
      : {
          type: "Filled",
          status: "False",
          reason: pending ? "FillPending" : "NoPlacement",
          message: pending ? `placement ${pending} waits for its fill` : "nothing placed yet",
          observedGeneration: gen,
        },
  );

  const health = serverHealth(servers, o.heartbeats, now);
  const stale = health.filter((h) => h.health === "Stale").map((h) => h.name);
  const healthy = health.filter((h) => h.health === "Healthy").length;
  conditions.push(
    stale.length
      ? {
          type: "Degraded",
          status: "True",
          reason: "StaleHeartbeats",
          message: `no recent heartbeat from ${stale.join(", ")}`,
          observedGeneration: gen,
        }
      : { type: "Degraded", status: "False", reason: "AllHeartbeating", message: "", observedGeneration: gen },
  );
  conditions.push(
    !active
      ? {
          type: "Ready",
          status: "False",
          reason: "NoActivePlacement",
          message: "no filled placement to serve from yet",
          observedGeneration: gen,
        }
      : healthy === 0
        ? {
            type: "Ready",
            status: "False",
            reason: "NoHealthyServers",
            message: "no server has a fresh heartbeat",
            observedGeneration: gen,
          }
        : {
            type: "Ready",
            status: "True",
            reason: "Serving",
            message: `${healthy}/${servers.length} servers healthy`,
            observedGeneration: gen,
          },
  );

  // Per-server expectations come from the plan behind the newest live Placement (or the one just made).
  const shown =
    create ?? (newest ? { name: newest.metadata.name, spec: newest.spec, status: newest.status ?? {} } : undefined);
  const expectBy = new Map((shown?.status.servers ?? []).map((s) => [s.name, s]));
  const tokensBy = new Map((shown?.spec.servers ?? []).map((s) => [s.name, s]));
  const window = fillWindowState(spec.fill.window, now);
  const old = cluster.status ?? {};
  const status: OCAClusterStatus = {
    observedGeneration: gen,
    conditions: setConditions(mine(old.conditions), conditions, now),
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
      readyServers: healthy,
      storage: formatBytes(servers.reduce((a, s) => a + s.storageBytes, 0)),
      throughput: formatBitsPerSecond(servers.reduce((a, s) => a + s.throughputBitsPerSec, 0)),
    },
    ...(active ? { activePlacement: active.metadata.name } : {}),
    ...(pending ? { pendingPlacement: pending } : {}),
    ...(active ? lastFillOf(active) : {}),
    nextFill: iso(window.nextStart),
  };
  const expiries = health.flatMap((h) => (h.expiresAt ? [h.expiresAt.getTime() - now.getTime()] : []));
  const recheckAfterMs = Math.max(
    1000,
    Math.min(60_000, window.nextStart.getTime() - now.getTime() || 60_000, ...expiries.filter((ms) => ms > 0)),
  );
  return { create, status, recheckAfterMs };
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
    const expiresAt = new Date(b.renewTime.getTime() + b.leaseDurationSeconds * 1000);
    return {
      name: s.name,
      health: expiresAt > now ? ("Healthy" as const) : ("Stale" as const),
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
  const before = assign(active.spec, catalog.files, oldServers);
  const c = churn(before, after);
  let files = 0;
  for (let i = 0; i < after.catalog.length; i++) {
    const key = after.catalog[i]?.key ?? "";
    const was = new Set(before.holdersOf(key));
    for (const j of after.holdersAt(i)) if (!was.has(after.servers[j] ?? "")) files++;
  }
  return { previous: active.metadata.name, files, bytes: Math.round(c.totalBytes) };
}
