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

export type Fleet = Readonly<{ clusters: Sample[]; titles: Sample[]; popularities: Sample[] }>;

/**
 * The sample fleet as the demo and the end-to-end tests run it: every site's fill window opened from an
 * hour before `now` to three hours after, in UTC, so a run does not depend on the hour it starts at.
 */
export function sampleFleet(now: Date): Fleet {
  const hhmm = (ms: number) => new Date(now.getTime() + ms).toISOString().slice(11, 16);
  const window = { start: hhmm(-3600_000), end: hhmm(3 * 3600_000), timeZone: "UTC" };
  const of = (kind: string) =>
    loadSamples()
      .filter((s) => s.object.kind === kind)
      .map((s) => structuredClone(s.object));
  const clusters = of("OCACluster").map((c) => {
    const spec = c.spec as { fill: object };
    return { ...c, spec: { ...spec, fill: { ...spec.fill, window } } };
  });
  return { clusters, titles: of("Title"), popularities: of("Popularity") };
}

/** The nodes the sample clusters' servers run on. */
export const fleetNodes = (f: Fleet): string[] =>
  f.clusters.flatMap((c) => (c.spec as { servers: { node: string }[] }).servers.map((s) => s.node));
