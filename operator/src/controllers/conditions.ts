/** Status conditions as Kubernetes API conventions define them (metav1.Condition). */
import type { Condition } from "../api/index.js";

export type NewCondition = Omit<Condition, "lastTransitionTime">;

/**
 * Returns the conditions with `next` set. lastTransitionTime moves only when the status changes, and
 * the order is kept, so that writing the same state twice produces no diff.
 */
export function setCondition(cs: readonly Condition[], next: NewCondition, now: Date): Condition[] {
  const old = cs.find((c) => c.type === next.type);
  const cond: Condition = {
    ...next,
    lastTransitionTime:
      old?.status === next.status ? old.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, "Z"),
  };
  return old ? cs.map((c) => (c === old ? cond : c)) : [...cs, cond];
}

/** Sets several conditions at once, in order. */
export function setConditions(cs: readonly Condition[], next: readonly NewCondition[], now: Date): Condition[] {
  return next.reduce<Condition[]>((acc, c) => setCondition(acc, c, now), [...cs]);
}
