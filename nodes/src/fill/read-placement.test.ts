import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { mustParse, type OCACluster, type Placement } from "../../../operator/src/api/index.js";
import { sample } from "../../../operator/src/api/testdata/samples.js";
import type { Kube, KubeObject } from "../../../operator/src/runtime/kube.js";
import { readActivePlacement } from "./read-placement.js";

const base = mustParse("OCACluster", sample("OCACluster", "ams-polder-1"));
const cluster = (activePlacement?: string): OCACluster => ({
  ...base,
  metadata: { ...base.metadata, namespace: "edge" },
  status: activePlacement === undefined ? {} : { activePlacement },
});
const placementNamed = (name: string, cutoff = 1): Placement =>
  mustParse("Placement", {
    apiVersion: "cdn.edgefleet.dev/v1alpha1",
    kind: "Placement",
    metadata: { name, namespace: "edge" },
    spec: {
      cluster: base.metadata.name,
      catalogGeneration: "g1",
      cutoff,
      servers: [{ name: "s01", headTokens: 10, tailTokens: 10 }],
    },
  });
const filling = placementNamed("p-new");

/** A Kube whose get answers from `objects` by name (undefined: a 404), recording what it was asked. */
function fakeKube(objects: Record<string, unknown>) {
  const asked: string[] = [];
  const kube: Pick<Kube, "get"> = {
    get: async <T extends KubeObject>(_kind: unknown, key: { namespace?: string; name: string }) => {
      asked.push(`${key.namespace}/${key.name}`);
      return objects[key.name] as T | undefined;
    },
  };
  return { kube, asked };
}
/** A real pino logger whose lines are kept, as level name and message. */
function keptLog() {
  const lines: { level: string; msg: string }[] = [];
  const write = (s: string) => {
    const { level, msg } = JSON.parse(s) as { level: number; msg: string };
    lines.push({ level: pino.levels.labels[level] ?? String(level), msg });
  };
  return { log: pino({ level: "info" }, { write }), lines };
}

describe("readActivePlacement", () => {
  it.each([
    {
      name: "no status.activePlacement (the site's first fill) → none, said at info, nothing read",
      cluster: cluster(),
      objects: {},
      want: undefined,
      asked: [],
      log: [{ level: "info", msg: /no Active placement/ }],
    },
    {
      name: "the Active one is the Placement being filled → it, not read again",
      cluster: cluster("p-new"),
      objects: {},
      want: filling,
      asked: [],
      log: [],
    },
    {
      name: "named but gone (404) → none, with a warning",
      cluster: cluster("p-old"),
      objects: {},
      want: undefined,
      asked: ["edge/p-old"],
      log: [{ level: "warn", msg: /not found/ }],
    },
    {
      name: "named and invalid → none, with a warning",
      cluster: cluster("p-old"),
      objects: { "p-old": { ...placementNamed("p-old"), spec: { cluster: base.metadata.name } } },
      want: undefined,
      asked: ["edge/p-old"],
      log: [{ level: "warn", msg: /is invalid/ }],
    },
    {
      name: "named and there → it, from the cluster's namespace",
      cluster: cluster("p-old"),
      objects: { "p-old": placementNamed("p-old", 7) },
      want: placementNamed("p-old", 7),
      asked: ["edge/p-old"],
      log: [],
    },
  ])("$name", async ({ cluster: c, objects, want, asked, log }) => {
    const k = fakeKube(objects);
    const l = keptLog();
    expect(await readActivePlacement(k.kube, c, filling, l.log)).toEqual(want);
    expect(k.asked).toEqual(asked);
    expect(l.lines).toEqual(log.map((x) => ({ level: x.level, msg: expect.stringMatching(x.msg) })));
  });
});
