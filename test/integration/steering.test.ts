/**
 * Steering and playback fed from the real API server: the operator fills and activates Placements,
 * heartbeat Leases make clusters healthy, and the service ranks clusters for a client address and
 * hands out manifests whose URLs point at the server the active ring names — never at a title the
 * active Placement does not hold, never at a server or cluster whose heartbeats stopped. Then the
 * control plane is stopped for 60 s while a client polls, and started again: steering answers every
 * request from its last view (saying how stale it is), and resyncs without a restart.
 */
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterStop, clusterUp } from "../../hack/local-cluster.js";
import { heartbeatLease, Kinds, mustParse, type OCACluster } from "../../operator/src/api/index.js";
import { PlaybackManifest } from "../../operator/src/api/manifest.js";
import { fleetNodes, sampleFleet } from "../../operator/src/api/testdata/samples.js";
import { regionCatalog } from "../../operator/src/catalog/catalog.js";
import { serversOf } from "../../operator/src/catalog/servers.js";
import { startOperator } from "../../operator/src/operator.js";
import { assign } from "../../operator/src/placement/index.js";
import { Kube } from "../../operator/src/runtime/kube.js";
import { fixedLinkKeys } from "../../operator/src/steering/link-keys.js";
import { startSteering } from "../../operator/src/steering/process.js";
import { deriveLinkKey, verifyLink } from "../../operator/src/steering/sign-url.js";
import { clusterName, eventually, installCrds, kubeconfig, kubectl, kubectlOk } from "./kube.js";
import { operatorOptions, steeringOptions } from "./processes.js";

const ns = `st-${Date.now().toString(36)}`;
const fleet = sampleFleet(new Date());
const inNs = <T extends { metadata: object }>(o: T) => ({ ...o, metadata: { ...o.metadata, namespace: ns } });
const clusters = fleet.clusters.map(inNs);
const titles = fleet.titles.map(inNs);
const pops = fleet.popularities.map(inNs);
const ams = mustParse(
  "OCACluster",
  clusters.find((c) => c.metadata.name === "ams-polder-1"),
);
const amsPrefix = ams.spec.prefixes.find((p) => p.cidr.includes("."))?.cidr ?? "";
const clientInAms = amsPrefix.replace(/\.0\/\d+$/, ".77");
const clientNetOfAms = clientInAms.replace(/\.\d+$/, ".0/24");
const masterK1 = Buffer.from("integration-master-k1-0123456789abcdef");
const masters = { keys: new Map([["k1", masterK1]]), primary: "k1" };

describe("steering service on the real control plane", () => {
  const stop = new AbortController();
  const stopOperator = new AbortController();
  let base = "";
  let healthBase = "";
  let kube: Kube;
  let done: Promise<void>[] = [];

  /** One server's heartbeat: its Lease renewed, as its edge agent does. */
  const beatServer = (cluster: OCACluster, server: string, renewTime: Date, leaseDurationSeconds = 30) =>
    kube.apply(
      Kinds.Lease,
      heartbeatLease({
        namespace: ns,
        cluster: cluster.metadata.name,
        server,
        load: { connections: 1, bytesPerSec: 1e6, diskUsedBytes: 1, diskTotalBytes: 2, ktls: "unavailable" },
        now: renewTime,
        leaseDurationSeconds,
      }),
      "edgefleet-test",
    );
  const beat = (cluster: OCACluster, renewTime: Date, leaseDurationSeconds = 30) =>
    Promise.all(cluster.spec.servers.map((s) => beatServer(cluster, s.name, renewTime, leaseDurationSeconds)));

  /** Every host the manifest of the first title names for a client inside ams-polder-1's prefixes. */
  const hostsInManifest = async (): Promise<Set<string>> => {
    const r = await fetch(`${base}/v1/playback/${titles[0]?.metadata.name}`, {
      headers: { "x-forwarded-for": clientInAms },
    });
    if (r.status !== 200) return new Set();
    const m = (await r.json()) as { ladder: { rungs: { urls: string[] }[] }[] };
    return new Set(m.ladder.flatMap((e) => e.rungs.flatMap((g) => g.urls.map((u) => new URL(u).hostname))));
  };

  beforeAll(async () => {
    kube = await Kube.connect(kubeconfig());
    await installCrds();
    await kubectlOk(["create", "namespace", ns]);
    await kubectlOk(["create", "serviceaccount", "edgefleet-agent", "-n", ns]);
    const nodeObjs = fleetNodes(fleet).map((name) => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "edgefleet.dev/test": ns } },
    }));
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: nodeObjs }));
    await kubectlOk(
      ["apply", "--server-side", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: [...clusters, ...titles, ...pops] }),
    );
    const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });
    const op = await startOperator(
      operatorOptions({ kube, log, namespace: ns, linkKeys: fixedLinkKeys(masters) }),
      stopOperator.signal,
    );
    await eventually(
      async () => {
        const r = JSON.parse(await kubectlOk(["get", "placements", "-n", ns, "-o", "json"])) as {
          items: { status?: { phase?: string } }[];
        };
        return r.items.filter((p) => p.status?.phase === "Active").length === clusters.length ? true : undefined;
      },
      "every cluster's placement Active",
      120_000,
    );
    stopOperator.abort(); // from here on nothing is filled: a new title stays unplaced
    await op.done;
    await beat(ams, new Date());
    const st = await startSteering(
      steeringOptions({
        kube,
        log,
        namespace: ns,
        linkKeys: fixedLinkKeys(masters),
        config: { trustedProxies: ["127.0.0.1/32"] },
      }),
      stop.signal,
    );
    base = `http://127.0.0.1:${(st.server.address() as AddressInfo).port}`;
    healthBase = `http://127.0.0.1:${(st.health?.address() as AddressInfo | undefined)?.port}`;
    done = [st.done];
  });

  afterAll(async () => {
    stop.abort();
    stopOperator.abort();
    await Promise.all(done);
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
    await kubectl(["delete", "node", "-l", `edgefleet.dev/test=${ns}`, "--wait=false"]);
  });

  it("ranks the cluster whose prefix matches the client first", async () => {
    const body = await eventually(async () => {
      const r = await fetch(`${base}/v1/steering?ip=${clientInAms}`);
      const j = (await r.json()) as { clusters?: { name: string }[] };
      return r.status === 200 && j.clusters?.[0]?.name === "ams-polder-1" ? j : undefined;
    }, "ams-polder-1 ranked first");
    expect(body.clusters?.[0]?.name).toBe("ams-polder-1");
  });

  it("hands out a manifest whose URLs point at the server the active ring names, signed", async () => {
    const title = titles[0]?.metadata.name ?? "";
    const placements = JSON.parse(await kubectlOk(["get", "placements", "-n", ns, "-o", "json"])) as {
      items: {
        spec: { cluster: string; cutoff: number; catalogGeneration: string; servers: [] };
        status?: { phase?: string };
      }[];
    };
    const active = placements.items.find((p) => p.spec.cluster === "ams-polder-1" && p.status?.phase === "Active");
    if (!active) throw new Error("no active placement for ams-polder-1");
    const parsedTitles = titles.map((t) => mustParse("Title", t));
    const popularity = mustParse(
      "Popularity",
      pops.find((p) => p.metadata.name === "eu-west"),
    );
    const a = assign(active.spec, regionCatalog("eu-west", parsedTitles, popularity).files, serversOf(ams.spec));
    const ipOf = new Map(ams.spec.servers.map((s) => [s.name, s.ipv4]));
    type Manifest = { ladder: { rungs: { path: string; urls: string[] }[] }[] };
    const firstRung = (m: Manifest) => m.ladder[0]?.rungs[0];
    const holderOf = (m: Manifest) => a.holdersOf(`${title}/${firstRung(m)?.path}`)[0] ?? "";
    const onHolder = (m: Manifest) =>
      firstRung(m)
        ?.urls.map((u) => new URL(u))
        .find((u) => u.hostname === ipOf.get(holderOf(m)));
    // Until steering has seen every server's heartbeat it names the next live holder: wait for the first.
    let last: Manifest | undefined;
    const manifest = await eventually(
      async () => {
        const r = await fetch(`${base}/v1/playback/${title}`, { headers: { "x-forwarded-for": clientInAms } });
        last = r.status === 200 ? ((await r.json()) as Manifest) : undefined;
        return last && onHolder(last) ? last : undefined;
      },
      "a manifest naming the ring's first holder",
      30_000,
    ).catch((err: unknown) => {
      const m = last;
      throw m ? new Error(`a URL on ${holderOf(m)} among ${firstRung(m)?.urls.join(" ")}`) : err;
    });
    const rung = firstRung(manifest);
    if (!rung) throw new Error("empty manifest");
    const url = onHolder(manifest);
    expect(url?.pathname).toBe(`/${rung.path}`);
    // Signed for ams-polder-1 with the primary kid, bound to the client's /24: what its edge accepts.
    expect([url?.searchParams.get("kid"), url?.searchParams.get("net")]).toEqual(["k1", clientNetOfAms]);
    expect(Number(url?.searchParams.get("exp"))).toBeGreaterThan(Date.now() / 1000);
    const keyOfAms = deriveLinkKey(masterK1, ns, "ams-polder-1");
    const check = (u: URL, net: string) =>
      verifyLink({ path: u.pathname, query: u.searchParams, clientNet: net, keyOf: () => keyOfAms, nowMs: Date.now() });
    if (!url) throw new Error("no URL");
    expect(check(url, clientNetOfAms)).toBeUndefined();
    expect(check(url, "192.0.2.0/24")).toBe("net");
    // A player can address the chunks: the manifest parses, and each rung's chunk index covers its file.
    const playable = PlaybackManifest.parse(manifest);
    const bytes = new Map(parsedTitles[0]?.spec.files.map((f) => [f.path, f.bytes]));
    for (const r of playable.ladder.flatMap((e) => e.rungs))
      expect(
        r.chunkBytes?.reduce((x, y) => x + y, 0),
        r.path,
      ).toBe(bytes.get(r.path));
  });

  it("does not offer a title that no active Placement holds", async () => {
    const t = titles[0];
    if (!t) throw new Error("no sample title");
    const spec = t.spec as { files: { path: string }[] };
    const files = spec.files.map((f) => ({
      ...f,
      path: f.path.replace(/^[^/]+/, "brand-new"),
    }));
    const fresh = { ...t, metadata: { name: "brand-new", namespace: ns }, spec: { ...spec, id: "brand-new", files } };
    await kubectlOk(["apply", "--server-side", "-f", "-"], JSON.stringify(fresh));
    const r = await eventually(async () => {
      const res = await fetch(`${base}/v1/playback/brand-new`, { headers: { "x-forwarded-for": clientInAms } });
      const j = (await res.json()) as { error?: { code: string } };
      return res.status === 404 && j.error?.code === "TitleNotAvailable" ? j : undefined;
    }, "TitleNotAvailable for the unfilled title");
    expect(r.error?.code).toBe("TitleNotAvailable");
  });

  it("stops naming a server whose heartbeat stops within its lease duration, and names it again when it renews", async () => {
    await beat(ams, new Date()); // every server live for 30 s: the others keep serving throughout
    const named = await eventually(async () => {
      const h = await hostsInManifest();
      return ams.spec.servers.some((s) => h.has(s.ipv4 ?? "")) ? h : undefined;
    }, "a manifest naming ams-polder-1's servers");
    const victim = ams.spec.servers.find((s) => named.has(s.ipv4 ?? ""));
    if (victim?.ipv4 === undefined) throw new Error("no ams-polder-1 server named");
    const ip = victim.ipv4;

    // Its last renewal, on a short lease: steering must stop naming it once the lease has run out.
    const lease = 3;
    const renewed = Date.now();
    await beatServer(ams, victim.name, new Date(), lease);
    const without = await eventually(
      async () => {
        const h = await hostsInManifest();
        return h.size > 0 && !h.has(ip) ? h : undefined;
      },
      `the manifest to stop naming ${victim.name}`,
      30_000,
    );
    const droppedAfterS = (Date.now() - renewed) / 1000;
    expect(droppedAfterS).toBeGreaterThanOrEqual(lease); // not before its lease ran out, by steering's clock
    expect(droppedAfterS).toBeLessThanOrEqual(lease + 3); // the watch, the refresh and a 200 ms poll
    const others = new Set(ams.spec.servers.filter((s) => s !== victim).map((s) => s.ipv4));
    expect(
      [...without].some((h) => others.has(h)),
      "the other servers still named",
    ).toBe(true);
    const listed = (await (await fetch(`${base}/v1/steering?ip=${clientInAms}`)).json()) as {
      clusters: { name: string; servers: { name: string }[] }[];
    };
    const amsListed = listed.clusters.find((c) => c.name === "ams-polder-1")?.servers.map((s) => s.name);
    expect(amsListed).toEqual(ams.spec.servers.filter((s) => s !== victim).map((s) => s.name));

    await beatServer(ams, victim.name, new Date());
    await eventually(
      async () => ((await hostsInManifest()).has(ip) ? true : undefined),
      `the manifest to name ${victim.name} again`,
      30_000,
    );
  });

  it("drops a cluster whose heartbeats stopped, its own lease duration after their last renewal", async () => {
    // The last renewal, on a 2 s lease (and an edge clock two minutes behind, which steering ignores).
    await beat(ams, new Date(Date.now() - 120_000), 2);
    await eventually(async () => {
      const res = await fetch(`${base}/v1/steering?ip=${clientInAms}`);
      const j = (await res.json()) as { clusters?: { name: string }[] };
      return !(j.clusters ?? []).some((c) => c.name === "ams-polder-1") ? true : undefined;
    }, "ams-polder-1 to drop out");
  });

  it("answers bad input with a JSON 4xx", async () => {
    const r = await fetch(`${base}/v1/steering?ip=not-an-ip`);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBeTruthy();
  });

  /** One answer of the poller: when, to what, and whether it ranked ams-polder-1 first. */
  type Polled = { at: number; kind: "steering" | "playback"; status: number; ranked: boolean; stale: string | null };
  const poll = async (kind: Polled["kind"]): Promise<Polled> => {
    const at = Date.now();
    const r =
      kind === "steering"
        ? await fetch(`${base}/v1/steering?ip=${clientInAms}`)
        : await fetch(`${base}/v1/playback/${titles[0]?.metadata.name}`, {
            headers: { "x-forwarded-for": clientInAms },
          });
    const j = (await r.json()) as { clusters?: { name: string }[]; ladder?: { rungs: { urls: string[] }[] }[] };
    const ranked = kind === "steering" ? j.clusters?.[0]?.name === "ams-polder-1" : (j.ladder?.length ?? 0) > 0;
    return {
      at,
      kind,
      status: r.status,
      ranked: r.status === 200 && ranked,
      stale: r.headers.get("x-edgefleet-stale"),
    };
  };

  it.skipIf(clusterName() === "")(
    "answers every request through a 60 s API outage from its last view, saying how stale, and resyncs after it",
    async () => {
      const [late, ...beating] = ams.spec.servers.map((s) => s.name);
      if (late === undefined) throw new Error("no ams-polder-1 servers");
      const lease = 10; // seconds: every Lease would have expired 10 s into the outage
      let beats = true;
      const heartbeater = (async () => {
        while (beats) {
          await Promise.allSettled(beating.map((s) => beatServer(ams, s, new Date(), lease)));
          await new Promise((r) => setTimeout(r, 2_000));
        }
      })();
      await eventually(async () => {
        const [p, m] = [await poll("steering"), await poll("playback")];
        return p.ranked && m.ranked && p.stale === null ? p : undefined;
      }, "ams-polder-1 ranked first, and a manifest, from fresh heartbeats");

      const answers: Polled[] = [];
      let polling = true;
      const poller = (async () => {
        for (let i = 0; polling; i++) {
          answers.push(await poll(i % 2 === 0 ? "steering" : "playback"));
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      await new Promise((r) => setTimeout(r, 2_000));
      const down = Date.now();
      await clusterStop(clusterName());
      await new Promise((r) => setTimeout(r, 30_000));
      const ready = await fetch(`${healthBase}/readyz`);
      const readyText = await ready.text();
      await new Promise((r) => setTimeout(r, 30_000));
      const up = Date.now();
      await clusterUp(clusterName());
      const restarted = Date.now();

      // Resynced without a restart: the stale header goes, a Lease first renewed now and a Title made now reach steering.
      await eventually(
        async () => ((await poll("steering")).stale === null ? true : undefined),
        "the watch back",
        120_000,
      );
      const back = Date.now();
      await beatServer(ams, late, new Date(), lease);
      const t = titles[0];
      if (t === undefined) throw new Error("no sample title");
      const spec = t.spec as { files: { path: string }[] };
      const files = spec.files.map((f) => ({ ...f, path: f.path.replace(/^[^/]+/, "after-outage") }));
      const fresh = {
        ...t,
        metadata: { name: "after-outage", namespace: ns },
        spec: { ...spec, id: "after-outage", files },
      };
      await kubectlOk(["apply", "--server-side", "-f", "-"], JSON.stringify(fresh));
      await eventually(async () => {
        const r = (await (await fetch(`${base}/v1/steering?ip=${clientInAms}`)).json()) as {
          clusters?: { name: string; servers: { name: string }[] }[];
        };
        return r.clusters?.find((c) => c.name === "ams-polder-1")?.servers.some((s) => s.name === late)
          ? true
          : undefined;
      }, `${late}'s first renewal after the outage`);
      const after = await eventually(async () => {
        const r = await fetch(`${base}/v1/playback/after-outage`, { headers: { "x-forwarded-for": clientInAms } });
        const code = ((await r.json()) as { error?: { code: string } }).error?.code;
        return code === "TitleNotAvailable" ? code : undefined; // known now, though no Placement holds it
      }, "the Title made after the outage");
      polling = false;
      beats = false;
      await Promise.all([poller, heartbeater]);

      const during = answers.filter((a) => a.at >= down && a.at < up);
      const ok = during.filter((a) => a.ranked);
      const expiredAt = down + lease * 1000 + 2_000; // the last renewal was at most 2 s before the stop
      const marked = during.filter((a) => a.at >= expiredAt && a.stale !== null);
      const recovery = answers.filter((a) => a.at >= up);
      console.log(
        `outage: ${ok.length}/${during.length} requests answered 200 and ranked during the ${((up - down) / 1000).toFixed(0)} s outage (${marked.length} of the ${during.filter((a) => a.at >= expiredAt).length} after every Lease would have expired marked stale, up to ${Math.max(...during.map((a) => Number(a.stale ?? 0)))} s); ${recovery.filter((a) => a.ranked).length}/${recovery.length} from the restart (${((restarted - up) / 1000).toFixed(0)} s; the watch back ${((back - restarted) / 1000).toFixed(0)} s after it) until the end; /readyz 30 s in: ${ready.status} ${readyText}`,
      );
      expect(during.length).toBeGreaterThan(100);
      expect(ok).toHaveLength(during.length);
      expect(marked).toHaveLength(during.filter((a) => a.at >= expiredAt).length);
      expect(recovery.filter((a) => !a.ranked)).toEqual([]);
      expect([ready.status, readyText]).toEqual([503, expect.stringMatching(/^watches down for \d+ s: .*leases/)]);
      expect(after).toBe("TitleNotAvailable");
      expect((await fetch(`${healthBase}/readyz`)).status).toBe(200);
    },
    300_000,
  );
});
