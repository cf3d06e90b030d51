/** What integration tests share: the cluster's kubeconfig, kubectl against it, and polling. */
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { inject } from "vitest";

const run = promisify(execFile);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../..");

export const kubeconfig = (): string => inject("kubeconfig");
/** The local control plane these tests started, which a test may stop and start; "" for an external cluster. */
export const clusterName = (): string => inject("clusterName");

export type ExecResult = Readonly<{ code: number; stdout: string; stderr: string }>;
export type KubectlResult = ExecResult;

/** Runs a program, feeding `input` on stdin; never throws on a non-zero exit. */
export async function exec(
  bin: string,
  args: readonly string[],
  input?: string,
  env?: NodeJS.ProcessEnv,
): Promise<ExecResult> {
  const child = run(bin, [...args], { maxBuffer: 64 << 20, ...(env ? { env } : {}) });
  if (input !== undefined) child.child.stdin?.end(input);
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(err) };
  }
}

/** Runs the pinned kubectl against the test cluster; never throws on a non-zero exit. */
export const kubectl = (args: readonly string[], input?: string): Promise<KubectlResult> =>
  exec(inject("kubectl"), ["--kubeconfig", kubeconfig(), ...args], input);

/** The generated CRDs, as kubectl file arguments. */
export const crdFileArgs = (): string[] =>
  readdirSync(join(repoRoot, "crds"))
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => ["-f", join(repoRoot, "crds", f)]);

/** Installs (or updates) the CRDs server-side and waits until the API server serves them. */
export async function installCrds(): Promise<void> {
  await kubectlOk(["apply", "--server-side", ...crdFileArgs()]);
  await kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", ...crdFileArgs()]);
}

/** Like kubectl, but throws with kubectl's stderr on failure. */
export async function kubectlOk(args: readonly string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Polls until `check` returns a value other than undefined; the timeout only bounds a hung test. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
