// The node agent. `fill` and `evict` run in the fill Job; `serve` runs beside nginx in the DaemonSet.
// Usage:
//   edgefleet-agent fill  --spec fill.yaml    fetch this server's files for a new placement
//   edgefleet-agent evict --spec fill.yaml    after promotion: remove files the active placement does not name
import { parseArgs } from "node:util";
import { pino } from "pino";
import { runEvict, runFill } from "./fill/run.js";
import { loadFillSpec } from "./fill/spec.js";

const USAGE = "usage: edgefleet-agent fill|evict --spec <fill.yaml>";

async function main(argv: string[]): Promise<number> {
  const log = pino({ base: { component: "edgefleet-agent" } }, pino.destination(2));
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { spec: { type: "string" } },
  });
  const mode = positionals[0];
  const ac = new AbortController();
  process.once("SIGTERM", () => ac.abort(new Error("SIGTERM")));
  switch (mode) {
    case "fill":
    case "evict": {
      if (values.spec === undefined) throw new Error(`--spec is required. ${USAGE}`);
      const spec = await loadFillSpec(values.spec);
      const report =
        mode === "fill"
          ? await runFill(spec, {
              now: () => new Date(),
              signal: ac.signal,
              onFile: (r) => log.info({ ...r }, r.status === "filled" ? "file filled" : "file failed"),
            })
          : await runEvict(spec);
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return "failed" in report && report.failed.files > 0 ? 1 : 0;
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
    process.stderr.write(`edgefleet-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
