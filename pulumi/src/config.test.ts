import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSamples } from "../../operator/src/api/testdata/samples.js";
import { loadRegionConfig, StackConfigError } from "./config.js";
import { files, projectDir, stackValues } from "./testing.js";

const load = (stack: string, values = stackValues(stack)) => loadRegionConfig({ stack, values, projectDir, files });

/** The stack file with one change made by `edit` to a deep copy of its values. */
function edited(stack: string, edit: (v: { sites: Record<string, unknown>[] } & Record<string, unknown>) => void) {
  const v = structuredClone(stackValues(stack)) as { sites: Record<string, unknown>[] } & Record<string, unknown>;
  edit(v);
  return v;
}

function problemsOf(stack: string, values: Record<string, unknown>): readonly string[] {
  try {
    load(stack, values);
  } catch (err) {
    if (err instanceof StackConfigError) return err.problems;
    throw err;
  }
  return [];
}

type Sample = { kind: string; metadata: { name: string }; spec: { region: string } & Record<string, unknown> };

describe("stack files", () => {
  it.each(["eu-west", "us-east"])("%s: every site is its crds/samples OCACluster, and its Popularity", (stack) => {
    const r = load(stack);
    const samples = loadSamples().map((s) => s.object as Sample);
    const clusters = samples.filter((s) => s.kind === "OCACluster" && s.spec.region === stack);
    expect(r.region).toBe(stack);
    expect(r.kubeconfig).toBe("/home/test/.kube/config");
    expect(r.sites.map((s) => s.name)).toEqual(clusters.map((c) => c.metadata.name));
    for (const [i, site] of r.sites.entries()) expect(site.spec).toEqual(clusters[i]?.spec);
    const pop = samples.find((s) => s.kind === "Popularity" && s.metadata.name === stack);
    expect(r.popularity).toEqual(pop?.spec);
    const titles = samples.filter((s) => s.kind === "Title" && (s.spec.regions as string[]).includes(stack));
    expect(r.titles.map((t) => t.metadata.name)).toEqual(titles.map((t) => t.metadata.name));
    expect(r.chartPath).toBe(join(projectDir, "../charts/edgefleet"));
    expect(r.chartDefaults).toMatchObject({ urlSigning: { secretName: "edgefleet-url-signing", key: "key" } });
  });
});

describe("a bad stack config names the stack, the site and the field", () => {
  it.each([
    {
      name: "a CIDR with host bits",
      edit: (v: { sites: Record<string, unknown>[] }) => {
        (v.sites[1] as { prefixes: { cidr: string }[] }).prefixes[0] = { cidr: "198.51.100.7/24", asPath: [] } as never;
      },
      want: "stack eu-west: site ams-ix-1: sites[1].prefixes[0].cidr: must be a CIDR prefix with no host bits set",
    },
    {
      name: "a server of an unknown class",
      edit: (v: { sites: Record<string, unknown>[] }) => {
        (v.sites[0] as { servers: { class: string }[] }).servers[4] = {
          ...(v.sites[0] as { servers: object[] }).servers[4],
          class: "nvme",
        } as never;
      },
      want: "stack eu-west: site ams-polder-1: sites[0].servers: every server's class must name an entry of serverClasses",
    },
    {
      name: "a misspelt field",
      edit: (v: { sites: Record<string, unknown>[] }) => {
        (v.sites[0] as Record<string, unknown>).serverClass = [];
      },
      want: "stack eu-west: site ams-polder-1: sites[0].serverClass: unknown field",
    },
    {
      name: "a site in another region",
      edit: (v: { sites: Record<string, unknown>[] }) => {
        (v.sites[1] as Record<string, unknown>).region = "us-east";
      },
      want: "stack eu-west: site ams-ix-1: sites[1].region: must be the stack's region eu-west (or left out)",
    },
    {
      name: "a site without a name",
      edit: (v: { sites: Record<string, unknown>[] }) => {
        delete (v.sites[1] as Record<string, unknown>).name;
      },
      want: "stack eu-west: site #1: sites[1].name: required",
    },
    {
      name: "two sites of one name",
      edit: (v: { sites: Record<string, unknown>[] }) => {
        (v.sites[1] as Record<string, unknown>).name = "ams-polder-1";
      },
      want: "stack eu-west: site ams-polder-1: sites: two sites are named ams-polder-1",
    },
    {
      name: "no kubeconfig",
      edit: (v: Record<string, unknown>) => {
        delete v.kubeconfig;
      },
      want: "stack eu-west: kubeconfig: required: the path of the region's cluster's kubeconfig",
    },
    {
      name: "a kubeconfig that is not there",
      edit: (v: Record<string, unknown>) => {
        v.kubeconfig = "/nonexistent/kubeconfig";
      },
      want: "stack eu-west: kubeconfig: no such file /nonexistent/kubeconfig",
    },
    {
      name: "an unknown config key",
      edit: (v: Record<string, unknown>) => {
        v.namespce = "x";
      },
      want: "stack eu-west: namespce: unknown field",
    },
    {
      name: "a bad popularity",
      edit: (v: Record<string, unknown>) => {
        v.popularity = { catalogGeneration: "2026-08-14", demand: { "Not A Title": 3 } };
      },
      want: "stack eu-west: popularity.demand: keys must be title ids",
    },
  ])("$name", ({ edit, want }) => {
    const problems = problemsOf("eu-west", edited("eu-west", edit as never));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(want);
  });

  it("lists every bad field of every site, one line each", () => {
    const v = edited("eu-west", (v) => {
      (v.sites[0] as { location: object }).location = { lat: 91, lon: 4 };
      (v.sites[1] as { fill: { bandwidthCap: string } }).fill.bandwidthCap = "fast";
    });
    expect(problemsOf("eu-west", v)).toEqual([
      expect.stringMatching(/^stack eu-west: site ams-polder-1: sites\[0\]\.location\.lat: /),
      expect.stringMatching(/^stack eu-west: site ams-ix-1: sites\[1\]\.fill\.bandwidthCap: /),
    ]);
  });
});
