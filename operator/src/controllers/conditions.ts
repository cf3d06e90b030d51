/** Status conditions as Kubernetes API conventions define them. */
export type Condition = Readonly<{
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}>;
export type NewCondition = Omit<Condition, "lastTransitionTime">;

/**
 * Returns the conditions with `next` set. lastTransitionTime moves only when the status changes, and
 * the order is kept, so that writing the same state twice produces no diff.
 */
export function setCondition(cs: readonly Condition[], next: NewCondition, now: Date): Condition[] {
  const old = cs.find((c) => c.type === next.type);
  const cond: Condition = {
    ...next,
    lastTransitionTime: old?.status === next.status ? old.lastTransitionTime : now.toISOString(),
  };
  return old ? cs.map((c) => (c === old ? cond : c)) : [...cs, cond];
}

export const isTrue = (cs: readonly Condition[] | undefined, type: string): boolean =>
  cs?.some((c) => c.type === type && c.status === "True") ?? false;
