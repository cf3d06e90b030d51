// The node agent. `fill` and `evict` run in the fill Job; `serve` runs beside nginx in the DaemonSet.
// Usage:
//   edgefleet-agent init  --settings edge.yaml --secret <file> --out <dir>
//                                  render nginx.conf and the secret include (init container)
//   edgefleet-agent serve --config serve.yaml --node <node name> [--server <name>]
//                                  heartbeat Lease, node annotation, /metrics, /readyz
//   edgefleet-agent fill  --placement <ns>/<name> --server <name> [--content <dir>] [--secret <file>]
//                                  fetch this server's files for a new placement
//   edgefleet-agent evict --placement <ns>/<name> --server <name> [--content <dir>]
//                                  after promotion: remove files the active placement does not name
// The API server comes from KUBECONFIG, or the pod's service account in the cluster.
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { parse as parseYaml } from "yaml";
import { parseEdgeSettings, renderNginxConf, renderSecretInclude } from "../../operator/src/edge/nginx-config.js";
import { Kube } from "../../operator/src/runtime/kube.js";
import { writeFileAtomic } from "./atomic-write.js";
import { assignedFiles, checkPromoted, fillSpecFor } from "./fill/from-placement.js";
import { parsePlacementRef, readPlacementInputs } from "./fill/read-placement.js";
import { runEvict, runFill } from "./fill/run.js";
import { probeKtls } from "./ktls.js";
import { loadServeConfig, serverFor } from "./serve/config.js";
import { kubeHeartbeatWriter } from "./serve/kube.js";
import { startAgent } from "./serve/serve.js";

const USAGE =
  "usage: edgefleet-agent init --settings <edge.yaml> --secret <file> --out <dir> | serve --config <serve.yaml> --node <name> [--server <name>] | fill|evict --placement <ns>/<name> --server <name> [--content <dir>] [--secret <file>]";

function need(v: string | undefined, flag: string): string {
  if (v === undefined) throw new Error(`${flag} is required. ${USAGE}`);
  return v;
}

async function main(argv: string[]): Promise<number> {
  const log = pino({ base: { component: "edgefleet-agent" } }, pino.destination(2));
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      settings: { type: "string" },
      secret: { type: "string" },
      out: { type: "string" },
      config: { type: "string" },
      node: { type: "string" },
      /** The OCACluster server name; serve looks it up by node name in serve.yaml when absent. */
      server: { type: "string" },
      placement: { type: "string" },
      /** The content disk as mounted in the fill Job; defaults to the OCACluster's spec.edge.contentPath. */
      content: { type: "string" },
    },
  });
  const mode = positionals[0];
  const ac = new AbortController();
  process.once("SIGTERM", () => ac.abort(new Error("SIGTERM")));
  switch (mode) {
    case "init": {
      const out = need(values.out, "--out");
      const settings = parseYaml(await readFile(need(values.settings, "--settings"), "utf8"));
      const secret = (await readFile(need(values.secret, "--secret"), "utf8")).trim();
      // Render (and so validate) both before writing either; the include goes first because nginx.conf names it.
      const conf = renderNginxConf(settings);
      const include = renderSecretInclude(secret);
      await mkdir(out, { recursive: true });
      // nginx creates its temp directories, but not their parent.
      await mkdir(parseEdgeSettings(settings).runDir, { recursive: true });
      await writeFileAtomic(join(out, "secret.conf"), include, 0o600);
      await writeFileAtomic(join(out, "nginx.conf"), conf);
      log.info({ out }, "nginx configuration written");
      return 0;
    }
    case "serve": {
      const node = need(values.node, "--node");
      const cfg = await loadServeConfig(need(values.config, "--config"));
      const agent = await startAgent(cfg, {
        server: serverFor(cfg, node, values.server),
        nodeName: node,
        writer: kubeHeartbeatWriter(await Kube.connect()),
        probeKtls: () => probeKtls(),
        now: () => new Date(),
        log,
      });
      log.info({ metrics: agent.metricsUrl }, "serving");
      await new Promise<void>((res) => ac.signal.addEventListener("abort", () => res(), { once: true }));
      await agent.stop();
      return 0;
    }
    case "fill":
    case "evict": {
      const ref = parsePlacementRef(need(values.placement, "--placement"));
      const server = need(values.server, "--server");
      const { inputs, invalid } = await readPlacementInputs(await Kube.connect(), ref, log);
      for (const why of invalid) log.warn({ why }, "left out of the catalog, as the operator leaves it out");
      const contentPath = values.content ?? inputs.cluster.spec.edge.contentPath;
      if (mode === "evict") {
        checkPromoted(inputs.placement);
        const report = await runEvict({ server, contentPath, files: assignedFiles(inputs, server).files });
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return 0;
      }
      if (values.secret === undefined) log.warn("no --secret to sign peer fetches: filling from the origin only");
      const { spec, active } = fillSpecFor(inputs, { server, contentPath, secretPath: values.secret });
      // Peers are asked in order: the file's holders under the Active placement, then under this one.
      const peersFirst = active.placement ?? `none (${active.why})`;
      log.info(
        { placement: `${ref.namespace}/${ref.name}`, server, files: spec.files.length, peersFirst },
        "fill starting",
      );
      const report = await runFill(spec, {
        now: () => new Date(),
        signal: ac.signal,
        onFile: (r) => log.info({ ...r }, r.status === "filled" ? "file filled" : "file failed"),
      });
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return report.failed.files > 0 ? 1 : 0;
    }
    default:
      throw new Error(`unknown mode ${JSON.stringify(mode)}. ${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`edgefleet-agent: ${describe(err)}\n`);
    process.exitCode = 2;
  },
);

/** The message and its causes, so "applying Lease …: connect ECONNREFUSED" reads as one line. */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined && parts.length < 5; e = e instanceof Error ? e.cause : undefined)
    parts.push(e instanceof Error ? e.message : String(e));
  return parts.join(": ");
}
