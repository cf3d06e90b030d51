/**
 * Placement: where a cluster's content goes, as a ring rather than a list (DESIGN.md decision 1).
 * Anyone holding a Placement and the catalog snapshot it names computes the same file → server
 * assignment, so the object stays a few KiB at 200 servers where a file list would not fit etcd.
 *
 * The spec is immutable: nodes fill exactly what a Placement says, so a different ring is a new
 * Placement, and the old one becomes Superseded once the new one is Active.
 */
import { z } from "zod";
import { conditions, dnsLabel, dnsSubdomain, listMap, listSet, objectSchema } from "./common.js";
import { withRules } from "./rules.js";

export const maxPlacementServers = 1000;
/** Tokens per server and ring half; far above what balance needs (DESIGN.md: 10,000 vnodes for 1.03×). */
export const maxTokens = 100_000;

export const PlacementServer = z.strictObject({
  /** A server name from the OCACluster's spec.servers. */
  name: dnsLabel,
  /** Tokens on the head ring (files ranked below cutoff). */
  headTokens: z.int().min(0).max(maxTokens),
  /** Tokens on the tail ring (the rest). */
  tailTokens: z.int().min(0).max(maxTokens),
});

export const PlacementSpec = withRules(
  z.strictObject({
    /** OCACluster in this namespace. */
    cluster: dnsLabel,
    /** The Popularity snapshot (catalog generation) the ranking was computed from. */
    catalogGeneration: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/),
    /** D*: the number of files, in popularity-rank order, that form the head. */
    cutoff: z.int().min(0),
    servers: listMap(PlacementServer, "name", maxPlacementServers).min(1),
  }),
  [
    {
      rule: "self.cutoff == 0 || self.servers.exists(s, s.headTokens > 0)",
      message: "a non-empty head (cutoff > 0) needs a server with headTokens > 0",
      fieldPath: ".servers",
      test: (p) => p.cutoff === 0 || p.servers.some((s) => s.headTokens > 0),
    },
    {
      rule: "self.servers.exists(s, s.tailTokens > 0)",
      message: "the tail needs a server with tailTokens > 0",
      fieldPath: ".servers",
      test: (p) => p.servers.some((s) => s.tailTokens > 0),
    },
  ],
);

export const PlacementServerStatus = z.strictObject({
  name: dnsLabel,
  /** Bytes this server is expected to store under this ring. */
  expectedBytes: z.int().min(0),
  /** Expected fraction of the cluster's traffic. */
  trafficShare: z.number().min(0).max(1),
});

export const PlacementStatus = z.strictObject({
  observedGeneration: z.int().min(0).optional(),
  phase: z.enum(["Pending", "Filling", "Active", "Superseded"]).optional(),
  conditions: conditions.optional(),
  servers: listMap(PlacementServerStatus, "name", maxPlacementServers).optional(),
  /**
   * When it became Active (steering sends clients by it from then on). Evict waits the signed-URL
   * lifetime after this: URLs signed earlier still point at the previous Placement's servers.
   */
  promotedAt: z.iso.datetime().optional(),
  /** When it stopped being live; its files stay on disk for the signed-URL lifetime after this. */
  supersededAt: z.iso.datetime().optional(),
  /** Servers whose fill Job completed: every file on disk, size and sha256 checked. */
  filledServers: listSet(dnsLabel, maxPlacementServers).optional(),
  /** Servers whose evict Job completed after promotion. */
  evictedServers: listSet(dnsLabel, maxPlacementServers).optional(),
  /** What moving from the previous active Placement costs. */
  churn: z
    .strictObject({
      previous: dnsSubdomain,
      /** Files that must be fetched onto some server. */
      files: z.int().min(0),
      bytes: z.int().min(0),
    })
    .optional(),
});

export const Placement = objectSchema("Placement", PlacementSpec, PlacementStatus);
export type PlacementServer = z.infer<typeof PlacementServer>;
export type PlacementSpec = z.infer<typeof PlacementSpec>;
export type PlacementStatus = z.infer<typeof PlacementStatus>;
export type Placement = z.infer<typeof Placement>;

/** A Placement nobody has moved on yet is Pending. */
export const phaseOf = (p: Placement): NonNullable<NonNullable<Placement["status"]>["phase"]> =>
  p.status?.phase ?? "Pending";

/**
 * When the Placement became Active: its promotedAt, or (promoted before that field existed) when its
 * Filled condition turned True; undefined for one never promoted.
 */
export function promotedAt(p: Placement): Date | undefined {
  const at = (s: string | undefined) => (s === undefined ? Number.NaN : Date.parse(s));
  const t =
    p.status?.promotedAt ??
    p.status?.conditions?.find((c) => c.type === "Filled" && c.status === "True")?.lastTransitionTime;
  const ms = at(t);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
