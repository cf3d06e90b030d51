/**
 * A region's stack configuration (`Pulumi.<stack>.yaml`, namespace `edgefleet:`) → the typed description
 * of what the stack creates. Pure: the caller hands in the raw values and the file reader.
 *
 * Every site is an OCACluster spec without its region (the stack's): the same zod schema the CRD is
 * generated from and the operator parses with validates it here, so a bad site fails `pulumi preview`
 * before anything is registered, in one message naming the stack, the site and the field:
 *   stack eu-west: site ams-ix-1: sites[1].prefixes[0].cidr: must be a CIDR prefix with no host bits set, …
 */
import { isAbsolute, resolve } from "node:path";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { z } from "zod";
import {
  dnsLabel,
  type FieldError,
  fieldErrors,
  formatPath,
  type OCAClusterSpec,
  OCAClusterSpec as OCAClusterSpecSchema,
  type PopularitySpec,
  PopularitySpec as PopularitySpecSchema,
  parseObject,
  type Title,
} from "../../operator/src/api/index.js";

/** The keys a stack may set under `edgefleet:`; any other is a typo and fails the preview. */
export const configKeys = [
  "region",
  "kubeconfig",
  "context",
  "namespace",
  "fleetNamespace",
  "release",
  "chart",
  "chartValues",
  "catalog",
  "popularity",
  "sites",
  "urlSigningKey",
] as const;

/** Read as a secret (never parsed here, never in an error message). */
export const secretKeys: readonly string[] = ["urlSigningKey"];

const RegionConfig = z.strictObject({
  /** Defaults to the stack's name. */
  region: dnsLabel.optional(),
  /** Path of the kubeconfig of the region's cluster (`~` is the home directory). */
  kubeconfig: z.string({ error: "required: the path of the region's cluster's kubeconfig" }).min(1),
  /** A context in that kubeconfig; its current context when absent. */
  context: z.string().min(1).optional(),
  /** The chart's release namespace (operator, steering). */
  namespace: dnsLabel.default("edgefleet"),
  /** Where the region's OCAClusters, Popularity and Titles live; the release namespace when absent. */
  fleetNamespace: dnsLabel.optional(),
  release: dnsLabel.max(50).default("edgefleet"),
  /** The chart's directory, relative to the project (Pulumi.yaml). */
  chart: z.string().min(1).default("../charts/edgefleet"),
  /** Values for the chart, over its values.yaml; the chart's values.schema.json checks them. */
  chartValues: z.record(z.string(), z.unknown()).default({}),
  /** A YAML file of Title objects, relative to the project; the region's titles are created. */
  catalog: z.string().min(1).optional(),
  /** The region's Popularity spec, without its region. */
  popularity: z.record(z.string(), z.unknown()),
  /** OCACluster specs without their region, each with its object name. */
  sites: z.array(z.record(z.string(), z.unknown())).min(1),
});

export type Site = Readonly<{ name: string; spec: OCAClusterSpec }>;

/** What a region's stack creates, every part validated. */
export type RegionSpec = Readonly<{
  stack: string;
  region: string;
  /** Absolute. */
  kubeconfig: string;
  context: string | undefined;
  namespace: string;
  fleetNamespace: string;
  release: string;
  /** Absolute. */
  chartPath: string;
  /** The user's chart values (the chart's own defaults are in chartDefaults). */
  chartValues: Readonly<Record<string, unknown>>;
  /** The chart's values.yaml. */
  chartDefaults: Readonly<Record<string, unknown>>;
  sites: readonly Site[];
  popularity: PopularitySpec;
  /** The catalog's titles of this region, parsed. */
  titles: readonly Title[];
}>;

/** The file system as far as the loader reads it. */
export type Files = Readonly<{ exists(path: string): boolean; read(path: string): string; home: string }>;

/** A stack configuration that cannot be deployed: every problem, one line each, all naming the stack. */
export class StackConfigError extends Error {
  override name = "StackConfigError";
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join("\n"));
    this.problems = problems;
  }
}

export type LoadInput = Readonly<{
  stack: string;
  /** `edgefleet:` values with the namespace stripped; objects already decoded. Secrets left out. */
  values: Readonly<Record<string, unknown>>;
  /** The project directory (where Pulumi.yaml is): relative paths start there. */
  projectDir: string;
  files: Files;
}>;

const line = (stack: string, what: string, e: FieldError) => `stack ${stack}: ${what}${e.path}: ${e.message}`;

/** Validates a stack's configuration; throws StackConfigError listing every bad field. */
export function loadRegionConfig(input: LoadInput): RegionSpec {
  const { stack, files } = input;
  const values = Object.fromEntries(Object.entries(input.values).filter(([k]) => !secretKeys.includes(k)));
  const top = RegionConfig.safeParse(values);
  if (!top.success) throw new StackConfigError(fieldErrors(top.error).map((e) => line(stack, "", e)));
  const c = top.data;
  const region = c.region ?? stack;
  const regionOk = dnsLabel.safeParse(region).success;
  if (!regionOk) throw new StackConfigError([`stack ${stack}: region: ${region} is not a DNS label; set region`]);
  const path = (p: string) =>
    p === "~" || p.startsWith("~/") ? files.home + p.slice(1) : isAbsolute(p) ? p : resolve(input.projectDir, p);
  const problems: string[] = [];
  const kubeconfig = path(c.kubeconfig);
  if (!files.exists(kubeconfig)) problems.push(`stack ${stack}: kubeconfig: no such file ${kubeconfig}`);
  const chartPath = path(c.chart);
  const valuesFile = resolve(chartPath, "values.yaml");
  if (!files.exists(valuesFile)) problems.push(`stack ${stack}: chart: no chart at ${chartPath} (no values.yaml)`);
  const sites = c.sites.map((raw, i) => parseSite(stack, region, raw, i, problems));
  const names = sites.map((s) => s?.name).filter((n) => n !== undefined);
  for (const dup of new Set(names.filter((n, i) => names.indexOf(n) !== i)))
    problems.push(`stack ${stack}: site ${dup}: sites: two sites are named ${dup}`);
  const popularity = parsePopularity(stack, region, c.popularity, problems);
  const titles = c.catalog ? parseCatalog(stack, region, c.catalog, path(c.catalog), files, problems) : [];
  if (problems.length) throw new StackConfigError(problems);
  return {
    stack,
    region,
    kubeconfig,
    context: c.context,
    namespace: c.namespace,
    fleetNamespace: c.fleetNamespace ?? c.namespace,
    release: c.release,
    chartPath,
    chartValues: c.chartValues,
    chartDefaults: (parseYaml(files.read(valuesFile)) ?? {}) as Record<string, unknown>,
    sites: sites.filter((s) => s !== undefined),
    popularity: popularity ?? { region, catalogGeneration: "none", demand: {} },
    titles,
  };
}

/** One site: its name, and its spec with the stack's region, parsed as the API server would. */
function parseSite(stack: string, region: string, raw: Record<string, unknown>, i: number, problems: string[]) {
  const { name, ...spec } = raw;
  const label = typeof name === "string" ? name : `#${i}`;
  const at = (e: FieldError) => ({ ...e, path: formatPath(["sites", i]) + (e.path ? `.${e.path}` : "") });
  const bad = (errors: readonly FieldError[]) => {
    for (const e of errors) problems.push(line(stack, `site ${label}: `, at(e)));
    return undefined;
  };
  const n = dnsLabel.safeParse(name);
  if (!n.success)
    return bad([{ path: "name", message: name === undefined ? "required" : (n.error.issues[0]?.message ?? "") }]);
  if (spec.region !== undefined && spec.region !== region)
    return bad([{ path: "region", message: `must be the stack's region ${region} (or left out)` }]);
  const r = OCAClusterSpecSchema.safeParse({ ...spec, region });
  if (!r.success) return bad(fieldErrors(r.error));
  return { name: n.data, spec: r.data };
}

function parsePopularity(stack: string, region: string, raw: Record<string, unknown>, problems: string[]) {
  if (raw.region !== undefined && raw.region !== region) {
    problems.push(`stack ${stack}: popularity.region: must be the stack's region ${region} (or left out)`);
    return undefined;
  }
  const r = PopularitySpecSchema.safeParse({ ...raw, region });
  if (r.success) return r.data;
  for (const e of fieldErrors(r.error)) problems.push(line(stack, "", { ...e, path: `popularity.${e.path}` }));
  return undefined;
}

/** The catalog file's Titles of this region; every other title is left out, every invalid one reported. */
function parseCatalog(stack: string, region: string, name: string, file: string, files: Files, problems: string[]) {
  if (!files.exists(file)) {
    problems.push(`stack ${stack}: catalog: no such file ${file}`);
    return [];
  }
  const titles: Title[] = [];
  for (const doc of parseAllDocuments(files.read(file), { version: "1.1" })) {
    const obj = doc.toJS() as { kind?: unknown; metadata?: { name?: unknown } } | null;
    if (obj?.kind !== "Title") continue;
    const r = parseObject("Title", obj);
    const label = `catalog ${name}: title ${String(obj.metadata?.name)}: `;
    if (!r.ok) for (const e of r.errors) problems.push(line(stack, label, e));
    else if (r.value.spec.regions.includes(region)) titles.push(r.value);
  }
  return titles;
}
