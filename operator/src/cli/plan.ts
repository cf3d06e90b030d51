/**
 * `edgefleet plan`: computes an HCA placement offline, without a cluster, and reports it.
 *
 *   edgefleet plan -f cluster.yaml --catalog <file.json|file.csv|synthetic:files=N,alpha=A,seed=S,days=D>
 *                  [--cluster NAME] [--previous placement.yaml] [--svg out.svg] [--out placement.yaml]
 *
 * The OCACluster is parsed with the API schema (operator/src/api); errors name the file and the field.
 */
import { parseAllDocuments, stringify } from "yaml";
import { z } from "zod";
import {
  formatFieldErrors,
  mustParse,
  type OCACluster,
  parseBitsPerSecond,
  parseBytes,
  ValidationError,
} from "../api/index.js";
import {
  type Assignment,
  assign,
  balance,
  type CatalogFile,
  canonicalServers,
  catalogFingerprint,
  churn,
  type Plan,
  type PlanResult,
  planHca,
  ringAssign,
  type Server,
  UNIFORM_TOKENS,
} from "../placement/index.js";
import { DEFAULT_DRIFT, driftCatalog, generateCatalog } from "../placement/testing/synthetic-catalog.js";

/** A user error: the message names the file and the field; the CLI prints it without a stack. */
export class CliError extends Error {
  override name = "CliError";
}

export type PlanArgs = Readonly<{
  clusterFile: string;
  catalog: string;
  clusterName?: string;
  previous?: string;
  svg?: string;
  out?: string;
}>;

/** The file system the command touches, injected so that tests run without one. */
export type Files = Readonly<{
  read(path: string): Promise<string>;
  write(path: string, text: string): Promise<void>;
}>;

type Doc = { kind?: unknown; metadata?: { name?: unknown } };

function yamlDocs(text: string, file: string): unknown[] {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) {
    if (d.errors.length > 0) throw new CliError(`${file}: invalid YAML: ${d.errors[0]?.message ?? ""}`);
  }
  return list.map((d) => d.toJS() as unknown).filter((d) => d !== null && d !== undefined);
}

function pick(docs: readonly unknown[], kind: string, file: string, name?: string): unknown {
  const found = docs.filter((d) => (d as Doc).kind === kind && (!name || (d as Doc).metadata?.name === name));
  if (found.length === 0) throw new CliError(`${file}: no ${kind}${name ? ` named "${name}"` : ""} in the file`);
  if (found.length > 1) {
    throw new CliError(`${file}: ${found.length} ${kind} objects; choose one with --cluster <name>`);
  }
  return found[0];
}

function parseKind<K extends "OCACluster" | "Placement">(kind: K, obj: unknown, file: string) {
  try {
    return mustParse(kind, obj);
  } catch (err) {
    if (err instanceof ValidationError) {
      throw new CliError(`${file}: ${formatFieldErrors(err.errors)}`, { cause: err });
    }
    throw err;
  }
}

/** The servers of an OCACluster with their class's capacities. */
export function clusterServers(cluster: OCACluster, file: string): Server[] {
  const classes = new Map(cluster.spec.serverClasses.map((c, i) => [c.name, { c, i }]));
  return cluster.spec.servers.map((s, i) => {
    const k = classes.get(s.class);
    if (!k) throw new CliError(`${file}: spec.servers[${i}].class: no server class named "${s.class}"`);
    try {
      return {
        name: s.name,
        storageBytes: parseBytes(k.c.storage),
        throughputBitsPerSec: parseBitsPerSecond(k.c.throughput),
      };
    } catch (err) {
      throw new CliError(`${file}: spec.serverClasses[${k.i}]: ${(err as Error).message}`, { cause: err });
    }
  });
}

const SyntheticSpec = z.strictObject({
  files: z.coerce.number().int().min(1),
  alpha: z.coerce.number().min(0).max(5),
  seed: z.coerce.number().int().default(1),
  days: z.coerce.number().int().min(0).max(365).default(0),
});

const CatalogRows = z.array(
  z.strictObject({ key: z.string().min(1), bytes: z.number().int().positive(), demand: z.number().min(0) }),
);

/** Paths relative to the flag's value, JSONPath-like: `.files`, `[3].bytes`. */
const fieldMessage = (err: z.ZodError): string =>
  formatFieldErrors(
    err.issues.map((i) => ({
      path: i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join(""),
      message: i.message,
    })),
  );

function parseCsv(text: string, file: string): unknown[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const head = lines[0]?.split(",").map((h) => h.trim());
  if (head?.join(",") !== "key,bytes,demand")
    throw new CliError(`${file}: line 1: the header must be key,bytes,demand`);
  return lines.slice(1).map((l, i) => {
    const cells = l.split(",");
    if (cells.length !== 3) throw new CliError(`${file}: line ${i + 2}: expected 3 columns (key,bytes,demand)`);
    return { key: cells[0]?.trim(), bytes: Number(cells[1]), demand: Number(cells[2]) };
  });
}

/** A catalog from `synthetic:k=v,...` or a JSON array / CSV file of {key, bytes, demand}, ranked by demand. */
export async function loadCatalog(spec: string, files: Files): Promise<CatalogFile[]> {
  if (spec.startsWith("synthetic:")) {
    const kv = Object.fromEntries(
      spec
        .slice("synthetic:".length)
        .split(",")
        .filter((p) => p !== "")
        .map((p) => p.split("=", 2) as [string, string]),
    );
    const r = SyntheticSpec.safeParse(kv);
    if (!r.success) throw new CliError(`--catalog ${spec}: ${fieldMessage(r.error)}`, { cause: r.error });
    let c = generateCatalog({ files: r.data.files, alpha: r.data.alpha, seed: r.data.seed });
    for (let d = 1; d <= r.data.days; d++) c = driftCatalog(c, d, { ...DEFAULT_DRIFT, seed: r.data.seed + 1 });
    return [...c.files];
  }
  let text: string;
  try {
    text = await files.read(spec);
  } catch (err) {
    throw new CliError(`--catalog ${spec}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  let rows: unknown;
  if (spec.endsWith(".csv")) rows = parseCsv(text, spec);
  else {
    try {
      rows = JSON.parse(text);
    } catch (err) {
      throw new CliError(`${spec}: invalid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  const r = CatalogRows.safeParse(rows);
  if (!r.success) throw new CliError(`${spec}: ${fieldMessage(r.error)}`, { cause: r.error });
  // Rank by popularity; the key breaks ties so the order, and so the placement, is deterministic.
  return r.data.sort((a, b) => b.demand - a.demand || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export type PlanOutput = Readonly<{
  result: PlanResult;
  assignment: Assignment;
  uniform: Assignment;
  servers: Server[];
  classOf: ReadonlyMap<string, string>;
  previous?: Readonly<{ plan: Plan; assignment: Assignment }>;
}>;

/** Reads the inputs, plans and assigns. Throws CliError (or the engine's input errors) on bad input. */
export async function computePlan(args: PlanArgs, files: Files): Promise<PlanOutput> {
  let text: string;
  try {
    text = await files.read(args.clusterFile);
  } catch (err) {
    throw new CliError(`-f ${args.clusterFile}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  const cluster = parseKind(
    "OCACluster",
    pick(yamlDocs(text, args.clusterFile), "OCACluster", args.clusterFile, args.clusterName),
    args.clusterFile,
  );
  const servers = clusterServers(cluster, args.clusterFile);
  if (servers.length === 0) throw new CliError(`${args.clusterFile}: spec.servers: the cluster has no servers`);
  const catalog = await loadCatalog(args.catalog, files);

  let previous: Plan | undefined;
  if (args.previous) {
    let prevText: string;
    try {
      prevText = await files.read(args.previous);
    } catch (err) {
      throw new CliError(`--previous ${args.previous}: cannot read: ${(err as Error).message}`, { cause: err });
    }
    const p = parseKind(
      "Placement",
      pick(yamlDocs(prevText, args.previous), "Placement", args.previous),
      args.previous,
    );
    previous = p.spec;
  }
  const result = planHca({
    cluster: cluster.metadata.name,
    catalogGeneration: catalogFingerprint(catalog),
    servers,
    catalog,
    cutoff: cluster.spec.hca.cutoff,
    hysteresis: cluster.spec.hca.hysteresis,
    previous,
  });
  // The previous plan is replayed on today's catalog: its own snapshot is not at hand offline, so the
  // churn shown is what the plan change costs, apart from the catalog's own drift.
  const prevServers = previous ? servers.filter((s) => previous.servers.some((p) => p.name === s.name)) : [];
  const prevPlan =
    previous && prevServers.length > 0
      ? { ...previous, servers: previous.servers.filter((p) => prevServers.some((s) => s.name === p.name)) }
      : undefined;
  return {
    result,
    assignment: assign(result.plan, catalog, servers),
    uniform: ringAssign(catalog, servers, () => UNIFORM_TOKENS),
    servers: canonicalServers(servers),
    classOf: new Map(cluster.spec.servers.map((s) => [s.name, s.class])),
    previous: prevPlan ? { plan: prevPlan, assignment: assign(prevPlan, catalog, prevServers) } : undefined,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const tb = (x: number) => `${(x / 1e12).toFixed(2)} TB`;

function pad(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join("  "))
    .join("\n");
}

/** The human report: plan summary, per-server table, and churn against the previous plan. */
export function report(o: PlanOutput): string {
  const { plan, expectations: e } = o.result;
  const a = o.assignment;
  const b = balance(a, o.servers);
  const u = balance(o.uniform, o.servers);
  const throughput = o.servers.reduce((x, s) => x + s.throughputBitsPerSec, 0);
  const traffic = a.traffic.reduce((x, y) => x + y, 0);
  const lines = [
    `cluster ${plan.cluster}, catalog generation ${plan.catalogGeneration}`,
    `stored ${e.storedFiles} of ${a.catalog.length} files, ${tb(e.storedBytes)}; cutoff D* = ${plan.cutoff}` +
      (e.feasible
        ? ` (feasible cutoffs examined: ${e.feasibleCutoffs[0]}–${e.feasibleCutoffs[1]})`
        : ` (no cutoff balances traffic: this one has the least bound, ${e.trafficBound.toFixed(3)} × each server's throughput share)`),
    `HCA: peak/mean ${b.peakToMean.toFixed(3)}, max storage use ${pct(b.maxStorageUse)}, overflow ${tb(b.overflowBytes)}, holes ${tb(b.holeBytes)}`,
    `uniform ring (${UNIFORM_TOKENS} tokens/server): peak/mean ${u.peakToMean.toFixed(3)}, max storage use ${pct(u.maxStorageUse)}, overflow ${tb(u.overflowBytes)}`,
    "",
  ];
  const header = [
    "server",
    "class",
    "head tokens",
    "tail tokens",
    "bytes",
    "use",
    "expected use",
    "traffic share",
    "traffic ÷ throughput share",
  ];
  const rows = o.servers.map((s, j) => {
    const t = plan.servers.find((p) => p.name === s.name);
    const share = traffic > 0 ? (a.traffic[j] ?? 0) / traffic : 0;
    return [
      s.name,
      o.classOf.get(s.name) ?? "",
      String(t?.headTokens ?? 0),
      String(t?.tailTokens ?? 0),
      tb(a.bytes[j] ?? 0),
      pct((a.bytes[j] ?? 0) / s.storageBytes),
      pct(e.servers[j]?.expectedUse ?? 0),
      pct(share),
      (share / (s.throughputBitsPerSec / throughput)).toFixed(3),
    ];
  });
  lines.push(pad([header, ...rows]));
  if (o.previous) {
    const c = churn(o.previous.assignment, a);
    lines.push(
      "",
      `churn against the previous plan (cutoff ${o.previous.plan.cutoff}, replayed on this catalog): ${tb(c.totalBytes)} in ${c.files} files` +
        ` (cutoff moves ${tb(c.byCause.cutoff)}, server changes ${tb(c.byCause.servers)}, weights and spills ${tb(c.byCause.drift)});` +
        ` largest server fill ${tb(Math.max(0, ...c.perServer))}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The Placement object for the plan, validated against the API schema. */
export function placementYaml(plan: Plan): string {
  const obj = {
    apiVersion: "cdn.edgefleet.dev/v1alpha1",
    kind: "Placement",
    metadata: { name: `${plan.cluster}-${plan.catalogGeneration}`.slice(0, 253).toLowerCase() },
    spec: {
      cluster: plan.cluster,
      catalogGeneration: plan.catalogGeneration,
      cutoff: plan.cutoff,
      servers: plan.servers,
    },
  };
  parseKind("Placement", obj, "generated Placement");
  return stringify(obj);
}

/**
 * An SVG chart: per server, storage use and traffic ÷ throughput share, the uniform ring beside HCA.
 * The dashed line is 1.0: perfect traffic balance, or a full disk.
 */
export function renderSvg(o: PlanOutput): string {
  const panels: [string, Assignment][] = [
    [`uniform ring (${UNIFORM_TOKENS} tokens/server)`, o.uniform],
    ["HCA", o.assignment],
  ];
  const m = o.servers.length;
  const throughput = o.servers.reduce((x, s) => x + s.throughputBitsPerSec, 0);
  const series = panels.map(([title, a]) => {
    const traffic = a.traffic.reduce((x, y) => x + y, 0);
    return {
      title,
      use: o.servers.map((s, j) => (a.bytes[j] ?? 0) / s.storageBytes),
      ratio: o.servers.map(
        (s, j) => (traffic > 0 ? (a.traffic[j] ?? 0) / traffic : 0) / (s.throughputBitsPerSec / throughput),
      ),
    };
  });
  const top = Math.max(1.2, ...series.flatMap((s) => [...s.use, ...s.ratio]));
  const bar = Math.max(2, Math.min(12, Math.floor(600 / m / 2)));
  const plotW = m * (2 * bar + 2);
  const plotH = 240;
  const panelW = plotW + 80;
  const y = (v: number) => 40 + plotH - (v / top) * plotH;
  const parts: string[] = [];
  series.forEach((s, p) => {
    const x0 = 50 + p * panelW;
    parts.push(`<text x="${x0}" y="24" font-size="14">${s.title}</text>`);
    parts.push(`<line x1="${x0}" y1="${y(0)}" x2="${x0 + plotW}" y2="${y(0)}" stroke="#333"/>`);
    parts.push(`<line x1="${x0}" y1="${y(1)}" x2="${x0 + plotW}" y2="${y(1)}" stroke="#888" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${x0 - 6}" y="${y(1) + 4}" font-size="10" text-anchor="end">1.0</text>`);
    parts.push(`<text x="${x0 - 6}" y="${y(top) + 4}" font-size="10" text-anchor="end">${top.toFixed(2)}</text>`);
    o.servers.forEach((srv, j) => {
      const x = x0 + j * (2 * bar + 2);
      const use = s.use[j] ?? 0;
      const ratio = s.ratio[j] ?? 0;
      parts.push(
        `<rect x="${x}" y="${y(use)}" width="${bar}" height="${y(0) - y(use)}" fill="#4c78a8"><title>${srv.name} storage use ${pct(use)}</title></rect>`,
      );
      parts.push(
        `<rect x="${x + bar}" y="${y(ratio)}" width="${bar}" height="${y(0) - y(ratio)}" fill="#f58518"><title>${srv.name} traffic ÷ throughput share ${ratio.toFixed(3)}</title></rect>`,
      );
    });
  });
  const w = 50 + 2 * panelW;
  const h = 40 + plotH + 40;
  parts.push(`<rect x="50" y="${h - 22}" width="10" height="10" fill="#4c78a8"/>`);
  parts.push(`<text x="64" y="${h - 13}" font-size="11">storage use</text>`);
  parts.push(`<rect x="150" y="${h - 22}" width="10" height="10" fill="#f58518"/>`);
  parts.push(`<text x="164" y="${h - 13}" font-size="11">traffic ÷ throughput share (servers in name order)</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">\n${parts.join("\n")}\n</svg>\n`;
}

/** Runs the command: returns the report, and writes the SVG and the Placement when asked. */
export async function runPlan(args: PlanArgs, files: Files): Promise<string> {
  const o = await computePlan(args, files);
  if (args.svg) await files.write(args.svg, renderSvg(o));
  if (args.out) await files.write(args.out, placementYaml(o.result.plan));
  return report(o);
}
