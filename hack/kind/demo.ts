/**
 * The demo on kind (hack/demo.sh runs it when Docker Engine can run): a cluster of one control-plane
 * node and two edge nodes, the chart, the fleet, and then what a viewer's player would do — ask steering,
 * take the manifest, fetch a rendition from an edge nginx over HTTPS and check its sha256. Real edge pods
 * send the heartbeats; nothing is staged. The cluster is kept for exploring; `npm run kind:down` removes it.
 */
import { createHash } from "node:crypto";
import { request } from "node:https";
import { appImages, createKindCluster, ensureDocker, KindStepError, loadImages, nodeImage } from "./cluster.js";
import { installFleet, kubectlFor } from "./fleet.js";
import { clientInside, fleetNames } from "./fleet-objects.js";

export const demoCluster = "edgefleet-demo";
const say = (s: string) => console.log(`\n== ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function getEdge(url: string, ca: string): Promise<{ status: number; bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      const h = createHash("sha256");
      let bytes = 0;
      res.on("data", (b: Buffer) => {
        h.update(b);
        bytes += b.length;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes, sha256: h.digest("hex") }));
    })
      .on("error", reject)
      .end();
  });
}

async function main(): Promise<void> {
  const t0 = Date.now();
  say("Docker Engine, the offline images and a kind cluster (one control-plane node, two edge nodes)");
  await ensureDocker();
  const image = await nodeImage();
  const app = await appImages("demo");
  const cluster = await createKindCluster({ name: demoCluster, image, workers: 2 });
  await loadImages(demoCluster, [app.operator, app.edge]);
  for (const n of cluster.nodes) console.log(`  ${n.role.padEnd(13)} ${n.name} ${n.ipv4}`);

  say("helm install of charts/edgefleet, the origin, and the fleet (fill window open now)");
  const fleet = await installFleet({
    cluster,
    imageTag: "demo",
    windowOpensAt: new Date(),
    catalogGeneration: "day-1",
  });
  const k = await kubectlFor(cluster.kubeconfig);
  const ns = fleetNames.namespace;

  say("waiting for HCA to plan, the fill Jobs to fill both edge disks, and the Placement to become Active");
  for (let i = 0; ; i++) {
    const phases = await k(["-n", ns, "get", "placements", "-o", "jsonpath={.items[*].status.phase}"]);
    if (phases.split(" ").includes("Active")) break;
    if (i > 300)
      throw new Error(
        `no Active placement after 5 minutes; see kubectl --kubeconfig ${cluster.kubeconfig} -n ${ns} get placements,jobs,pods`,
      );
    await sleep(1000);
  }
  console.log(await k(["-n", ns, "get", "ocaclusters,placements,jobs", "-o", "wide"]));
  for (const n of [fleetNames.releaseNamespace, ns]) console.log(await k(["-n", n, "get", "pods", "-o", "wide"]));

  say(`steering: a client inside ${fleetNames.cluster}'s prefixes (${clientInside})`);
  const ask = async (path: string, client = clientInside) => {
    for (let i = 0; ; i++) {
      const r = await fetch(`${fleet.steeringUrl}${path}`, { headers: { "x-forwarded-for": client } });
      if (r.status === 200 || i > 60) return { status: r.status, body: (await r.json()) as unknown };
      await sleep(1000); // the edge heartbeats reach steering within a few seconds of the pods starting
    }
  };
  const steer = await ask(`/v1/steering?ip=${clientInside}`);
  console.log(`GET ${fleet.steeringUrl}/v1/steering?ip=${clientInside} → ${steer.status}`);
  console.log(JSON.stringify(steer.body, null, 2));
  const title = "night-harbor";
  // Signed links are bound to the client's /24: the player is this host, as the edge nodes see it.
  const m = await ask(`/v1/playback/${title}`, fleet.edgeClient);
  console.log(`GET ${fleet.steeringUrl}/v1/playback/${title} → ${m.status}; the video ladder:`);
  const ladder = (m.body as { ladder?: { kind: string; rungs: { path: string; urls: string[] }[] }[] }).ladder ?? [];
  const video = ladder.find((e) => e.kind === "video")?.rungs ?? [];
  for (const r of video) console.log(`  ${r.path}\n    ${r.urls.join("\n    ")}`);

  say("a player fetches the 1080p rendition from the edge nginx (HTTPS, signed URL) and checks it");
  const top = video.at(-1);
  if (!top?.urls[0]) throw new Error(`the manifest offers no URL: ${JSON.stringify(m.body)}`);
  const got = await getEdge(top.urls[0], fleet.caPem);
  const declared = JSON.parse(await k(["-n", ns, "get", "title", title, "-o", "json"])) as {
    spec: { files: { path: string; sha256: string }[] };
  };
  const want = declared.spec.files.find((f) => f.path === top.path)?.sha256;
  console.log(`  HTTP ${got.status}, ${got.bytes} bytes from ${new URL(top.urls[0]).host}, sha256 ${got.sha256}`);
  console.log(`  ${got.sha256 === want ? "matches" : "DOES NOT MATCH"} the sha256 the Title declares`);
  if (got.status !== 200 || got.sha256 !== want) throw new Error("the edge did not serve the declared bytes");

  console.log(`\ndone in ${Math.round((Date.now() - t0) / 1000)}s. The cluster stays up:`);
  console.log(`  export KUBECONFIG=${cluster.kubeconfig}`);
  console.log(`  kubectl get ocaclusters,placements -A     steering: ${fleet.steeringUrl}`);
  console.log("  npm run kind:down                        deletes it (and stops the dockerd the demo started)");
}

main().catch((err: unknown) => {
  console.error(
    err instanceof KindStepError ? err.message : `demo failed: ${err instanceof Error ? err.message : err}`,
  );
  process.exitCode = 1;
});
