/** Test fixtures: the committed stack files as Pulumi hands their values to the program. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { Files } from "./config.js";

export const projectDir = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A stack file's `edgefleet:` values, as Pulumi hands them to the program. */
export function stackValues(stack: string): Record<string, unknown> {
  const doc = parse(readFileSync(join(projectDir, `Pulumi.${stack}.yaml`), "utf8")) as { config: object };
  return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(/^edgefleet:/, ""), v]));
}

/** The real files, with home at /home/test, whose ~/.kube/config exists. */
export const files: Files = {
  exists: (p) => p.startsWith("/home/test/.kube/") || existsSync(p),
  read: (p) => readFileSync(p, "utf8"),
  home: "/home/test",
};
