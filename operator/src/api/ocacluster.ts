/**
 * OCACluster: one site of cache servers (inside an ISP, or at an internet exchange) and how to fill,
 * serve and place content on it. The operator owns `status`; people and Pulumi own `spec`.
 */
import { z } from "zod";
import { asn, cidr, conditions, dnsLabel, dnsSubdomain, ipv4, ipv6, listMap, listSet, objectSchema } from "./common.js";
import { contentPath, defaultContentRoot } from "./paths.js";
import { bitsPerSecondPattern, bytesPattern } from "./quantity.js";
import { withRules } from "./rules.js";

/** A storage size such as "200Ti"; see quantity.ts for parsing. */
export const Bytes = z.string().max(32).regex(new RegExp(bytesPattern));
/** A bit rate such as "40Gbps"; see quantity.ts for parsing. */
export const BitsPerSecond = z.string().max(32).regex(new RegExp(bitsPerSecondPattern));

export const ServerClass = z.strictObject({
  name: dnsLabel,
  /** Content disk per server. */
  storage: Bytes,
  /** What one server can serve. */
  throughput: BitsPerSecond,
});

export const Server = z.strictObject({
  name: dnsLabel,
  /** The Kubernetes node the edge pod runs on. */
  node: dnsSubdomain,
  class: dnsLabel,
  ipv4,
  ipv6: ipv6.optional(),
});

export const Prefix = z.strictObject({
  cidr,
  /** AS path as announced to the site, nearest AS first; empty for a prefix originated by the peer. */
  asPath: z.array(asn).max(64),
  med: z.int().min(0).max(4294967295).default(0),
  localPref: z.int().min(0).max(4294967295).default(100),
});

/** Clock time "HH:MM", 24-hour. */
const clockTime = z
  .string()
  .max(5)
  .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/);

/**
 * The CRD can only check the shape of a zone name (CEL has no time zone database); zod also asks the
 * runtime's ICU data, so "Europe/Atlantis" passes the API server and fails here. Controllers parse
 * specs with zod and report such objects instead of acting on them.
 */
const timeZonePattern = /^(UTC|[A-Z][A-Za-z_+-]*(\/[A-Za-z0-9_+-]+){1,2})$/;
export const TimeZone = z
  .string()
  .max(64)
  .regex(timeZonePattern)
  .refine(isKnownTimeZone, { message: "unknown IANA time zone" });

function isKnownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const FillWindow = withRules(z.strictObject({ start: clockTime, end: clockTime, timeZone: TimeZone }), [
  {
    rule: "self.start != self.end",
    message: "fill window end must differ from its start",
    fieldPath: ".end",
    test: (w) => w.start !== w.end,
  },
]);

const origin = withRules(z.string().max(2048), [
  {
    rule: "isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",
    message: "must be an absolute http(s) URL",
    test: (s) => {
      try {
        const u = new URL(s);
        return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
      } catch {
        return false;
      }
    },
  },
]);

export const Fill = z.strictObject({
  /** Off-peak window in the site's own time zone; it may wrap past midnight (22:00–06:00). */
  window: FillWindow,
  /** Fill traffic the site may pull, all servers together. */
  bandwidthCap: BitsPerSecond,
  /** Where content comes from, in order: peer clusters (OCACluster names in this namespace), then origin. */
  sources: z.strictObject({ peers: listSet(dnsLabel, 32).default([]), origin }),
});

export const Edge = withRules(
  z.strictObject({
    image: z.string().min(1).max(512),
    httpPort: z.int().min(1).max(65535).default(80),
    httpsPort: z.int().min(1).max(65535).default(443),
    /** kubernetes.io/tls Secret in this namespace. */
    tlsSecret: dnsSubdomain,
    /** auto: kTLS where the kernel has it; required: not Ready without it; off: userspace TLS. */
    ktls: z.enum(["auto", "required", "off"]).default("auto"),
    /** Absolute path of the content disk on the host, inside the operator's content root (paths.ts). */
    contentPath: contentPath.default(`${defaultContentRoot}/content`),
  }),
  [
    {
      rule: "self.httpPort != self.httpsPort",
      message: "httpsPort must differ from httpPort",
      fieldPath: ".httpsPort",
      test: (e) => e.httpPort !== e.httpsPort,
    },
  ],
);

/** "auto" lets HCA choose D*; an integer pins the head to that many files. */
const cutoff = withRules(z.union([z.literal("auto"), z.int().min(0)]).meta({ "x-kubernetes-int-or-string": true }), [
  {
    rule: "type(self) == int ? self >= 0 : self == 'auto'",
    message: 'must be "auto" or an integer >= 0',
    test: (c) => c === "auto" || (Number.isInteger(c) && c >= 0),
  },
]);

export const HCA = z.strictObject({
  cutoff: cutoff.default("auto"),
  /** Relative improvement in balance a new D* must bring before the cutoff moves; damps churn. */
  hysteresis: z.number().min(0).max(1).default(0.05),
});

const classesExist = {
  rule: "self.servers.all(s, self.serverClasses.exists(c, c.name == s.class))",
  message: "every server's class must name an entry of serverClasses",
  fieldPath: ".servers",
  test: (s: { servers: { class: string }[]; serverClasses: { name: string }[] }) =>
    s.servers.every((v) => s.serverClasses.some((c) => c.name === v.class)),
};

export const OCAClusterSpec = withRules(
  z.strictObject({
    /** The region this site belongs to (a Pulumi stack, a Popularity object). Immutable. */
    region: dnsLabel,
    site: z.strictObject({
      type: z.enum(["embedded", "ixp"]),
      /** The ISP hosting an embedded site, or the exchange an IXP site sits at. */
      isp: z.string().min(1).max(128),
      /** The AS the site peers with: the ISP's, or ours at an IXP. */
      asn,
    }),
    location: z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }),
    serverClasses: listMap(ServerClass, "name", 16).min(1),
    servers: listMap(Server, "name", 500),
    prefixes: listMap(Prefix, "cidr", 4096),
    fill: Fill,
    edge: Edge,
    hca: HCA.default({ cutoff: "auto", hysteresis: 0.05 }),
  }),
  [classesExist],
);

export const ServerStatus = z.strictObject({
  name: dnsLabel,
  headTokens: z.int().min(0),
  tailTokens: z.int().min(0),
  expectedBytes: z.int().min(0),
  /** Expected fraction of the cluster's traffic. */
  trafficShare: z.number().min(0).max(1),
  health: z.enum(["Healthy", "Stale", "Unknown"]),
  lastHeartbeat: z.iso.datetime().optional(),
});

export const OCAClusterStatus = z.strictObject({
  observedGeneration: z.int().min(0).optional(),
  /** Ready, Placed, Filled, Degraded. */
  conditions: conditions.optional(),
  servers: listMap(ServerStatus, "name", 500).optional(),
  /** Totals over spec.servers, for `kubectl get oca`. */
  capacity: z
    .strictObject({ servers: z.int().min(0), readyServers: z.int().min(0), storage: Bytes, throughput: BitsPerSecond })
    .optional(),
  /** Placement names in this namespace. */
  activePlacement: dnsSubdomain.optional(),
  pendingPlacement: dnsSubdomain.optional(),
  lastFill: z.strictObject({ start: z.iso.datetime(), end: z.iso.datetime().optional() }).optional(),
  nextFill: z.iso.datetime().optional(),
});

export const OCACluster = objectSchema("OCACluster", OCAClusterSpec, OCAClusterStatus);
export type OCAClusterSpec = z.infer<typeof OCAClusterSpec>;
export type OCAClusterStatus = z.infer<typeof OCAClusterStatus>;
export type OCACluster = z.infer<typeof OCACluster>;
export type ServerClass = z.infer<typeof ServerClass>;
export type Server = z.infer<typeof Server>;
export type Prefix = z.infer<typeof Prefix>;
export type ServerStatus = z.infer<typeof ServerStatus>;
