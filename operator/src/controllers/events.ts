/**
 * The Events the controllers record, each decided from a change the reconcile observed (old status →
 * new status, a Placement created, a Job created or failed), never from the reconcile itself: a
 * reconcile that runs again with nothing new records nothing. Pure: controllers pass what they saw and
 * record what comes back. The recorder (runtime/events.ts) folds any repeat that slips through into a
 * series count.
 *
 * | reason | on | when |
 * |---|---|---|
 * | PlacementPlanned | OCACluster | a new Placement was created |
 * | FillScheduled | Placement | it waits for the fill window to open |
 * | FillStarted | Placement | fill Jobs were created |
 * | FillFailed (Warning) | Placement | a server's fill Job failed |
 * | PlacementPromoted | Placement, OCACluster | it became Active |
 * | PlacementSuperseded | Placement | a newer one replaced it |
 * | ServerUnhealthy (Warning), ServerRecovered | OCACluster | a server's heartbeat went stale, or came back |
 * | EdgeConfigInvalid (Warning) | OCACluster | its edge settings are refused (EdgeConfigured=False) |
 * | TitleInvalid (Warning) | Title | it is left out of its regions' catalogs (Valid=False) |
 */
import { type Condition, formatBytes, type OCACluster, type ServerStatus } from "../api/index.js";
import type { NewEvent, ObjectReference } from "../runtime/events.js";
import type { NewPlacement } from "./cluster-plan.js";
import { fillWindowState } from "./fill-window.js";

export const Reasons = {
  PlacementPlanned: "PlacementPlanned",
  FillScheduled: "FillScheduled",
  FillStarted: "FillStarted",
  FillFailed: "FillFailed",
  PlacementPromoted: "PlacementPromoted",
  PlacementSuperseded: "PlacementSuperseded",
  ServerUnhealthy: "ServerUnhealthy",
  ServerRecovered: "ServerRecovered",
  EdgeConfigInvalid: "EdgeConfigInvalid",
  TitleInvalid: "TitleInvalid",
} as const;

type Window = OCACluster["spec"]["fill"]["window"];
const opensAt = (w: Window, now: Date) =>
  `${w.start} ${w.timeZone} (${fillWindowState(w, now)
    .nextStart.toISOString()
    .replace(/\.\d+Z$/, "Z")})`;

/** PlacementPlanned: what the new ring is and what it costs to fill. */
export function placementPlanned(
  cluster: ObjectReference,
  placement: ObjectReference,
  created: NewPlacement,
  window: Window,
  now: Date,
): NewEvent {
  const bytes = created.status.churn?.bytes ?? (created.status.servers ?? []).reduce((a, s) => a + s.expectedBytes, 0);
  const state = fillWindowState(window, now);
  const when = state.open
    ? `fill window open until ${window.end} ${window.timeZone}`
    : `fill window opens at ${opensAt(window, now)}`;
  return {
    regarding: cluster,
    related: placement,
    type: "Normal",
    reason: Reasons.PlacementPlanned,
    action: "Plan",
    note: `planned placement ${created.name} (catalog ${created.spec.catalogGeneration}, cutoff ${created.spec.cutoff}, ${formatBytes(bytes)} to fill); ${when}`,
  };
}

/** ServerUnhealthy and ServerRecovered: a server's health moved between Healthy and Stale. */
export function serverHealthEvents(
  cluster: ObjectReference,
  before: readonly ServerStatus[] | undefined,
  after: readonly ServerStatus[],
): NewEvent[] {
  const was = new Map((before ?? []).map((s) => [s.name, s.health]));
  return after.flatMap((s): NewEvent[] => {
    const old = was.get(s.name);
    if (old === "Healthy" && s.health === "Stale") {
      const note = `server ${s.name} heartbeat stale: its Lease was not renewed within its duration; steering no longer sends clients to it`;
      return [{ regarding: cluster, type: "Warning", reason: Reasons.ServerUnhealthy, action: "Heartbeat", note }];
    }
    if (old === "Stale" && s.health === "Healthy") {
      const note = `server ${s.name} heartbeat fresh again`;
      return [{ regarding: cluster, type: "Normal", reason: Reasons.ServerRecovered, action: "Heartbeat", note }];
    }
    return [];
  });
}

const find = (cs: readonly Condition[] | undefined, type: string) => cs?.find((c) => c.type === type);

/** True when condition `type` is now False with a reason or message it did not have before. */
function newlyFalse(before: readonly Condition[] | undefined, after: readonly Condition[] | undefined, type: string) {
  const b = find(before, type);
  const a = find(after, type);
  return a?.status === "False" && !(b?.status === "False" && b.reason === a.reason && b.message === a.message)
    ? a
    : undefined;
}

/** EdgeConfigInvalid: EdgeConfigured turned False, or False for another reason. */
export function edgeConfigInvalid(
  cluster: ObjectReference,
  before: readonly Condition[] | undefined,
  after: readonly Condition[],
): NewEvent[] {
  const c = newlyFalse(before, after, "EdgeConfigured");
  if (!c) return [];
  const note = `${c.reason}: ${c.message}; no edge pods or fill Jobs run for this cluster`;
  return [{ regarding: cluster, type: "Warning", reason: Reasons.EdgeConfigInvalid, action: "ApplyEdge", note }];
}

/** TitleInvalid: Valid turned False (an invalid spec, or a path another Title already names). */
export function titleInvalid(
  title: ObjectReference,
  before: readonly Condition[] | undefined,
  after: readonly Condition[] | undefined,
): NewEvent[] {
  const c = newlyFalse(before, after, "Valid");
  if (!c) return [];
  const note = `${c.reason}: ${c.message}; left out of its regions' catalogs`;
  return [{ regarding: title, type: "Warning", reason: Reasons.TitleInvalid, action: "Validate", note }];
}

type Phase = "Pending" | "Filling" | "Active" | "Superseded";

/** What one fill reconcile changed of a Placement, as the fill controller saw it. */
export type FillChange = Readonly<{
  placement: ObjectReference;
  cluster: ObjectReference;
  window: Window;
  now: Date;
  before: Readonly<{ phase: Phase; conditions?: readonly Condition[] | undefined }>;
  after: Readonly<{ phase?: Phase | undefined; conditions?: readonly Condition[] | undefined }>;
  /** Servers whose fill Job this reconcile created. */
  startedFills: readonly string[];
  /** Servers' fill failures seen for the first time ("s2: 3 files (1.2Mi) failed"). */
  newFailures: readonly string[];
  /** Active siblings this Placement replaced. */
  superseded: readonly ObjectReference[];
}>;

/** FillScheduled, FillStarted, FillFailed, PlacementPromoted and PlacementSuperseded. */
export function fillEvents(c: FillChange): NewEvent[] {
  const { placement, window } = c;
  const on = (type: NewEvent["type"], reason: string, action: string, note: string): NewEvent => ({
    regarding: placement,
    related: c.cluster,
    type,
    reason,
    action,
    note,
  });
  const out: NewEvent[] = [];
  const waiting = newlyFalse(c.before.conditions, c.after.conditions, "Filled");
  if (waiting && (waiting.reason === "WaitingForWindow" || waiting.reason === "WindowClosed")) {
    const what = waiting.reason === "WaitingForWindow" ? "fill" : "fill continues";
    out.push(on("Normal", Reasons.FillScheduled, "Fill", `${what} when the window opens at ${opensAt(window, c.now)}`));
  }
  if (c.startedFills.length > 0) {
    const note = `fill Jobs created for ${c.startedFills.length} server${c.startedFills.length === 1 ? "" : "s"} (${c.startedFills.join(", ")}); window closes at ${window.end} ${window.timeZone}`;
    out.push(on("Normal", Reasons.FillStarted, "Fill", note));
  }
  for (const f of c.newFailures) out.push(on("Warning", Reasons.FillFailed, "Fill", f));
  if (c.after.phase === "Active" && c.before.phase !== "Active") {
    const replaced = c.superseded.length ? `; supersedes ${c.superseded.map((s) => s.name).join(", ")}` : "";
    const note = `placement ${placement.name} promoted: every server filled, steering sends clients by it${replaced}`;
    out.push(on("Normal", Reasons.PlacementPromoted, "Promote", note));
    out.push({ ...on("Normal", Reasons.PlacementPromoted, "Promote", note), regarding: c.cluster, related: placement });
  }
  for (const s of c.superseded) {
    const note = `superseded by placement ${placement.name}; its files stay until signed URLs to them expire`;
    out.push({ ...on("Normal", Reasons.PlacementSuperseded, "Supersede", note), regarding: s, related: placement });
  }
  if (c.after.phase === "Superseded" && c.before.phase !== "Superseded") {
    const note = "superseded before its fill completed: a newer placement of the cluster replaced it";
    out.push(on("Normal", Reasons.PlacementSuperseded, "Supersede", note));
  }
  return out;
}
