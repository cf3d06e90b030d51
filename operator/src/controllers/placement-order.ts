/** How the controllers read a cluster's Placements: their phase, and which is newer. */
import type { Placement } from "../api/index.js";

/** A Placement nobody has moved on yet is Pending. */
export const phaseOf = (p: Placement): NonNullable<NonNullable<Placement["status"]>["phase"]> =>
  p.status?.phase ?? "Pending";

/** Oldest first: by creation time, then by name, so two Placements created in one second still order. */
export const byAge = (a: Placement, b: Placement): number =>
  String(a.metadata.creationTimestamp ?? "").localeCompare(String(b.metadata.creationTimestamp ?? "")) ||
  a.metadata.name.localeCompare(b.metadata.name);
