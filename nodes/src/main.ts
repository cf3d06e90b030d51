// The node agent. `fill` and `evict` run in the fill Job; `serve` runs beside nginx in the DaemonSet.
// Usage:
//   edgefleet-agent init  --settings edge.yaml --out <dir>
//                                  render nginx.conf and the njs link verifier (init container)
//   edgefleet-agent serve --config serve.yaml --node <node name> [--server <name>]
//                                  heartbeat Lease (with the kTLS state), /metrics, /readyz
//   edgefleet-agent fill  --placement <ns>/<name> --server <name> [--content <dir>] [--link-keys <dir>]
//                         [--grace-seconds <s>] [--lock-wait-seconds <s>] [--report-file <file>]
//                                  remove what no kept placement names, then fetch this server's files
//   edgefleet-agent evict --placement <ns>/<name> --server <name> [--content <dir>] [--grace-seconds <s>] …
//                                  after promotion (+ grace): remove files no kept placement names
// Exit codes (operator/src/api/agent-report.ts): 0 done, 1 files failed, 2 refused, 3 directory busy,
// 4 not enough free space.
//   edgefleet-agent own-content --content <dir>
//                                  as root with CAP_CHOWN alone: hand the content dir to the edge user
// The API server comes from KUBECONFIG, or the pod's service account in the cluster.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { type Logger, pino } from "pino";
import { parse as parseYaml } from "yaml";
import { agentExit, formatAgentReport } from "../../operator/src/api/index.js";
import { renderLinkVerifier } from "../../operator/src/edge/link-verifier.js";
import { parseEdgeSettings, renderNginxConf } from "../../operator/src/edge/nginx-config.js";
import { edgeUser } from "../../operator/src/edge/user.js";
import { sleep } from "../../operator/src/runtime/informer.js";
import { Kube } from "../../operator/src/runtime/kube.js";
import { writeFileAtomic } from "./atomic-write.js";
import { ownContent } from "./content-owner.js";
import { evictCommand, fillCommand } from "./fill/command.js";
import { ContentBusyError } from "./fill/lock.js";
import { parsePlacementRef, readPlacementInputs } from "./fill/read-placement.js";
import { probeKtls } from "./ktls.js";
import { loadServeConfig, serverFor } from "./serve/config.js";
import { kubeHeartbeatWriter } from "./serve/kube.js";
import { startAgent } from "./serve/serve.js";

const USAGE =
  "usage: edgefleet-agent init --settings <edge.yaml> --out <dir> | serve --config <serve.yaml> --node <name> [--server <name>] | fill|evict --placement <ns>/<name> --server <name> [--content <dir>] [--link-keys <dir>] [--grace-seconds <s>] [--lock-wait-seconds <s>] [--report-file <file>] | own-content --content <dir>";

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
      /** The cluster's link keys (its mounted link-key Secret): fill signs fetches from peers with them. */
      "link-keys": { type: "string" },
      out: { type: "string" },
      config: { type: "string" },
      node: { type: "string" },
      /** The OCACluster server name; serve looks it up by node name in serve.yaml when absent. */
      server: { type: "string" },
      placement: { type: "string" },
      /** The content disk as mounted in the fill Job; defaults to the OCACluster's spec.edge.contentPath. */
      content: { type: "string" },
      /** Files of a Placement superseded this recently stay; evict starts this long after promotion. */
      "grace-seconds": { type: "string" },
      /** How long to wait for another fill or evict of the same content directory. */
      "lock-wait-seconds": { type: "string" },
      /** Where to leave the short report (the Job's termination message). */
      "report-file": { type: "string" },
    },
  });
  const mode = positionals[0];
  const ac = new AbortController();
  process.once("SIGTERM", () => ac.abort(new Error("SIGTERM")));
  switch (mode) {
    case "init": {
      const out = need(values.out, "--out");
      const settings = parseYaml(await readFile(need(values.settings, "--settings"), "utf8"));
      // Render (and so validate) both before writing either; the verifier goes first because nginx.conf names it.
      const conf = renderNginxConf(settings);
      const parsed = parseEdgeSettings(settings);
      const verifier = renderLinkVerifier(parsed.linkKeysDir);
      await mkdir(out, { recursive: true });
      // nginx creates its temp directories, but not their parent.
      await mkdir(parsed.runDir, { recursive: true });
      await mkdir(dirname(parsed.linkVerifierPath), { recursive: true });
      await writeFileAtomic(parsed.linkVerifierPath, verifier);
      await writeFileAtomic(join(out, "nginx.conf"), conf);
      log.info({ out, linkKeys: parsed.linkKeysDir }, "nginx configuration written");
      return 0;
    }
    case "own-content": {
      const content = need(values.content, "--content");
      const changed = await ownContent(content, edgeUser);
      log.info({ content, owner: edgeUser, changed }, "content directory owned by the edge user");
      return 0;
    }
    case "serve": {
      const node = need(values.node, "--node");
      const cfg = await loadServeConfig(need(values.config, "--config"));
      const agent = await startAgent(cfg, {
        server: serverFor(cfg, node, values.server),
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
    case "evict":
      return fillOrEvict(mode, values, log, ac.signal);
    default:
      throw new Error(`unknown mode ${JSON.stringify(mode)}. ${USAGE}`);
  }
}

type Flags = Readonly<Record<string, string | undefined>>;

/** fill or evict (fill/command.ts): stdout gets the full report, --report-file the short one. */
async function fillOrEvict(mode: "fill" | "evict", values: Flags, log: Logger, signal: AbortSignal): Promise<number> {
  const ref = parsePlacementRef(need(values.placement, "--placement"));
  const kube = await Kube.connect();
  const o = {
    ref,
    server: need(values.server, "--server"),
    content: values.content,
    linkKeysDir: values["link-keys"],
    graceSeconds: seconds(values["grace-seconds"] ?? "21600", "--grace-seconds"),
    lockWaitMs: seconds(values["lock-wait-seconds"] ?? "300", "--lock-wait-seconds") * 1000,
  };
  const d = { read: () => readPlacementInputs(kube, ref, log), log, now: () => new Date(), signal, sleep };
  if (mode === "fill" && values["link-keys"] === undefined) {
    log.warn("no --link-keys to sign peer fetches: filling from the origin only");
  }
  const r = await (mode === "fill" ? fillCommand(o, d) : evictCommand(o, d));
  process.stdout.write(`${JSON.stringify(r.stdout)}\n`);
  const reportFile = values["report-file"];
  // Best effort: the report explains an outcome, it must not change it.
  if (reportFile) {
    await writeFile(reportFile, formatAgentReport(r.report)).catch((err: unknown) =>
      log.warn({ err, reportFile }, "could not write the report file"),
    );
  }
  return r.code;
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    process.stderr.write(`edgefleet-agent: ${describe(err)}\n`);
    // A busy directory is retried by the Job; anything else is a refusal its retries cannot change.
    process.exitCode = err instanceof ContentBusyError ? agentExit.contentBusy : agentExit.refused;
    await writeFailureReport(argv, describe(err)).catch(() => {});
  },
);

/** The fill or evict Job's termination message for a run that ended in an error. */
async function writeFailureReport(args: string[], error: string): Promise<void> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    strict: false,
    options: { "report-file": { type: "string" }, server: { type: "string" } },
  });
  const file = values["report-file"];
  const mode = positionals[0];
  if (typeof file !== "string" || (mode !== "fill" && mode !== "evict")) return;
  const server = typeof values.server === "string" ? values.server : "";
  await writeFile(file, formatAgentReport({ mode, server, error }));
}

/** A whole number of seconds from a flag. */
function seconds(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${flag}: ${JSON.stringify(v)} is not a whole number of seconds`);
  return n;
}

/** The message and its causes, so "applying Lease …: connect ECONNREFUSED" reads as one line. */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined && parts.length < 5; e = e instanceof Error ? e.cause : undefined)
    parts.push(e instanceof Error ? e.message : String(e));
  return parts.join(": ");
}
