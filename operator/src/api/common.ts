/** Building blocks shared by the kinds: names, ASNs, conditions, object metadata. */
import { z } from "zod";
import { isMasked, parseCIDR, parseIP } from "./ip.js";
import { withRules } from "./rules.js";

export const group = "cdn.edgefleet.dev";
export const version = "v1alpha1";
export const apiVersion = `${group}/${version}`;

/** An RFC 1123 label: what Kubernetes accepts as most object names, and what we use for our own names. */
export const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);

/** An RFC 1123 subdomain: node and Secret names. */
export const dnsSubdomain = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);

/** Public and private 16/32-bit ASNs; 0 and 4294967295 are reserved, 23456 is AS_TRANS (RFC 6793). */
export const asn = withRules(z.int().min(1).max(4294967294), [
  { rule: "self != 23456", message: "AS 23456 is AS_TRANS, not a real AS", test: (a) => a !== 23456 },
]);

export const cidr = withRules(z.string().max(49), [
  {
    rule: "isCIDR(self) && cidr(self) == cidr(self).masked()",
    message: "must be a CIDR prefix with no host bits set, like 203.0.113.0/24 or 2001:db8:4400::/40",
    test: (s) => {
      const c = parseCIDR(s);
      return c !== undefined && isMasked(c);
    },
  },
]);

export const ipv4 = withRules(z.string().max(15), [
  {
    rule: "isIP(self) && ip(self).family() == 4",
    message: "must be an IPv4 address like 198.51.100.7",
    test: (s) => parseIP(s)?.family === 4,
  },
]);

export const ipv6 = withRules(z.string().max(45), [
  {
    rule: "isIP(self) && ip(self).family() == 6",
    message: "must be an IPv6 address like 2001:db8::7",
    test: (s) => parseIP(s)?.family === 6,
  },
]);

/** The generation of the spec a status (or one condition) was computed from. */
export const observedGeneration = z
  .int()
  .min(0)
  .optional()
  .describe("metadata.generation of the spec this status was computed from.");

/** metav1.Condition, as every Kubernetes status carries it. */
export const Condition = z.strictObject({
  type: z
    .string()
    .max(316)
    .regex(
      /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
    )
    .describe("Condition type in CamelCase, e.g. Ready."),
  status: z.enum(["True", "False", "Unknown"]).describe("True, False or Unknown."),
  observedGeneration: observedGeneration.describe("metadata.generation of the spec the condition was computed from."),
  lastTransitionTime: z.iso.datetime().describe("RFC 3339 time the status last changed."),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .describe("CamelCase reason for the last transition, e.g. Serving."),
  message: z.string().max(32768).describe("Human-readable details."),
});
export type Condition = z.infer<typeof Condition>;

/** Conditions keyed by type, so server-side apply merges them one by one. */
export const conditions = z
  .array(Condition)
  .max(16)
  .meta({
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
  });

/** The parts of ObjectMeta we read; the API server validates the rest, so unknown keys pass. */
export const ObjectMeta = z.looseObject({
  name: z.string().min(1).max(253),
  namespace: z.string().optional(),
  generation: z.int().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/**
 * Oldest first: by creation time, then by name, so two objects created in one second still order. The
 * API server's creationTimestamp is the one clock every reader agrees on (Placements; Titles sharing a
 * path, where the later-created one is left out).
 */
export const byAge = (
  a: { metadata: { name: string; creationTimestamp?: unknown } },
  b: { metadata: { name: string; creationTimestamp?: unknown } },
): number =>
  String(a.metadata.creationTimestamp ?? "").localeCompare(String(b.metadata.creationTimestamp ?? "")) ||
  a.metadata.name.localeCompare(b.metadata.name);

/** The envelope of one of our objects: apiVersion and kind fixed, spec validated, status optional. */
export function objectSchema<K extends string, Spec extends z.ZodType, Status extends z.ZodType>(
  kind: K,
  spec: Spec,
  status: Status,
) {
  return z.looseObject({
    apiVersion: z.literal(apiVersion),
    kind: z.literal(kind),
    metadata: ObjectMeta,
    spec,
    status: status.optional(),
  });
}

/**
 * A list keyed by `key`, so server-side apply merges it entry by entry. Keys are unique; zod reports a
 * duplicate at the list, as server-side apply does (".spec.servers: duplicate entries for key").
 */
export function listMap<T extends z.ZodType>(item: T, key: string & keyof z.output<T>, maxItems: number) {
  return z
    .array(item)
    .max(maxItems)
    .superRefine((items, ctx) => {
      const seen = new Set<unknown>();
      for (const it of items) {
        const k = it[key];
        if (seen.has(k))
          ctx.addIssue({ code: "custom", message: `duplicate entries for key ${key}=${JSON.stringify(k)}` });
        seen.add(k);
      }
    })
    .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [key] });
}

/** A list of unique scalars (x-kubernetes-list-type: set). */
export function listSet<T extends z.ZodType>(item: T, maxItems: number) {
  return z
    .array(item)
    .max(maxItems)
    .superRefine((items, ctx) => {
      const seen = new Set<unknown>();
      for (const it of items) {
        if (seen.has(it)) ctx.addIssue({ code: "custom", message: `duplicate entries for ${JSON.stringify(it)}` });
        seen.add(it);
      }
    })
    .meta({ "x-kubernetes-list-type": "set" });
}
