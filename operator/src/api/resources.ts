/**
 * Every resource type edgefleet reads or writes, as the API addresses it (group, version, plural), with
 * the validation its objects pass: a cache (runtime/informer.ts) parses each object once, on arrival,
 * and hands the typed value to whoever reads it, so no reader parses or casts again.
 */
import { z } from "zod";
import { group, ObjectMeta, version } from "./common.js";
import { heartbeatOf } from "./heartbeat.js";
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

/** A Kind whose objects validate to `T`. */
export type TypedKind<T> = Kind & Readonly<{ parse(obj: unknown): ParseResult<T> }>;

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

const JobCondition = z.looseObject({ type: z.string(), status: z.string() });
/** A batch/v1 Job, as far as the fill controller reads it: labels and the Complete/Failed conditions. */
export const Job = envelope({
  status: z.looseObject({ conditions: z.array(JobCondition).optional() }).optional(),
});
export type Job = z.infer<typeof Job>;

/** Kinds we only write: their objects are checked no further than the envelope. */
const Written = envelope({});

export const Kinds = {
  OCACluster: ours("OCACluster"),
  Title: ours("Title"),
  Placement: ours("Placement"),
  Popularity: ours("Popularity"),
  Lease: theirs("coordination.k8s.io/v1", "Lease", "leases", Lease),
  Job: theirs("batch/v1", "Job", "jobs", Job),
  ConfigMap: theirs("v1", "ConfigMap", "configmaps", Written),
  DaemonSet: theirs("apps/v1", "DaemonSet", "daemonsets", Written),
  Node: theirs("v1", "Node", "nodes", Written),
} as const;
