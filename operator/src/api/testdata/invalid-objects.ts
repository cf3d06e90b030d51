/**
 * Objects with exactly one defect each, and the field path both the API server and zod must name.
 * Each starts from a committed sample, so the rest of the object is known to be valid. Shared by
 * validate.test.ts (zod) and test/integration/crds.test.ts (the API server, through server-side apply,
 * which reports a duplicate list key at the list rather than at the entry).
 */
import { type Sample, sample } from "./samples.js";

export type InvalidCase = Readonly<{ name: string; kind: string; path: string; object: Sample }>;

// biome-ignore lint/suspicious/noExplicitAny: cases reach into sample YAML by hand, like a user editing it.
type Edit = (spec: any) => void;

const bases = {
  OCACluster: "ams-polder-1",
  Title: "night-harbor",
  Placement: "ams-polder-1-2026-08-14",
  Popularity: "eu-west",
} as const;

function make(kind: keyof typeof bases, name: string, path: string, edit: Edit): InvalidCase {
  const object = sample(kind, bases[kind]);
  edit(object.spec);
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 50);
  object.metadata = { name: `bad-${slug}`.replace(/-$/, "") };
  return { name, kind, path, object };
}

const oca = (name: string, path: string, edit: Edit) => make("OCACluster", name, path, edit);
const title = (name: string, path: string, edit: Edit) => make("Title", name, path, edit);
const plc = (name: string, path: string, edit: Edit) => make("Placement", name, path, edit);
const pop = (name: string, path: string, edit: Edit) => make("Popularity", name, path, edit);

export function invalidObjects(): InvalidCase[] {
  return [...invalidClusters(), ...invalidTitles(), ...invalidOthers()];
}

function invalidClusters(): InvalidCase[] {
  return [
    oca("region not a DNS label", "spec.region", (s) => (s.region = "EU-West")),
    oca("site type unknown", "spec.site.type", (s) => (s.site.type = "colo")),
    oca("ASN 0 is reserved", "spec.site.asn", (s) => (s.site.asn = 0)),
    oca("ASN beyond 32 bits", "spec.site.asn", (s) => (s.site.asn = 4294967295)),
    oca("ASN is AS_TRANS", "spec.site.asn", (s) => (s.site.asn = 23456)),
    oca("latitude above 90", "spec.location.lat", (s) => (s.location.lat = 91)),
    oca("longitude below -180", "spec.location.lon", (s) => (s.location.lon = -181.5)),
    oca("storage zero", "spec.serverClasses[0].storage", (s) => (s.serverClasses[0].storage = "0Ti")),
    oca("throughput without bps", "spec.serverClasses[1].throughput", (s) => (s.serverClasses[1].throughput = "100G")),
    oca("no server classes", "spec.serverClasses", (s) => (s.serverClasses = [])),
    oca("duplicate server name", "spec.servers", (s) => (s.servers[1].name = s.servers[0].name)),
    oca("server class that does not exist", "spec.servers", (s) => (s.servers[2].class = "nvme")),
    oca("IPv4 octet above 255", "spec.servers[0].ipv4", (s) => (s.servers[0].ipv4 = "100.72.16.300")),
    oca("IPv6 address as ipv4", "spec.servers[1].ipv4", (s) => (s.servers[1].ipv4 = "2001:db8::1")),
    oca("IPv6 with a bad group", "spec.servers[0].ipv6", (s) => (s.servers[0].ipv6 = "2001:db8::g1")),
    oca("IPv4-mapped IPv6", "spec.servers[3].ipv6", (s) => (s.servers[3].ipv6 = "::ffff:100.72.16.14")),
    oca("CIDR with host bits", "spec.prefixes[0].cidr", (s) => (s.prefixes[0].cidr = "100.64.0.1/11")),
    oca("CIDR length 33", "spec.prefixes[1].cidr", (s) => (s.prefixes[1].cidr = "100.96.0.0/33")),
    oca("IPv6 CIDR with host bits", "spec.prefixes[4].cidr", (s) => (s.prefixes[4].cidr = "2001:db8:4401::/40")),
    oca("duplicate prefix", "spec.prefixes", (s) => (s.prefixes[1].cidr = s.prefixes[0].cidr)),
    oca("AS path with ASN 0", "spec.prefixes[3].asPath[1]", (s) => (s.prefixes[3].asPath = [64500, 0])),
    oca("negative MED", "spec.prefixes[0].med", (s) => (s.prefixes[0].med = -1)),
    oca("local preference beyond 32 bits", "spec.prefixes[2].localPref", (s) => (s.prefixes[2].localPref = 2 ** 32)),
    oca("fill window ends where it starts", "spec.fill.window.end", (s) => (s.fill.window.end = s.fill.window.start)),
    oca("fill window hour 25", "spec.fill.window.start", (s) => (s.fill.window.start = "25:00")),
    oca("time zone not IANA-shaped", "spec.fill.window.timeZone", (s) => (s.fill.window.timeZone = "CET summer")),
    oca("bandwidth cap zero", "spec.fill.bandwidthCap", (s) => (s.fill.bandwidthCap = "0Gbps")),
    oca("origin not http(s)", "spec.fill.sources.origin", (s) => (s.fill.sources.origin = "ftp://origin.example/c")),
    oca("duplicate fill peer", "spec.fill.sources.peers", (s) => (s.fill.sources.peers = ["ams-ix-1", "ams-ix-1"])),
    oca("https port equals http port", "spec.edge.httpsPort", (s) => (s.edge.httpsPort = s.edge.httpPort)),
    oca("port above 65535", "spec.edge.httpPort", (s) => (s.edge.httpPort = 70000)),
    oca("kTLS mode unknown", "spec.edge.ktls", (s) => (s.edge.ktls = "maybe")),
    oca("content path climbs out", "spec.edge.contentPath", (s) => (s.edge.contentPath = "/var/lib/../etc")),
    oca("content path relative", "spec.edge.contentPath", (s) => (s.edge.contentPath = "var/lib/edgefleet")),
    // A fill Job hands its content path to the edge user and evict empties it: never a system directory.
    oca("content path is the host's root", "spec.edge.contentPath", (s) => (s.edge.contentPath = "/")),
    oca("content path is /etc", "spec.edge.contentPath", (s) => (s.edge.contentPath = "/etc")),
    oca("content path is kubelet's", "spec.edge.contentPath", (s) => (s.edge.contentPath = "/var/lib/kubelet")),
    oca("content path is the root itself", "spec.edge.contentPath", (s) => (s.edge.contentPath = "/var/lib/edgefleet")),
    oca("content path with a dot segment", "spec.edge.contentPath", (s) => {
      s.edge.contentPath = "/var/lib/edgefleet/./content";
    }),
    oca("content path trailing slash", "spec.edge.contentPath", (s) => (s.edge.contentPath = "/var/lib/edgefleet/c/")),
    oca("cutoff neither auto nor integer", "spec.hca.cutoff", (s) => (s.hca.cutoff = "manual")),
    oca("cutoff negative", "spec.hca.cutoff", (s) => (s.hca.cutoff = -5)),
    oca("hysteresis above 1", "spec.hca.hysteresis", (s) => (s.hca.hysteresis = 1.5)),
    oca("unknown field", "spec.site.pop", (s) => (s.site.pop = "AMS1")),
    oca("fill missing", "spec.fill", (s) => delete s.fill),
  ];
}

function invalidTitles(): InvalidCase[] {
  return [
    title("absolute file path", "spec.files[0].path", (s) => (s.files[0].path = "/srv/night-harbor/a.mp4")),
    title("file path with ..", "spec.files[1].path", (s) => (s.files[1].path = "night-harbor/../etc/passwd")),
    // The agent's own rule (api/paths.ts): no segment starts with "." (its partial downloads live in .edgefleet/).
    title("file path with a . segment", "spec.files[2].path", (s) => (s.files[2].path = "night-harbor/./a.mp4")),
    title("file path with a hidden segment", "spec.files[3].path", (s) => (s.files[3].path = ".hidden/x.mp4")),
    title("file path into .edgefleet", "spec.files[4].path", (s) => (s.files[4].path = "t/.edgefleet/partial/x")),
    title("file path with an empty segment", "spec.files[0].path", (s) => (s.files[0].path = "night-harbor//a.mp4")),
    title("sha256 too short", "spec.files[2].sha256", (s) => (s.files[2].sha256 = "abc123")),
    title("sha256 uppercase", "spec.files[0].sha256", (s) => (s.files[0].sha256 = s.files[0].sha256.toUpperCase())),
    title("file of zero bytes", "spec.files[3].bytes", (s) => (s.files[3].bytes = 0)),
    title("file kind unknown", "spec.files[0].kind", (s) => (s.files[0].kind = "subtitle")),
    title("video file with audio codec", "spec.files[0].codec", (s) => (s.files[0].codec = "aac")),
    title("audio file with a resolution", "spec.files[21].resolution", (s) => (s.files[21].resolution = "1920x1080")),
    title("video file without VMAF", "spec.files[5].vmaf", (s) => delete s.files[5].vmaf),
    title("VMAF above 100", "spec.files[4].vmaf", (s) => (s.files[4].vmaf = 101)),
    title("resolution malformed", "spec.files[6].resolution", (s) => (s.files[6].resolution = "1080p")),
    title("duplicate file path", "spec.files", (s) => (s.files[1].path = s.files[0].path)),
    title("no regions", "spec.regions", (s) => (s.regions = [])),
    title("duplicate region", "spec.regions", (s) => (s.regions = ["eu-west", "eu-west"])),
    title("zero duration", "spec.durationSeconds", (s) => (s.durationSeconds = 0)),
    title("id with spaces", "spec.id", (s) => (s.id = "Night Harbor")),
    title(
      "no video file",
      "spec.files",
      (s) => (s.files = s.files.filter((f: { kind: string }) => f.kind !== "video")),
    ),
  ];
}

function invalidOthers(): InvalidCase[] {
  return [
    plc("negative cutoff", "spec.cutoff", (s) => (s.cutoff = -1)),
    plc("negative head tokens", "spec.servers[0].headTokens", (s) => (s.servers[0].headTokens = -3)),
    plc("tokens beyond the maximum", "spec.servers[1].tailTokens", (s) => (s.servers[1].tailTokens = 1_000_000)),
    plc("no tail tokens anywhere", "spec.servers", (s) => {
      for (const v of s.servers) v.tailTokens = 0;
    }),
    plc("no servers", "spec.servers", (s) => (s.servers = [])),
    plc("empty catalog generation", "spec.catalogGeneration", (s) => (s.catalogGeneration = "")),
    plc("duplicate server", "spec.servers", (s) => (s.servers[2].name = s.servers[0].name)),
    pop("demand key not a title id", "spec.demand", (s) => (s.demand["Night Harbor"] = 5)),
    pop("negative demand", "spec.demand.night-harbor", (s) => (s.demand["night-harbor"] = -1)),
    pop("region missing", "spec.region", (s) => delete s.region),
    pop("forecast key not a title id", "spec.forecast", (s) => (s.forecast = { "Night Harbor": 5 })),
    pop("negative forecast", "spec.forecast.night-harbor", (s) => (s.forecast = { "night-harbor": -1 })),
  ];
}
