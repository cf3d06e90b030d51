/** The committed samples (crds/samples/*.yaml), loaded for tests as fresh mutable copies. */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const samplesDir = join(repoRoot, "crds/samples");

export type Sample = { kind: string; metadata: { name: string }; [k: string]: unknown };

/** Every sample object, in file order, with the file it came from. */
export function loadSamples(): { file: string; object: Sample }[] {
  return readdirSync(samplesDir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(samplesDir, file), "utf8"), { version: "1.1" }).map((d) => ({
        file,
        object: d.toJS() as Sample,
      })),
    );
}

/** A deep copy of the sample of this kind and name; throws when there is none. */
export function sample(kind: string, name: string): Sample {
  const found = loadSamples().find((s) => s.object.kind === kind && s.object.metadata.name === name);
  if (!found) throw new Error(`no sample ${kind}/${name} in ${samplesDir}`);
  return structuredClone(found.object);
}
