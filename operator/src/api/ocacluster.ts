/**
 * OCACluster: one site of cache servers (inside an ISP, or at an internet exchange) and how to fill,
 * serve and place content on it. The operator owns `status`; people and Pulumi own `spec`.
 */
import { z } from "zod";
import {
  asn,
  cidr,
  conditions,
  dnsLabel,
  dnsSubdomain,
  ipv4,
  ipv6,
  listMap,
  listSet,
  objectSchema,
  observedGeneration,
} from "./common.js";
import { contentPath, defaultContentRoot } from "./paths.js";
import { bitsPerSecondPattern, bytesPattern } from "./quantity.js";
import { withRules } from "./rules.js";

/** A storage size such as "200Ti"; see quantity.ts for parsing. */
export const Bytes = z.string().max(32).regex(new RegExp(bytesPattern));
/** A bit rate such as "40Gbps"; see quantity.ts for parsing. */
export const BitsPerSecond = z.string().max(32).regex(new RegExp(bitsPerSecondPattern));

export const ServerClass = z.strictObject({
  name: dnsLabel.describe("Name of the class, referenced by servers[].class, e.g. storage or flash."),
  storage: Bytes.describe(
    "Content disk per server, in bytes with a Kubernetes quantity suffix, e.g. 200Ti (binary) or 500T (decimal).",
  ),
  throughput: BitsPerSecond.describe("What one server can serve, as a bit rate, e.g. 40Gbps or 100Gbps."),
});

export const Server = z.strictObject({
  name: dnsLabel.describe("Server name, unique in the site, e.g. s01; names its heartbeat Lease and fill Job."),
  node: dnsSubdomain.describe("The Kubernetes node the server's edge pod runs on."),
  class: dnsLabel.describe("Name of an entry of serverClasses: the server's storage and throughput."),
  ipv4: ipv4.describe("IPv4 address clients fetch from, e.g. 198.51.100.7; steering hands it out in URLs."),
  ipv6: ipv6.describe("IPv6 address clients fetch from, e.g. 2001:db8::7.").optional(),
});

export const Prefix = z.strictObject({
  cidr: cidr.describe(
    "A client prefix announced to the site over BGP, e.g. 203.0.113.0/24 or 2001:db8:4400::/40; steering matches the longest.",
  ),
  asPath: z
    .array(asn)
    .max(64)
    .describe(
      "AS path as announced to the site, nearest AS first, e.g. [64500]; empty for a prefix the peer originates.",
    ),
  med: z
    .int()
    .min(0)
    .max(4294967295)
    .default(0)
    .describe("BGP multi-exit discriminator: lower wins between routes from the same neighbour AS."),
  localPref: z
    .int()
    .min(0)
    .max(4294967295)
    .default(100)
    .describe("BGP local preference: higher wins, before AS path length."),
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

export const FillWindow = withRules(
  z.strictObject({
    start: clockTime.describe('Opening time, "HH:MM" 24-hour in timeZone, e.g. "02:00".'),
    end: clockTime.describe(
      'Closing time, "HH:MM" 24-hour in timeZone, e.g. "06:00"; before start means the next day.',
    ),
    timeZone: TimeZone.describe('IANA time-zone name the window is read in, e.g. "Europe/Amsterdam" or "UTC".'),
  }),
  [
    {
      rule: "self.start != self.end",
      message: "fill window end must differ from its start",
      fieldPath: ".end",
      test: (w) => w.start !== w.end,
    },
  ],
);

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
  window: FillWindow.describe(
    "Off-peak window in the site's own time zone when fill Jobs may run; it may wrap past midnight (22:00-06:00).",
  ),
  bandwidthCap: BitsPerSecond.describe("Fill traffic the site may pull, all servers together, e.g. 10Gbps."),
  sources: z
    .strictObject({
      peers: listSet(dnsLabel, 32)
        .default([])
        .describe("OCACluster names in this namespace to fetch from before the origin, in order."),
      origin: origin.describe("Absolute http(s) URL of the origin, fetched last, e.g. https://origin.example/content."),
    })
    .describe(
      "Where content comes from, in order: peer clusters (OCACluster names in this namespace), then the origin.",
    ),
});

export const Edge = withRules(
  z.strictObject({
    image: z
      .string()
      .min(1)
      .max(512)
      .describe("Edge image (nginx and the agent); must match the operator's allow-list (edge.allowedImages)."),
    httpPort: z.int().min(1).max(65535).default(80).describe("Host port nginx serves HTTP on, e.g. 80."),
    httpsPort: z.int().min(1).max(65535).default(443).describe("Host port nginx serves HTTPS on, e.g. 443."),
    tlsSecret: dnsSubdomain.describe("A kubernetes.io/tls Secret in this namespace: the edge certificate and key."),
    ktls: z
      .enum(["auto", "required", "off"])
      .default("auto")
      .describe("auto: kTLS where the kernel has it; required: a server is not Ready without it; off: userspace TLS."),
    contentPath: contentPath
      .default(`${defaultContentRoot}/content`)
      .describe(
        `Absolute path of the content disk on the host, inside a directory named edgefleet and the operator's content root, e.g. ${defaultContentRoot}/content.`,
      ),
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

const cutoff = withRules(z.union([z.literal("auto"), z.int().min(0)]).meta({ "x-kubernetes-int-or-string": true }), [
  {
    rule: "type(self) == int ? self >= 0 : self == 'auto'",
    message: 'must be "auto" or an integer >= 0',
    test: (c) => c === "auto" || (Number.isInteger(c) && c >= 0),
  },
]);

export const HCA = z.strictObject({
  cutoff: cutoff
    .default("auto")
    .describe('Head size D*: "auto" lets HCA choose it; an integer, e.g. 5000, pins the head to that many files.'),
  hysteresis: z
    .number()
    .min(0)
    .max(1)
    .default(0.05)
    .describe(
      "Relative improvement in balance (0-1, e.g. 0.05) a new D* must bring before the cutoff moves; damps churn.",
    ),
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
    region: dnsLabel.describe(
      "The region this site belongs to, e.g. eu-west: its Popularity object and Pulumi stack. Immutable.",
    ),
    site: z
      .strictObject({
        type: z
          .enum(["embedded", "ixp"])
          .describe("embedded: inside an ISP's network; ixp: at an internet exchange. Immutable."),
        isp: z
          .string()
          .min(1)
          .max(128)
          .describe("The ISP hosting an embedded site, or the exchange an IXP site sits at, e.g. Polder Telecom."),
        asn: asn.describe("The AS the site peers with, e.g. 64500: the ISP's, or ours at an IXP. Immutable."),
      })
      .describe("Where the site sits and whom it peers with."),
    location: z
      .strictObject({
        lat: z.number().min(-90).max(90).describe("Latitude in degrees, -90 to 90, e.g. 52.3561."),
        lon: z.number().min(-180).max(180).describe("Longitude in degrees, -180 to 180, e.g. 4.9536."),
      })
      .describe("The site's coordinates; steering's tie-breaker on geographic distance."),
    serverClasses: listMap(ServerClass, "name", 16)
      .min(1)
      .describe("Kinds of server at the site, by name: each one's storage and throughput."),
    servers: listMap(Server, "name", 500).describe("The cache servers of the site, one edge pod each."),
    prefixes: listMap(Prefix, "cidr", 4096).describe(
      "Client prefixes announced to the site, with their BGP attributes.",
    ),
    fill: Fill.describe("When, how fast and from where new Placements are filled onto the servers' disks."),
    edge: Edge.describe("The edge pods: image, ports, TLS and the content disk."),
    hca: HCA.default({ cutoff: "auto", hysteresis: 0.05 }).describe(
      "Heterogeneous Cluster Allocation: how the head/tail cutoff is chosen.",
    ),
  }),
  [classesExist],
);

export const ServerStatus = z.strictObject({
  name: dnsLabel.describe("A server name from spec.servers."),
  headTokens: z.int().min(0).describe("Tokens on the head ring of the newest live Placement."),
  tailTokens: z.int().min(0).describe("Tokens on the tail ring of the newest live Placement."),
  expectedBytes: z.int().min(0).describe("Bytes the server is expected to store under that Placement."),
  trafficShare: z
    .number()
    .min(0)
    .max(1)
    .describe("Expected fraction of the site's traffic, 0-1; compare with its share of throughput."),
  health: z
    .enum(["Healthy", "Stale", "Unknown"])
    .describe("Healthy: heartbeat Lease renewed within its duration; Stale: not; Unknown: never seen."),
  lastHeartbeat: z.iso.datetime().optional().describe("RFC 3339 time of the server's last heartbeat renewal."),
});

export const OCAClusterStatus = z.strictObject({
  observedGeneration,
  conditions: conditions.optional().describe("Ready, Placed, Filled, Degraded, EdgeConfigured."),
  servers: listMap(ServerStatus, "name", 500).optional().describe("Per server: its share of the ring and its health."),
  capacity: z
    .strictObject({
      servers: z.int().min(0).describe("Servers in spec.servers."),
      readyServers: z.int().min(0).describe("Servers whose heartbeat is fresh."),
      storage: Bytes.describe("Total content disk, e.g. 836Ti."),
      throughput: BitsPerSecond.describe("Total serving throughput, e.g. 360Gbps."),
    })
    .optional()
    .describe("Totals over spec.servers, for `kubectl get oca`."),
  activePlacement: dnsSubdomain.optional().describe("The Placement steering sends clients by, in this namespace."),
  pendingPlacement: dnsSubdomain.optional().describe("The Placement being filled, not yet active, in this namespace."),
  lastFill: z
    .strictObject({
      start: z.iso.datetime().describe("RFC 3339 time its fill began."),
      end: z.iso.datetime().optional().describe("RFC 3339 time its fill completed on every server."),
    })
    .optional()
    .describe("When the active Placement was filled."),
  nextFill: z.iso.datetime().optional().describe("RFC 3339 time the next fill window opens."),
});

export const OCACluster = objectSchema("OCACluster", OCAClusterSpec, OCAClusterStatus);
export type OCAClusterSpec = z.infer<typeof OCAClusterSpec>;
export type OCAClusterStatus = z.infer<typeof OCAClusterStatus>;
export type OCACluster = z.infer<typeof OCACluster>;
export type ServerClass = z.infer<typeof ServerClass>;
export type Server = z.infer<typeof Server>;
export type Prefix = z.infer<typeof Prefix>;
export type ServerStatus = z.infer<typeof ServerStatus>;
