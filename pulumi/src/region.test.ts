/**
 * The stack program under Pulumi's mocks: no engine, no cluster. Each stack file makes exactly what it
 * says, in the namespaces it says, with the signing key a secret; a bad site registers nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it } from "vitest";
import { regionProgram } from "./program.js";
import { files, projectDir, stackValues } from "./testing.js";

type Registered = Readonly<{ type: string; name: string; inputs: Record<string, unknown> }>;
const registered: Registered[] = [];

function useStack(stack: string, values: Record<string, unknown>, signingKey: string | null = "0123456789abcdef") {
  pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        // The chart's outputs: what helm.v4.Chart made (nothing, under mocks).
        const state = args.type === "kubernetes:helm.sh/v4:Chart" ? { ...args.inputs, resources: [] } : args.inputs;
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "edgefleet",
    stack,
    false,
  );
  const config: Record<string, string> = signingKey ? { "edgefleet:urlSigningKey": signingKey } : {};
  for (const [k, v] of Object.entries(values)) config[`edgefleet:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  pulumi.runtime.setAllConfig(config, ["edgefleet:urlSigningKey"]);
}

/** Runs the stack's program and waits for its outputs (and so for every registration). */
async function run(stack: string, values = stackValues(stack)) {
  useStack(stack, values);
  const out = await regionProgram(projectDir, files)();
  const clusters = await new Promise<{ name: string; placement: string | null }[]>((r) => out.clusters.apply(r));
  return { out, clusters };
}

const ofType = (type: string) => registered.filter((r) => r.type === type);
const meta = (r: Registered) => r.inputs.metadata as { name: string; namespace?: string; labels?: object };

beforeEach(() => {
  registered.length = 0;
});

describe.each([
  { stack: "eu-west", sites: ["ams-polder-1", "ams-ix-1"], titles: 9 },
  { stack: "us-east", sites: ["iad-hudson-1"], titles: 9 },
])("stack $stack", ({ stack, sites, titles }) => {
  it("connects to the stack's cluster and makes the namespace, the CRDs, the Secret and the chart", async () => {
    await run(stack);
    const [provider] = ofType("pulumi:providers:kubernetes");
    expect(provider?.inputs).toMatchObject({ kubeconfig: "/home/test/.kube/config", context: `edgefleet-${stack}` });
    expect(ofType("kubernetes:core/v1:Namespace").map((r) => meta(r).name)).toEqual(["edgefleet"]);
    const crds = ofType("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition").map((r) => meta(r).name);
    expect(crds.sort()).toEqual([
      "ocaclusters.cdn.edgefleet.dev",
      "placements.cdn.edgefleet.dev",
      "popularities.cdn.edgefleet.dev",
      "titles.cdn.edgefleet.dev",
    ]);
    const [chart, ...more] = ofType("kubernetes:helm.sh/v4:Chart");
    expect(more).toEqual([]);
    expect(chart?.inputs).toMatchObject({
      name: "edgefleet",
      namespace: "edgefleet",
      skipCrds: true,
      values: { agent: { namespaces: ["edgefleet"] } },
    });
    expect(String(chart?.inputs.chart)).toMatch(/\/charts\/edgefleet$/);
  });

  it("creates the region's OCAClusters, Popularity and Titles in the fleet namespace", async () => {
    const { clusters } = await run(stack);
    const objects = ofType("kubernetes:cdn.edgefleet.dev/v1alpha1:OCACluster");
    expect(objects.map((r) => meta(r).name).sort()).toEqual([...sites].sort());
    for (const o of objects) {
      expect(meta(o)).toMatchObject({ namespace: "edgefleet", labels: { "cdn.edgefleet.dev/region": stack } });
      expect(o.inputs.spec).toMatchObject({ region: stack });
    }
    const pops = ofType("kubernetes:cdn.edgefleet.dev/v1alpha1:Popularity");
    expect(pops.map((r) => [meta(r).name, meta(r).namespace])).toEqual([[stack, "edgefleet"]]);
    expect(ofType("kubernetes:cdn.edgefleet.dev/v1alpha1:Title")).toHaveLength(titles);
    expect(clusters.map((c) => c.name)).toEqual(sites);
    for (const c of clusters) expect(c.placement).toMatch(new RegExp(`^${c.name}-[0-9a-f]{10}$`));
  });

  it("keeps the URL-signing key a secret", async () => {
    await run(stack);
    const [secret, ...more] = ofType("kubernetes:core/v1:Secret");
    expect(more).toEqual([]);
    expect(meta(secret as Registered)).toMatchObject({ name: "edgefleet-url-signing", namespace: "edgefleet" });
    // What the engine gets (and so the state): the value wrapped as a secret, never plain.
    expect(secret?.inputs.stringData).toEqual({
      [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
      value: { key: "0123456789abcdef" },
    });
  });
});

describe("a second fleet namespace", () => {
  it("gets its own namespace, Secret and the agent's account; the release stays in its own", async () => {
    await run("eu-west", { ...stackValues("eu-west"), fleetNamespace: "fleet" });
    expect(ofType("kubernetes:core/v1:Namespace").map((r) => meta(r).name)).toEqual(["edgefleet", "fleet"]);
    expect(
      ofType("kubernetes:core/v1:Secret")
        .map((r) => meta(r).namespace)
        .sort(),
    ).toEqual(["edgefleet", "fleet"]);
    expect(ofType("kubernetes:helm.sh/v4:Chart")[0]?.inputs).toMatchObject({
      namespace: "edgefleet",
      values: { agent: { namespaces: ["fleet"] } },
    });
    const objects = ofType("kubernetes:cdn.edgefleet.dev/v1alpha1:OCACluster");
    expect(new Set(objects.map((r) => meta(r).namespace))).toEqual(new Set(["fleet"]));
  });
});

describe("a bad site", () => {
  it("fails the program with one error naming the stack, the site and the field, and registers nothing", async () => {
    const values = structuredClone(stackValues("us-east")) as { sites: { prefixes: { cidr: string }[] }[] };
    const p = values.sites[0]?.prefixes[0];
    if (p) p.cidr = "198.18.128.0/16";
    useStack("us-east", values);
    const err = await regionProgram(projectDir, files)().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(pulumi.RunError);
    expect((err as Error).message).toBe(
      "stack us-east: site iad-hudson-1: sites[0].prefixes[0].cidr: must be a CIDR prefix with no host bits set, " +
        "like 203.0.113.0/24 or 2001:db8:4400::/40",
    );
    expect(registered).toEqual([]);
  });

  it("a missing signing key is reported as a secret to set", async () => {
    useStack("eu-west", stackValues("eu-west"), null);
    await expect(regionProgram(projectDir, files)()).rejects.toThrow(
      /^stack eu-west: urlSigningKey: required: the URL-signing key, as a secret \(pulumi config set --secret/,
    );
  });
});
