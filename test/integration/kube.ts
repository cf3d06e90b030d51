/** What integration tests share: the cluster's kubeconfig, kubectl against it, and polling. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { inject } from "vitest";

const run = promisify(execFile);

export const kubeconfig = (): string => inject("kubeconfig");

export type KubectlResult = Readonly<{ code: number; stdout: string; stderr: string }>;

/** Runs the pinned kubectl against the test cluster; never throws on a non-zero exit. */
export async function kubectl(args: readonly string[], input?: string): Promise<KubectlResult> {
  const child = run(inject("kubectl"), ["--kubeconfig", kubeconfig(), ...args], { maxBuffer: 64 << 20 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(err) };
  }
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
