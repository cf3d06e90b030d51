import { describe, expect, it } from "vitest";
import { parseObject } from "../api/index.js";
import { loadSamples } from "../api/testdata/samples.js";
import type { KubeObject } from "../runtime/kube.js";
import { popularityStatus } from "./popularity.js";
import { titleStatus } from "./title.js";

const t0 = new Date("2026-11-26T10:00:00Z");
const samplesOf = (kind: string) =>
  loadSamples()
    .filter((s) => s.object.kind === kind)
    .map((s) => ({ ...s.object, metadata: { ...s.object.metadata, generation: 3 } }) as unknown as KubeObject);

describe("titleStatus", () => {
  it("publishes the ladder, bytes and file count of every sample title, and the result validates", () => {
    for (const t of samplesOf("Title")) {
      const status = titleStatus(t, t0);
      const files = (t.spec as { files: { bytes: number }[] }).files;
      expect(status.fileCount).toBe(files.length);
      expect(status.totalBytes).toBe(files.reduce((a, f) => a + f.bytes, 0));
      expect(status.ladder?.length).toBeGreaterThan(0);
      expect(status.conditions?.[0]).toMatchObject({ type: "Ready", status: "True", observedGeneration: 3 });
      expect(parseObject("Title", { ...t, status }).ok).toBe(true);
    }
  });

  it("reports an invalid spec as Ready=False naming the field, with no ladder", () => {
    const [t] = samplesOf("Title");
    if (!t) throw new Error("no sample titles");
    const bad = { ...t, spec: { ...(t.spec as object), durationSeconds: -5 } };
    const status = titleStatus(bad, t0);
    expect(status.ladder).toBeUndefined();
    expect(status.conditions?.[0]).toMatchObject({ type: "Ready", status: "False", reason: "InvalidSpec" });
    expect(status.conditions?.[0]?.message).toContain("spec.durationSeconds");
  });

  it("is stable: the same object twice gives the same status", () => {
    const [t] = samplesOf("Title");
    if (!t) throw new Error("no sample titles");
    const once = titleStatus(t, t0);
    expect(titleStatus({ ...t, status: once }, new Date("2026-11-27T00:00:00Z"))).toEqual(once);
  });
});

describe("popularityStatus", () => {
  it("counts titles of each sample region", () => {
    for (const p of samplesOf("Popularity")) {
      const status = popularityStatus(p, t0);
      expect(status.titleCount).toBe(Object.keys((p.spec as { demand: object }).demand).length);
      expect(status.conditions?.[0]?.status).toBe("True");
    }
  });
});
