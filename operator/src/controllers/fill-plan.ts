/**
 * The fill lifecycle of one Placement (DESIGN.md decision 3), decided from what is observed. Pure.
 *
 *   Pending ──window opens──► Filling (one fill Job per server, on that server's node)
 *   Filling ──every server's fill Job complete──► Active (promotedAt recorded; the cluster's previous
 *            Active becomes Superseded, supersededAt recorded)
 *   Pending or Filling ──a newer live Placement of the cluster exists──► Superseded (nothing of it
 *                        was served; its agents would refuse a catalog that has moved on anyway)
 *   Active ──evictDelaySeconds after promotion──► one evict Job per server: files no live Placement
 *            names leave the disk, only once no signed URL can still send a client to them (URLs
 *            signed before the promotion point at the old servers until they expire)
 *
 * A server counts as filled only when its fill Job completed: the agent exits non-zero while any file
 * is missing or fails its sha256, so the Placement stays Filling, its condition naming the server and
 * how many files (or bytes of space) it lacks, from the agent's report. A failed Job is run again
 * retryFailedAfterSeconds later while the window is open, else in the next window. Which servers
 * filled and evicted is kept in status, so Jobs deleted by their TTL are not run again. Superseded
 * Placements beyond the newest keepSuperseded are deleted once their files are no longer protected.
 */
import {
  type AgentReport,
  byAge,
  type Condition,
  formatBytes,
  type OCACluster,
  type Placement,
  type PlacementStatus,
  phaseOf,
  promotedAt,
} from "../api/index.js";
import { type NewCondition, setConditions } from "./conditions.js";
import { type FillPolicy, fillJobName, type JobMode, type JobToCreate } from "./fill-job.js";
import { fillWindowState } from "./fill-window.js";

export type JobState = "Running" | "Complete" | "Failed";
export type FillJob = Readonly<{
  name: string;
  server: string;
  mode: JobMode;
  state: JobState;
  /** When it failed (its Failed condition's transition); a retry waits from then. */
  failedAt?: Date | undefined;
  /** What its agent reported when it failed (its termination message), if anything. */
  report?: AgentReport | undefined;
}>;

export type FillObservation = Readonly<{
  placement: Placement;
  cluster: OCACluster;
  /** The cluster's other Placements. */
  siblings: readonly Placement[];
  /** This Placement's fill and evict Jobs. */
  jobs: readonly FillJob[];
  policy: FillPolicy;
  now: Date;
}>;

/** The part of Placement status this controller owns. */
export type FillStatus = Pick<
  PlacementStatus,
  "observedGeneration" | "phase" | "conditions" | "promotedAt" | "supersededAt" | "filledServers" | "evictedServers"
>;

export type FillDecision = Readonly<{
  status: FillStatus;
  createJobs: readonly JobToCreate[];
  /** Failed Jobs to delete so that they run again. */
  deleteJobs: readonly string[];
  /** Active siblings that this Placement replaces (their status: Superseded, supersededAt now). */
  supersede: readonly string[];
  /** Superseded siblings past keepSuperseded whose files are no longer protected. */
  deletePlacements: readonly string[];
  recheckAfterMs?: number;
}>;

type Server = OCACluster["spec"]["servers"][number];

/** What every branch of the decision reads, derived once. */
type Situation = Readonly<{
  o: FillObservation;
  servers: readonly Server[];
  status: (phase: NonNullable<PlacementStatus["phase"]>, cs: NewCondition[], set?: Partial<FillStatus>) => FillStatus;
  cond: (type: string, st: "True" | "False", reason: string, message: string) => NewCondition;
}>;

const iso = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");
const ms = (s: string | undefined) => (s === undefined ? undefined : Date.parse(s));

/** One Job of `mode` per server, on its node. */
const jobsFor = (
  placement: Placement,
  mode: JobMode,
  activeDeadlineSeconds: number,
  servers: readonly Server[],
): JobToCreate[] =>
  servers.map((s) => ({
    name: fillJobName(placement.metadata.name, s.name, mode),
    mode,
    server: s.name,
    node: s.node,
    activeDeadlineSeconds,
  }));

function situation(o: FillObservation): Situation {
  const { placement, now } = o;
  const gen = placement.metadata.generation;
  const old = placement.status ?? {};
  const servers = o.cluster.spec.servers.filter((s) => placement.spec.servers.some((p) => p.name === s.name));
  return {
    o,
    servers,
    // Server-side apply drops a field its manager stops sending: every write carries what is kept.
    status: (phase, cs, set = {}) => ({
      observedGeneration: gen,
      phase,
      conditions: setConditions(old.conditions ?? ([] as Condition[]), cs, now),
      promotedAt: old.promotedAt,
      supersededAt: old.supersededAt,
      filledServers: old.filledServers,
      evictedServers: old.evictedServers,
      ...set,
    }),
    cond: (type, status, reason, message) => ({ type, status, reason, message, observedGeneration: gen }),
  };
}

export function decideFill(o: FillObservation): FillDecision {
  const s = situation(o);
  const gc = supersededToDelete(o);
  const d = decidePhase(s);
  const rechecks = [d.recheckAfterMs, gc.recheckAfterMs].filter((x): x is number => x !== undefined);
  return {
    ...d,
    deletePlacements: gc.names,
    ...(rechecks.length > 0 ? { recheckAfterMs: Math.min(...rechecks) } : {}),
  };
}

function decidePhase(s: Situation): Omit<FillDecision, "deletePlacements"> {
  const { o } = s;
  const none = { createJobs: [], deleteJobs: [], supersede: [] };
  const phase = phaseOf(o.placement);
  if (phase === "Superseded") return { ...none, status: s.status(phase, []) };
  if (phase === "Active") return decideEvict(s);
  const newer = o.siblings.some((x) => phaseOf(x) !== "Superseded" && byAge(x, o.placement) > 0);
  if (newer) {
    const why = s.cond("Filled", "False", "Superseded", "a newer placement replaced it before its fill");
    return { ...none, status: s.status("Superseded", [why], { supersededAt: iso(o.now) }) };
  }
  return decideFilling(s, phase);
}

/** Servers listed in `recorded` or whose `mode` Job completed, in the cluster's order. */
function doneServers(s: Situation, mode: JobMode, recorded: readonly string[] | undefined): string[] {
  const done = new Set(recorded ?? []);
  for (const j of s.o.jobs) if (j.mode === mode && j.state === "Complete") done.add(j.server);
  return s.servers.filter((x) => done.has(x.name)).map((x) => x.name);
}

/**
 * Failed Jobs of `mode` (of servers not done): which to delete now so that they run again, and when
 * the next one is due.
 */
function failedJobs(s: Situation, mode: JobMode, done: readonly string[], retry: boolean) {
  const failed = s.o.jobs.filter((j) => j.mode === mode && j.state === "Failed" && !done.includes(j.server));
  const afterMs = s.o.policy.retryFailedAfterSeconds * 1000;
  const dueIn = (j: FillJob) => (j.failedAt ? j.failedAt.getTime() + afterMs - s.o.now.getTime() : 0);
  const later = failed.map(dueIn).filter((t) => t > 0);
  return {
    failed,
    delete: failed.filter((j) => !retry || dueIn(j) <= 0).map((j) => j.name),
    nextRetryMs: retry && later.length > 0 ? Math.min(...later) : undefined,
  };
}

/** Why a server's Job failed, as its agent reported it: "s2: 3 files (1.2Mi) failed". */
export function describeFailure(j: FillJob): string {
  const r = j.report;
  if (r?.space) {
    return `${j.server}: needs ${formatBytes(r.space.needBytes)}, ${formatBytes(r.space.freeBytes)} free on its disk`;
  }
  if (r?.failed && r.failed.files > 0) {
    return `${j.server}: ${r.failed.files} file${r.failed.files === 1 ? "" : "s"} (${formatBytes(r.failed.bytes)}) failed`;
  }
  return r?.error ? `${j.server}: ${r.error}` : `${j.server}: failed`;
}

function decideFilling(s: Situation, phase: "Pending" | "Filling"): Omit<FillDecision, "deletePlacements"> {
  const { o, servers } = s;
  const { placement, now } = o;
  const none = { createJobs: [], deleteJobs: [], supersede: [] };
  const done = doneServers(s, "fill", placement.status?.filledServers);
  const filledServers = done.length > 0 ? done : undefined;
  if (phase === "Filling" && done.length === servers.length) {
    const supersede = o.siblings.filter((x) => phaseOf(x) === "Active").map((x) => x.metadata.name);
    const filled = s.cond("Filled", "True", "AllServersFilled", `${done.length} servers filled`);
    return { ...none, supersede, status: s.status("Active", [filled], { promotedAt: iso(now), filledServers }) };
  }
  const window = fillWindowState(o.cluster.spec.fill.window, now);
  const f = failedJobs(s, "fill", done, window.open);
  const failures = f.failed.map(describeFailure);
  const reason = f.failed.some((j) => j.report?.space) ? "InsufficientSpace" : failures.length ? "FillFailed" : "";
  const progress = `${done.length}/${servers.length} servers filled${failures.length ? `; ${failures.join("; ")}` : ""}`;
  if (!window.open) {
    const message = `${progress}; next window opens ${window.nextStart.toISOString()}`;
    const why = reason || (phase === "Filling" ? "WindowClosed" : "WaitingForWindow");
    return {
      ...none,
      deleteJobs: f.delete,
      status: s.status(phase, [s.cond("Filled", "False", why, message)], { filledServers }),
      recheckAfterMs: Math.max(1000, window.nextStart.getTime() - now.getTime()),
    };
  }
  const activeDeadlineSeconds = Math.max(60, Math.floor((window.end.getTime() - now.getTime()) / 1000));
  const running = new Set(o.jobs.filter((j) => j.mode === "fill").map((j) => j.server));
  const missing = servers.filter((x) => !running.has(x.name) && !done.includes(x.name));
  const retryNote =
    f.nextRetryMs === undefined ? "" : ` (retried ${new Date(now.getTime() + f.nextRetryMs).toISOString()})`;
  const started = s.cond("FillStarted", "True", "WindowOpen", "fill Jobs created");
  const filled = s.cond("Filled", "False", reason || "Filling", `${progress}${retryNote}`);
  return {
    ...none,
    createJobs: jobsFor(placement, "fill", activeDeadlineSeconds, missing),
    deleteJobs: f.delete,
    status: s.status("Filling", [started, filled], { filledServers }),
    recheckAfterMs: Math.max(1000, Math.min(window.end.getTime() - now.getTime(), f.nextRetryMs ?? Infinity)),
  };
}

function decideEvict(s: Situation): Omit<FillDecision, "deletePlacements"> {
  const { o, servers } = s;
  const { placement, now, policy } = o;
  const none = { createJobs: [], deleteJobs: [], supersede: [] };
  const promoted = promotedAt(placement) ?? now;
  const keep = { promotedAt: iso(promoted) };
  const evictAt = new Date(promoted.getTime() + policy.evictDelaySeconds * 1000);
  if (now < evictAt) {
    const message = `evict starts ${evictAt.toISOString()}: URLs signed before the promotion may point at the old files until then (${policy.evictDelaySeconds} s)`;
    return {
      ...none,
      status: s.status("Active", [s.cond("Evicted", "False", "WaitingForSignedUrls", message)], keep),
      recheckAfterMs: Math.max(1000, evictAt.getTime() - now.getTime()),
    };
  }
  const done = doneServers(s, "evict", placement.status?.evictedServers);
  const evictedServers = done.length > 0 ? done : undefined;
  const f = failedJobs(s, "evict", done, true);
  const running = new Set(o.jobs.filter((j) => j.mode === "evict").map((j) => j.server));
  const missing = servers.filter((x) => !running.has(x.name) && !done.includes(x.name));
  const failures = f.failed.map(describeFailure);
  const evicted =
    done.length === servers.length
      ? s.cond("Evicted", "True", "Evicted", `${done.length} servers evicted`)
      : s.cond(
          "Evicted",
          "False",
          failures.length ? "EvictFailed" : "Evicting",
          `${done.length}/${servers.length} servers evicted${failures.length ? `; ${failures.join("; ")}` : ""}`,
        );
  return {
    ...none,
    createJobs: jobsFor(placement, "evict", 3600, missing),
    deleteJobs: f.delete,
    status: s.status("Active", [evicted], { ...keep, evictedServers }),
    ...(f.nextRetryMs === undefined ? {} : { recheckAfterMs: Math.max(1000, f.nextRetryMs) }),
  };
}

/**
 * Superseded siblings beyond the newest `keepSuperseded`, each once its files are no longer protected
 * (evictDelaySeconds after supersededAt: the agents keep a Placement's files that long, and read the
 * Placement to know them). The Placement reconciled is never among them: a live one runs this.
 */
export function supersededToDelete(o: FillObservation): { names: string[]; recheckAfterMs?: number } {
  const { policy, now } = o;
  const superseded = [o.placement, ...o.siblings].filter((p) => phaseOf(p) === "Superseded").sort(byAge);
  const beyond = superseded.slice(0, Math.max(0, superseded.length - policy.keepSuperseded));
  const names: string[] = [];
  const waits: number[] = [];
  for (const p of beyond) {
    if (p === o.placement) continue;
    const at = ms(p.status?.supersededAt);
    const wait = at === undefined || Number.isNaN(at) ? 0 : at + policy.evictDelaySeconds * 1000 - now.getTime();
    if (wait <= 0) names.push(p.metadata.name);
    else waits.push(wait);
  }
  return waits.length > 0 ? { names, recheckAfterMs: Math.max(1000, Math.min(...waits)) } : { names };
}

/**
 * Whether `next` differs from `current` only in progress: the same phase and, for the conditions it
 * sets, the same status and reason (other messages, more servers filled or evicted). Such a write may
 * wait a moment (fill.ts coalesces them): nothing acts on progress, and each server's Job finishing
 * meant a Placement status write and, through it, an OCACluster status write.
 */
export function progressOnly(current: PlacementStatus | undefined, next: FillStatus): boolean {
  if (current === undefined || current.phase !== next.phase || current.promotedAt !== next.promotedAt) return false;
  const shape = (cs: readonly Condition[]) =>
    cs
      .map((c) => `${c.type}/${c.status}/${c.reason}`)
      .sort()
      .join(",");
  const mine = new Set((next.conditions ?? []).map((c) => c.type));
  return shape((current.conditions ?? []).filter((c) => mine.has(c.type))) === shape(next.conditions ?? []);
}
