/**
 * One region's stack in a scratch project directory, driven by the Automation API with the real program
 * (src/program.ts) inline: the committed Pulumi.<stack>.yaml copied there (the Automation API writes the
 * project file of an inline program), pointed at a given cluster, the signing key set as a secret. Edits
 * to the stack file are edits a user would make.
 */
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { parseDocument } from "yaml";
import { project, regionProgram } from "../src/program.js";
import type { PulumiInstall } from "./workspace.js";

export const projectDir = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A change an engine run made or would make to one resource. */
export type Step = Readonly<{ op: string; urn: string; type: string; diffs: readonly string[] }>;

export type StackHandle = Readonly<{
  name: string;
  stack: pulumi.automation.Stack;
  /** The stack file in the scratch project (Pulumi.<stack>.yaml). */
  stackFile: string;
  /** The kubeconfig the stack's config names: a copy, so a test can make the cluster unreachable. */
  kubeconfig: string;
}>;

export type StackOverrides = Readonly<{ namespace?: string; release?: string }>;

/** Creates (or selects) the stack in `<install.dir>/projects/<stack>` and points it at `kubeconfig`. */
export async function openStack(
  install: PulumiInstall,
  name: string,
  kubeconfig: string,
  signingKey: string,
  overrides: StackOverrides = {},
): Promise<StackHandle> {
  const workDir = join(install.dir, "projects", name);
  await mkdir(workDir, { recursive: true });
  const stackFile = join(workDir, `Pulumi.${name}.yaml`);
  await copyFile(join(projectDir, `Pulumi.${name}.yaml`), stackFile);
  const copy = join(workDir, "kubeconfig.yaml");
  await copyFile(kubeconfig, copy);
  const stack = await pulumi.automation.LocalWorkspace.createOrSelectStack(
    { stackName: name, projectName: project, program: regionProgram(projectDir) },
    { workDir, pulumiCommand: install.command, envVars: { ...install.env } },
  );
  // The local cluster's kubeconfig has one context, its current one.
  await stack.removeConfig(`${project}:context`);
  await stack.setAllConfig({
    [`${project}:kubeconfig`]: { value: copy },
    [`${project}:urlSigningKey`]: { value: signingKey, secret: true },
    ...Object.fromEntries(Object.entries(overrides).map(([k, v]) => [`${project}:${k}`, { value: v }])),
  });
  return { name, stack, stackFile, kubeconfig: copy };
}

type StackConfig = Record<string, unknown>;

/** Edits the stack file's `edgefleet:` values as a user would in an editor (secrets and salt untouched). */
export async function editStackFile(h: StackHandle, edit: (config: StackConfig) => void): Promise<void> {
  const doc = parseDocument(await readFile(h.stackFile, "utf8"));
  const config = doc.get("config") as { toJSON(): StackConfig } | undefined;
  const values: StackConfig = {};
  for (const [k, v] of Object.entries(config?.toJSON() ?? {}))
    if (k.startsWith(`${project}:`)) values[k.slice(project.length + 1)] = v;
  const before = structuredClone(values);
  edit(values);
  for (const k of new Set([...Object.keys(before), ...Object.keys(values)])) {
    const key = `${project}:${k}`;
    if (!(k in values)) doc.deleteIn(["config", key]);
    else if (JSON.stringify(values[k]) !== JSON.stringify(before[k])) doc.setIn(["config", key], values[k]);
  }
  await writeFile(h.stackFile, doc.toString({ lineWidth: 0 }));
}

const components = new Set(["pulumi:pulumi:Stack", "edgefleet:index:EdgefleetRegion", "kubernetes:helm.sh/v4:Chart"]);

/** Runs an engine operation, collecting the steps it reports (resources not left the same). */
export async function withSteps<T>(
  f: (onEvent: (e: pulumi.automation.EngineEvent) => void) => Promise<T>,
): Promise<{ result: T; steps: Step[]; ms: number; slowest: { urn: string; ms: number } }> {
  const steps: Step[] = [];
  const started = new Map<string, number>();
  let slowest = { urn: "", ms: 0 };
  const onEvent = (e: pulumi.automation.EngineEvent) => {
    const pre = e.resourcePreEvent?.metadata;
    if (pre) started.set(pre.urn, performance.now());
    const done = e.resOutputsEvent?.metadata;
    const ms = done ? performance.now() - (started.get(done.urn) ?? performance.now()) : 0;
    // Components (the Stack, EdgefleetRegion, the Chart) span their children: only the resources count.
    if (done && !components.has(done.type) && ms > slowest.ms) slowest = { urn: done.urn, ms: Math.round(ms) };
    if (!pre || pre.op === "same" || pre.type === "pulumi:pulumi:Stack") return;
    steps.push({ op: pre.op, urn: pre.urn, type: pre.type, diffs: pre.diffs ?? [] });
  };
  const t0 = performance.now();
  const result = await f(onEvent);
  return { result, steps, ms: Math.round(performance.now() - t0), slowest };
}

/** The resources in the stack's state (the Stack itself included). */
export async function stateOf(h: StackHandle): Promise<{ resources: number; json: string }> {
  const d = await h.stack.exportStack();
  const resources = (d.deployment as { resources?: unknown[] }).resources ?? [];
  return { resources: resources.length, json: JSON.stringify(d) };
}

/**
 * What a failed engine run printed, and the distinct lines of its diagnostics that are ours ("stack <name>:
 * …"; the inline runner prints a program's error twice).
 */
export function failureOf(err: unknown, stack: string): { text: string; ours: string[] } {
  const e = err as { message?: string; stdout?: string; stderr?: string };
  const text = [e.message, e.stdout, e.stderr].filter(Boolean).join("\n");
  const diagnostics = /Diagnostics:\n([\s\S]*?)(?:\n\S|$)/.exec(text)?.[1] ?? "";
  const marker = `stack ${stack}: `;
  const lines = diagnostics.split("\n").filter((l) => l.includes(marker));
  return { text, ours: [...new Set(lines.map((l) => l.slice(l.indexOf(marker)).trim()))] };
}
