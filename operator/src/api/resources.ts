/**
 * Every resource type edgefleet reads or writes, as the API addresses it (group, version, plural), with
 * the validation its objects pass: a cache (runtime/informer.ts) parses each object once, on arrival,
 * and hands the typed value to whoever reads it, so no reader parses or casts again.
 */
import { z } from "zod";
import { group, ObjectMeta, version } from "./common.js";
import { clusterLabel, heartbeatOf } from "./heartbeat.js";
import { type KindName, kinds } from "./kinds.js";
import { type Objects, type ParseResult, parseObject, parseWith } from "./validate.js";

/** The identity of a resource type: enough to build its REST paths. */
export type Kind = Readonly<{
  group: string; // "" for the core group
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}>;

/**
 * A Kind whose objects validate to `T`. With `labelSelector`, a cache of it lists and watches only the
 * objects that match: the operator's own Jobs, the edge heartbeat Leases, not every one of the cluster.
 */
export type TypedKind<T> = Kind & Readonly<{ parse(obj: unknown): ParseResult<T>; labelSelector?: string }>;

/** The Placement a fill or evict Job works for, and which of the two it is (fill|evict). */
export const placementLabel = `${group}/placement`;
export const jobLabel = `${group}/job`;

const ours = <K extends KindName>(k: K): TypedKind<Objects[K]> => ({
  group,
  version,
  kind: k,
  plural: kinds[k].plural,
  namespaced: true,
  parse: (obj) => parseObject(k, obj),
});

/** A kind of someone else's API, validated only as far as we read it (unknown fields pass). */
function theirs<T>(apiVersion: string, kind: string, plural: string, schema: z.ZodType<T>): TypedKind<T> {
  const slash = apiVersion.indexOf("/");
  return {
    group: slash < 0 ? "" : apiVersion.slice(0, slash),
    version: apiVersion.slice(slash + 1),
    kind,
    plural,
    namespaced: kind !== "Node",
    parse: (obj) => parseWith(schema, obj),
  };
}

const envelope = <S extends z.ZodRawShape>(shape: S) =>
  z.looseObject({ apiVersion: z.string(), kind: z.string(), metadata: ObjectMeta, ...shape });

/**
 * A coordination.k8s.io Lease: leader election's, or an edge server's heartbeat, which is read once, on
 * arrival (`heartbeat`, undefined for Leases that are not heartbeats; heartbeat.ts).
 */
export const Lease = envelope({
  spec: z
    .looseObject({
      holderIdentity: z.string().optional(),
      leaseDurationSeconds: z.int().optional(),
      acquireTime: z.string().optional(),
      renewTime: z.string().optional(),
      leaseTransitions: z.int().optional(),
    })
    .optional(),
}).transform((l) => ({ ...l, heartbeat: heartbeatOf(l) }));
export type Lease = z.output<typeof Lease>;

const JobCondition = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
});
/** A batch/v1 Job, as far as the fill controller reads it: labels and the Complete/Failed conditions. */
export const Job = envelope({
  status: z.looseObject({ conditions: z.array(JobCondition).optional() }).optional(),
});
export type Job = z.infer<typeof Job>;

const Terminated = z.looseObject({
  exitCode: z.int(),
  message: z.string().optional(),
  finishedAt: z.string().optional(),
});
/**
 * A v1 Pod, as far as the fill controller reads it: how its containers ended. A fill or evict Job's
 * agent leaves its report as the container's termination message.
 */
export const Pod = envelope({
  status: z
    .looseObject({
      containerStatuses: z
        .array(
          z.looseObject({
            name: z.string(),
            state: z.looseObject({ terminated: Terminated.optional() }).optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});
export type Pod = z.infer<typeof Pod>;

/** Kinds we only write: their objects are checked no further than the envelope. */
const Written = envelope({});

export const Kinds = {
  OCACluster: ours("OCACluster"),
  Title: ours("Title"),
  Placement: ours("Placement"),
  Popularity: ours("Popularity"),
  Lease: theirs("coordination.k8s.io/v1", "Lease", "leases", Lease),
  Job: theirs("batch/v1", "Job", "jobs", Job),
  Pod: theirs("v1", "Pod", "pods", Pod),
  ConfigMap: theirs("v1", "ConfigMap", "configmaps", Written),
  Secret: theirs("v1", "Secret", "secrets", Written),
  DaemonSet: theirs("apps/v1", "DaemonSet", "daemonsets", Written),
  Node: theirs("v1", "Node", "nodes", Written),
  Event: theirs("events.k8s.io/v1", "Event", "events", Written),
} as const;

/**
 * What the operator caches, filtered by label: only the edge servers' heartbeat Leases (not leader
 * election's, nor any other component's), only the fill and evict Jobs it made. Writes go through
 * Kinds.Lease and Kinds.Job; these are for caches and watches.
 */
export const Cached = {
  HeartbeatLease: { ...Kinds.Lease, labelSelector: clusterLabel },
  FillJob: { ...Kinds.Job, labelSelector: jobLabel },
} as const satisfies Record<string, TypedKind<unknown>>;
