/**
 * Placement: where a cluster's content goes, as a ring rather than a list (DESIGN.md decision 1).
 * Anyone holding a Placement and the catalog snapshot it names computes the same file → server
 * assignment, so the object stays a few KiB at 200 servers where a file list would not fit etcd.
 *
 * The spec is immutable: nodes fill exactly what a Placement says, so a different ring is a new
 * Placement, and the old one becomes Superseded once the new one is Active.
 */
import { z } from "zod";
import { conditions, dnsLabel, dnsSubdomain, listMap, listSet, objectSchema, observedGeneration } from "./common.js";
import { withRules } from "./rules.js";

export const maxPlacementServers = 1000;
/** Tokens per server and ring half; far above what balance needs (DESIGN.md: 10,000 vnodes for 1.03×). */
export const maxTokens = 100_000;

export const PlacementServer = z.strictObject({
  name: dnsLabel.describe("A server name from the OCACluster's spec.servers."),
  headTokens: z
    .int()
    .min(0)
    .max(maxTokens)
    .describe("Tokens on the head ring (files ranked below cutoff); its share of head traffic, e.g. 160."),
  tailTokens: z
    .int()
    .min(0)
    .max(maxTokens)
    .describe("Tokens on the tail ring (the rest of the catalog); its share of tail bytes, e.g. 160."),
});

export const PlacementSpec = withRules(
  z.strictObject({
    cluster: dnsLabel.describe("The OCACluster in this namespace this ring places content for."),
    catalogGeneration: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/)
      .describe('The Popularity snapshot the ranking was computed from, e.g. "2026-08-14".'),
    cutoff: z
      .int()
      .min(0)
      .describe("D*: the number of files, in popularity-rank order, that form the head, e.g. 5000."),
    servers: listMap(PlacementServer, "name", maxPlacementServers)
      .min(1)
      .describe("Each server's tokens on the head and tail rings."),
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
  name: dnsLabel.describe("A server name from spec.servers."),
  expectedBytes: z.int().min(0).describe("Bytes this server is expected to store under this ring."),
  trafficShare: z.number().min(0).max(1).describe("Expected fraction of the cluster's traffic, 0-1."),
});

export const PlacementStatus = z.strictObject({
  observedGeneration,
  phase: z
    .enum(["Pending", "Filling", "Active", "Superseded"])
    .optional()
    .describe("Pending (planned), Filling (fill Jobs running), Active (steering uses it), Superseded (replaced)."),
  conditions: conditions.optional().describe("FillStarted, Filled."),
  servers: listMap(PlacementServerStatus, "name", maxPlacementServers)
    .optional()
    .describe("Per server: what this ring expects it to store and serve."),
  // Evict waits the signed-URL lifetime after promotedAt: URLs signed earlier name the previous servers.
  promotedAt: z.iso.datetime().optional().describe("RFC 3339 time it became Active; steering uses it from then on."),
  supersededAt: z.iso
    .datetime()
    .optional()
    .describe("RFC 3339 time it stopped being live; its files stay on disk for the signed-URL lifetime after this."),
  filledServers: listSet(dnsLabel, maxPlacementServers)
    .optional()
    .describe("Servers whose fill Job completed: every file on disk, size and sha256 checked."),
  evictedServers: listSet(dnsLabel, maxPlacementServers)
    .optional()
    .describe("Servers whose evict Job completed after promotion."),
  churn: z
    .strictObject({
      previous: dnsSubdomain.describe("The Placement that was active when this one was planned."),
      files: z.int().min(0).describe("Files that must be fetched onto some server."),
      bytes: z.int().min(0).describe("Bytes that must be fetched, all servers together."),
    })
    .optional()
    .describe("What moving from the previous active Placement costs."),
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
