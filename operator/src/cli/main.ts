/**
 * The `edgefleet` command line. Subcommands:
 *   plan       compute an HCA placement offline (see plan.ts)
 *   operator   run the operator (see serve.ts)
 *   steering   run the steering and playback service (see serve.ts)
 *   play       play a title through steering and the edges as a viewer's device does (player/src/cli.ts)
 * Bad input prints one line naming the file and the field, and exits 2; never a stack trace.
 */
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { runPlay } from "../../../player/src/cli.js";
import { QuantityError, ValidationError } from "../api/index.js";
import { InfeasiblePlacementError, PlacementInputError } from "../placement/index.js";
import { CliError, type Files, runPlan } from "./plan.js";
import { FlagError, runOperator, runSteering } from "./serve.js";

const USAGE = `usage: edgefleet operator [flags] | edgefleet steering [flags]
       edgefleet play --steering URL --title ID [--rule bba|bola|throughput] [--max-buffer S] [--ca PEM] [--json]
       edgefleet plan -f <OCACluster YAML> --catalog <file.json|file.csv|synthetic:files=N,alpha=A[,seed=S][,days=D]>
                     [--cluster NAME] [--previous placement.yaml] [--svg out.svg] [--out placement.yaml]`;

const disk: Files = {
  read: (path: string) => readFile(path, "utf8"),
  write: (path: string, text: string) => writeFile(path, text),
};

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(
  argv: readonly string[],
  out: (s: string) => void,
  err: (s: string) => void,
  files: Files = disk,
): Promise<number> {
  const [cmd, ...rest] = argv;
  // The reference client parses its own flags: one parser for `npm run play` and `edgefleet play`.
  if (cmd === "play") return runPlay(rest, (s) => out(`${s}\n`), err);
  if (cmd === "operator" || cmd === "steering") {
    try {
      return await (cmd === "operator" ? runOperator(rest) : runSteering(rest));
    } catch (e) {
      const usage =
        e instanceof FlagError ||
        (e instanceof TypeError && "code" in e && String(e.code).startsWith("ERR_PARSE_ARGS"));
      err(`error: ${e instanceof Error ? e.message : String(e)}`);
      return usage ? 2 : 1;
    }
  }
  if (cmd !== "plan") {
    err(`${cmd === undefined ? "missing subcommand" : `unknown subcommand "${cmd}"`}\n${USAGE}`);
    return 2;
  }
  try {
    const { values } = parseArgs({
      args: [...rest],
      options: {
        file: { type: "string", short: "f" },
        catalog: { type: "string" },
        cluster: { type: "string" },
        previous: { type: "string" },
        svg: { type: "string" },
        out: { type: "string", short: "o" },
      },
    });
    if (!values.file) throw new CliError("-f: the OCACluster YAML file is required");
    if (!values.catalog) throw new CliError("--catalog: a catalog file or synthetic:files=N,alpha=A is required");
    out(
      await runPlan(
        {
          clusterFile: values.file,
          catalog: values.catalog,
          clusterName: values.cluster,
          previous: values.previous,
          svg: values.svg,
          out: values.out,
        },
        files,
      ),
    );
    return 0;
  } catch (e) {
    if (
      e instanceof CliError ||
      e instanceof PlacementInputError ||
      e instanceof InfeasiblePlacementError ||
      e instanceof ValidationError ||
      e instanceof QuantityError
    ) {
      err(`error: ${e.message}`);
      return 2;
    }
    // parseArgs reports unknown or malformed options as TypeErrors with a code.
    if (e instanceof TypeError && "code" in e && String(e.code).startsWith("ERR_PARSE_ARGS")) {
      err(`error: ${e.message}\n${USAGE}`);
      return 2;
    }
    err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await main(
    process.argv.slice(2),
    (s) => process.stdout.write(s),
    (s) => process.stderr.write(`${s}\n`),
  );
}
