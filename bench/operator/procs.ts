/**
 * Where the machine's CPU went during a phase: user + system seconds of each control-plane component
 * and of the operator's own process (/proc/<pid>/stat), against the machine's busy seconds
 * (/proc/stat), so a figure taken on a shared machine says how much of it was ours. And the memory of
 * the operator's process: VmHWM (the kernel's peak resident set) and VmRSS.
 */
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { componentMemory } from "../../hack/local-cluster.js";

const ticks = 100; // USER_HZ: /proc reports CPU time in 1/100 s on Linux

export type CpuSample = Readonly<{ byProcess: Record<string, number>; machineBusy: number; machineTotal: number }>;

async function processCpu(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // Fields after the command (which may hold spaces) start after the last ')': utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / ticks;
}

async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile("/proc/stat", "utf8")).split("\n")[0] ?? "";
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / ticks, total: (busy + idle + iowait) / ticks };
}

/** CPU seconds so far of the cluster's components and of `others` (name → pid), and of the machine. */
export async function cpuSample(cluster: string, others: Record<string, number>): Promise<CpuSample> {
  const byProcess: Record<string, number> = {};
  for (const c of await componentMemory(cluster))
    byProcess[c.component.replace(/-v[\d.]+$/, "")] = await processCpu(c.pid);
  for (const [name, pid] of Object.entries(others)) byProcess[name] = await processCpu(pid);
  const m = await machineCpu();
  return { byProcess, machineBusy: m.busy, machineTotal: m.total };
}

/** CPU seconds spent between two samples, per process and for the whole machine (all cores). */
export function cpuSpent(a: CpuSample, b: CpuSample): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.byProcess)) out[k] = round1(v - (a.byProcess[k] ?? 0));
  out.machine = round1(b.machineBusy - a.machineBusy);
  return out;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** The operator process's peak and current resident set, MB. */
export async function memoryOf(pid: number): Promise<{ peakRssMB: number; rssMB: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { peakRssMB: Math.round(kb("VmHWM") / 1024), rssMB: Math.round(kb("VmRSS") / 1024) };
}

/**
 * kube-controller-manager's client-side figures from its /metrics (its secure port allows /metrics
 * without credentials, as kwokctl starts it): requests sent, and seconds its requests waited in its
 * own rate limiter (--kube-api-qps): how much of the Job machinery's pace is that limit.
 */
export async function controllerManagerClient(cluster: string): Promise<{ requests: number; rateLimitedS: number }> {
  const kcm = (await componentMemory(cluster)).find((c) => c.component.startsWith("kube-controller-manager"));
  if (!kcm) return { requests: Number.NaN, rateLimitedS: Number.NaN };
  const cmdline = await readFile(`/proc/${kcm.pid}/cmdline`, "utf8");
  const port = /--secure-port=(\d+)/.exec(cmdline)?.[1];
  const text = await new Promise<string>((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/metrics", rejectUnauthorized: false }, (res) => {
      let s = "";
      res.setEncoding("utf8");
      res.on("data", (c) => {
        s += c;
      });
      res.on("end", () => resolve(res.statusCode === 200 ? s : ""));
    });
    req.on("error", () => resolve(""));
    req.end();
  });
  const sum = (metric: string) =>
    [...text.matchAll(new RegExp(`^${metric}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, "gm"))].reduce(
      (a, m) => a + Number(m[1]),
      0,
    );
  if (!text) return { requests: Number.NaN, rateLimitedS: Number.NaN };
  return {
    requests: sum("rest_client_requests_total"),
    rateLimitedS: round1(sum("rest_client_rate_limiter_duration_seconds_sum")),
  };
}
