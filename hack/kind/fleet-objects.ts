/**
 * The fleet the kind e2e suite and the demo run, as plain objects (pure: no I/O, time comes in): an ISP
 * site (OCACluster) whose servers are the kind worker nodes at their real addresses and, with three or
 * more workers, an IX site on the last one (the next site steering ranks for the ISP's clients), Titles
 * whose files are the origin's synthetic media (hack/kind/media.ts, so every sha256 is real), a
 * Popularity, and the origin that serves those files inside the cluster.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type MediaFile, mediaSha256 } from "./media.js";

const here = dirname(fileURLToPath(import.meta.url));

export const fleetNames = {
  namespace: "edgefleet-sites",
  releaseNamespace: "edgefleet-system",
  release: "edgefleet",
  cluster: "kind-ams-1",
  ixCluster: "kind-ams-ix-1",
  region: "e2e",
  signingSecret: "edgefleet-url-signing",
  tlsSecret: "edge-tls",
  origin: "origin",
} as const;

/** Clients steering should send to the cluster: inside its announced prefix. */
export const clientInside = "198.51.100.77";

export type EdgeServer = Readonly<{ name: string; node: string; ipv4: string; class: "storage" | "flash" }>;

/**
 * The workers as edge servers. The ISP site: the first a storage server, every other one a flash server
 * (HCA places the head on flash). With three or more workers the last is the IX site's one storage
 * server instead, so a client of the ISP has a next site on a node of its own.
 */
export function edgeSites(workers: readonly { name: string; ipv4: string }[]): {
  isp: EdgeServer[];
  ix: EdgeServer[];
} {
  const server = (w: { name: string; ipv4: string }, name: string, cls: EdgeServer["class"]): EdgeServer => ({
    name,
    node: w.name,
    ipv4: w.ipv4,
    class: cls,
  });
  const ispWorkers = workers.length >= 3 ? workers.slice(0, -1) : workers;
  const last = workers.at(-1);
  return {
    isp: ispWorkers.map((w, i) => server(w, `s${i + 1}`, i === 0 ? "storage" : "flash")),
    ix: workers.length >= 3 && last ? [server(last, "x1", "storage")] : [],
  };
}

/** "HH:MM" in UTC. */
const hhmm = (d: Date) => d.toISOString().slice(11, 16);

/**
 * The fill window opens at `opensAt` (rounded up to a whole minute, as the spec counts in minutes) and
 * stays open for three hours, in UTC.
 */
export function fillWindow(opensAt: Date): { start: string; end: string; timeZone: string } {
  const start = new Date(Math.ceil(opensAt.getTime() / 60_000) * 60_000);
  return { start: hhmm(start), end: hhmm(new Date(start.getTime() + 3 * 3600_000)), timeZone: "UTC" };
}

/**
 * An OCACluster of the fleet. The ISP site ("isp") is announced the ISP's customer prefix and the kind
 * network (`clientNetwork`, where this host and a container on it play from) with local preference 200;
 * the IX site ("ix") is announced the kind network only, with local preference 100. So steering ranks
 * the ISP site first and the IX site next for a client on the kind network, and the ISP site alone for
 * one in the customer prefix.
 */
export function ocaCluster(o: {
  site: "isp" | "ix";
  servers: readonly EdgeServer[];
  window: ReturnType<typeof fillWindow>;
  image: string;
  clientNetwork?: string | undefined;
}) {
  const n = fleetNames;
  const isp = o.site === "isp";
  const announce = (cidr: string) => ({ cidr, asPath: [64500], med: 0, localPref: isp ? 200 : 100 });
  const network = o.clientNetwork === undefined ? [] : [announce(o.clientNetwork)];
  return {
    apiVersion: "cdn.edgefleet.dev/v1alpha1",
    kind: "OCACluster",
    metadata: { name: isp ? n.cluster : n.ixCluster, namespace: n.namespace },
    spec: {
      region: n.region,
      site: isp
        ? { type: "embedded", isp: "Polder Telecom (kind)", asn: 64500 }
        : { type: "ixp", isp: "AMS-IX (kind)", asn: 64496 },
      location: isp ? { lat: 52.3561, lon: 4.9536 } : { lat: 52.3396, lon: 4.9184 },
      serverClasses: [
        { name: "storage", storage: "256Mi", throughput: "1Gbps" },
        { name: "flash", storage: "128Mi", throughput: "4Gbps" },
      ],
      servers: o.servers.map((s) => ({ name: s.name, node: s.node, class: s.class, ipv4: s.ipv4 })),
      prefixes: isp ? [announce("198.51.100.0/24"), ...network] : network,
      fill: {
        window: o.window,
        bandwidthCap: "2Gbps",
        sources: { origin: `http://${n.origin}.${n.namespace}.svc.cluster.local` },
      },
      edge: { image: o.image, tlsSecret: n.tlsSecret, httpPort: 80, httpsPort: 443, ktls: "auto" },
    },
  };
}

type Rung = Readonly<{ kind: "video" | "audio" | "text"; codec: string; kbps: number; res?: string; vmaf?: number }>;

/** A short ladder: five h264 renditions, AAC audio and WebVTT subtitles. */
const ladder: readonly Rung[] = [
  { kind: "video", codec: "h264", kbps: 235, res: "416x234", vmaf: 35 },
  { kind: "video", codec: "h264", kbps: 750, res: "640x360", vmaf: 57 },
  { kind: "video", codec: "h264", kbps: 1750, res: "960x540", vmaf: 72 },
  { kind: "video", codec: "h264", kbps: 3000, res: "1280x720", vmaf: 84 },
  { kind: "video", codec: "h264", kbps: 5800, res: "1920x1080", vmaf: 93 },
  { kind: "audio", codec: "aac", kbps: 128 },
  { kind: "text", codec: "webvtt", kbps: 1 },
];

/**
 * The catalog: short titles with the whole ladder, and a feature long enough that a client is
 * mid-stream when an edge node is paused under it (the e2e failover test), on the three lowest
 * renditions so it adds little to fill.
 */
const catalog: readonly Readonly<{ id: string; seconds: number; rungs: readonly Rung[] }>[] = [
  ...["night-harbor", "glass-meridian", "salt-and-signal", "the-long-tide", "copper-lanterns", "north-ferry"].map(
    (id) => ({ id, seconds: 10, rungs: ladder }),
  ),
  { id: "harbour-lights", seconds: 64, rungs: [...ladder.slice(0, 3), ...ladder.slice(5)] },
];
const titleIds = catalog.map((t) => t.id);

/** The title the failover test plays: 64 s, 16 chunks. */
export const longTitle = "harbour-lights";

/** Title objects (each file's bytes are bitrate × duration; sha256 of the origin's bytes) and the file list. */
export function titles(): { objects: object[]; files: MediaFile[] } {
  const files: MediaFile[] = [];
  const objects = catalog.map(({ id, seconds: durationSeconds, rungs }) => {
    const spec = rungs.map((r) => {
      const path = `${id}/${r.kind}/${r.codec}/${r.res ? `${r.res.split("x")[1]}p-` : ""}${r.kbps}k.${r.kind === "text" ? "vtt" : "mp4"}`;
      const f = { path, bytes: Math.max(1, Math.round((r.kbps * 1000 * durationSeconds) / 8)) };
      files.push(f);
      return {
        path,
        bytes: f.bytes,
        sha256: mediaSha256(f),
        kind: r.kind,
        codec: r.codec,
        bitrateKbps: r.kbps,
        ...(r.res ? { resolution: r.res, vmaf: r.vmaf } : {}),
      };
    });
    return {
      apiVersion: "cdn.edgefleet.dev/v1alpha1",
      kind: "Title",
      metadata: { name: id, namespace: fleetNames.namespace },
      spec: { id, regions: [fleetNames.region], durationSeconds, files: spec },
    };
  });
  return { objects, files };
}

export const titleIdsInOrder: readonly string[] = titleIds;

/** The region's demand: Zipf(0.9) over `order` (most played first), under one catalog generation. */
export function popularity(generation: string, order: readonly string[] = titleIds) {
  return {
    apiVersion: "cdn.edgefleet.dev/v1alpha1",
    kind: "Popularity",
    metadata: { name: fleetNames.region, namespace: fleetNames.namespace },
    spec: {
      region: fleetNames.region,
      catalogGeneration: generation,
      demand: Object.fromEntries(order.map((id, i) => [id, Math.round(1e6 / (i + 1) ** 0.9)])),
    },
  };
}

/** The origin: nginx (from the edge image) serving the media its init container generates. */
export function origin(o: { image: string; files: readonly MediaFile[]; placement: PodPlacement }) {
  const n = fleetNames;
  const labels = { "app.kubernetes.io/name": "edgefleet-origin" };
  const nginxConf = `worker_processes 1;
error_log stderr;
pid /tmp/nginx.pid;
events {}
http {
  access_log off;
  sendfile on;
  client_body_temp_path /tmp/body;
  proxy_temp_path /tmp/proxy;
  fastcgi_temp_path /tmp/fastcgi;
  uwsgi_temp_path /tmp/uwsgi;
  scgi_temp_path /tmp/scgi;
  server {
    listen 8080;
    root /content;
    location / {}
  }
}
`;
  const configMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: n.origin, namespace: n.namespace, labels },
    data: {
      "media.ts": readFileSync(join(here, "media.ts"), "utf8"),
      "files.json": JSON.stringify(o.files),
      "nginx.conf": nginxConf,
    },
  };
  const mounts = [
    { name: "origin", mountPath: "/origin", readOnly: true },
    { name: "content", mountPath: "/content" },
  ];
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: n.origin, namespace: n.namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          ...o.placement,
          initContainers: [
            {
              name: "generate",
              image: o.image,
              command: ["node", "/origin/media.ts", "/origin/files.json", "/content"],
              volumeMounts: mounts,
            },
          ],
          containers: [
            {
              name: "nginx",
              image: o.image,
              command: ["nginx", "-e", "stderr", "-c", "/origin/nginx.conf", "-g", "daemon off;"],
              ports: [{ name: "http", containerPort: 8080 }],
              readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 },
              volumeMounts: mounts,
            },
          ],
          volumes: [
            { name: "origin", configMap: { name: n.origin } },
            { name: "content", emptyDir: {} },
          ],
        },
      },
    },
  };
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: n.origin, namespace: n.namespace, labels },
    spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] },
  };
  return [configMap, deployment, service];
}

/** Runs a pod on the control-plane node, so stopping an edge node never takes it down. */
export type PodPlacement = Readonly<{
  nodeSelector: Record<string, string>;
  tolerations: readonly Record<string, string>[];
}>;
export const onControlPlane: PodPlacement = {
  nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
  tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
};

/** Helm values: the chart's operator (two replicas) and steering on the control-plane node, NodePort steering. */
export function chartValues(o: { imageTag: string; trustedProxies: readonly string[] }) {
  // NodePort with externalTrafficPolicy Local: steering sees a player on the kind network at its own
  // address (no SNAT), the address the edges see too, so the links it signs for it are accepted.
  return {
    image: { repository: "edgefleet", tag: o.imageTag, pullPolicy: "IfNotPresent" },
    // Old files leave the disks 5 s after a promotion instead of the signed-URL lifetime (6 h), so the
    // suite sees the evicted disk; steering.urlTtlSeconds stays as it is.
    operator: { replicas: 2, evictDelaySeconds: 5, ...onControlPlane },
    steering: {
      replicas: 2,
      service: { type: "NodePort", port: 80, externalTrafficPolicy: "Local" },
      trustedProxies: o.trustedProxies,
      ...onControlPlane,
    },
    agent: { namespaces: [fleetNames.namespace] },
    // The locally built edge image; the chart's default allows only the project's published one.
    edge: { allowedImages: ["edgefleet-edge"] },
  };
}
