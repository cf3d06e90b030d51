// Data-path benchmark: wrk on loopback against nginx with sendfile on and off (the configuration the
// operator renders), over HTTP and HTTPS, and against a plain Node.js file server, for three object sizes.
// Prints Gbit/s and CPU seconds per GB of the server's processes (/proc/<pid>/stat utime + stime).
//   npm run bench:datapath -- [--json] [--seconds 3] [--connections 8]
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { loadavg, release } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { kernelHasKtls, ktlsState, probeKtls } from "../nodes/src/ktls.js";
import {
  freePort,
  NGINX,
  selfSignedCert,
  signedPath,
  startNginx,
  stopProcess,
  tempDir,
} from "../nodes/test/harness.js";
import { clockTicks, cpuSeconds, runWrk } from "./datapath/measure.js";

type ServerKind = "nginx-sendfile" | "nginx-copy" | "node";
type Scheme = "http" | "https";
type Row = { server: ServerKind; scheme: Scheme; objectBytes: number; gbitPerSec: number; cpuSecPerGB: number };
type Target = { base: Record<Scheme, string>; pids: () => Promise<number[]>; stop: () => Promise<void> };

const SIZES = [64 * 1024, 2 * 1024 * 1024, 16 * 1024 * 1024];
const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    seconds: { type: "string", default: "3" },
    connections: { type: "string", default: "8" },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);

async function startNodeServer(dir: string, root: string): Promise<Target> {
  const { certPath, keyPath } = await selfSignedCert(dir);
  const script = join(import.meta.dirname, "datapath", "node-server.ts");
  const procs: ChildProcess[] = [];
  const base = {} as Record<Scheme, string>;
  for (const scheme of ["http", "https"] as const) {
    const port = await freePort();
    const args = ["--import", "tsx", script, root, String(port), ...(scheme === "https" ? [certPath, keyPath] : [])];
    const p = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((res, rej) => {
      p.stdout?.once("data", () => res());
      p.once("exit", (code) => rej(new Error(`node server exited ${code}`)));
    });
    procs.push(p);
    base[scheme] = `${scheme}://127.0.0.1:${port}`;
  }
  return {
    base,
    pids: async () => procs.flatMap((p) => (p.pid === undefined ? [] : [p.pid])),
    stop: async () => {
      for (const p of procs) await stopProcess(p);
    },
  };
}

async function startTarget(kind: ServerKind, dir: string, root: string): Promise<Target> {
  if (kind === "node") return startNodeServer(join(dir, "node"), root);
  const n = await startNginx(join(dir, kind), root, { sendfile: kind === "nginx-sendfile" });
  return { base: { http: n.http, https: n.https }, pids: n.pids, stop: n.stop };
}

async function main(): Promise<void> {
  const dir = await tempDir("edge-bench-");
  const log = (s: string) => process.stderr.write(`${s}\n`);
  try {
    const root = join(dir, "content");
    await mkdir(root, { recursive: true });
    for (const size of SIZES) await writeFile(join(root, `obj-${size}.mp4`), randomBytes(size));
    for (const kind of ["nginx-sendfile", "nginx-copy", "node"] as const)
      await mkdir(join(dir, kind), { recursive: true });
    const ticks = await clockTicks();
    const probe = await probeKtls();
    const rows: Row[] = [];
    for (const kind of ["nginx-sendfile", "nginx-copy", "node"] as const) {
      const t = await startTarget(kind, dir, root);
      try {
        for (const scheme of ["http", "https"] as const) {
          for (const size of SIZES) {
            const uri = `/obj-${size}.mp4`;
            const url = `${t.base[scheme]}${signedPath(uri, new Date(Date.now() + 3600_000))}`;
            // A short warm-up fills the page cache and TLS session cache before the measured run.
            await runWrk(url, { dir, seconds: 1, connections, threads: 1 });
            const pids = await t.pids();
            const cpu0 = await cpuSeconds(pids, ticks);
            const w = await runWrk(url, { dir, seconds, connections, threads: 1 });
            const cpu = (await cpuSeconds(pids, ticks)) - cpu0;
            if (w.errors > 0 || w.requests === 0)
              throw new Error(`${kind} ${scheme} ${size}: ${w.errors} errors, ${w.requests} requests`);
            const row: Row = {
              server: kind,
              scheme,
              objectBytes: size,
              gbitPerSec: round((w.bytes * 8) / w.seconds / 1e9, 3),
              cpuSecPerGB: round(cpu / (w.bytes / 1e9), 3),
            };
            rows.push(row);
            log(
              `${kind.padEnd(15)} ${scheme.padEnd(6)} ${fmtSize(size).padStart(7)}  ${String(row.gbitPerSec).padStart(7)} Gbit/s  ${String(row.cpuSecPerGB).padStart(6)} CPU s/GB`,
            );
          }
        }
      } finally {
        await t.stop();
      }
    }
    const nginxVersion = await nginxV();
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ results: rows })}\n`);
    } else {
      const env = [
        `kernel ${release()}`,
        `kTLS ${ktlsState("auto", probe)}${kernelHasKtls(probe) ? "" : " (no tls ULP: HTTPS is userspace TLS)"}`,
        nginxVersion,
        `node ${process.version}`,
        `load average at end ${loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")}`,
      ].join(", ");
      process.stdout.write(
        `${renderTable(rows)}\n${env}\nwrk -t1 -c${connections} -d${seconds}s on loopback, one nginx worker / one Node process per scheme\n`,
      );
      process.stdout.write(`reproduce: npm run bench:datapath -- --seconds ${seconds} --connections ${connections}\n`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function renderTable(rows: readonly Row[]): string {
  const head = "| server | scheme | object | Gbit/s | CPU s/GB |\n|---|---|---|---:|---:|";
  return [
    head,
    ...rows.map(
      (r) =>
        `| ${r.server} | ${r.scheme} | ${fmtSize(r.objectBytes)} | ${r.gbitPerSec.toFixed(2)} | ${r.cpuSecPerGB.toFixed(3)} |`,
    ),
  ].join("\n");
}

async function nginxV(): Promise<string> {
  const p = spawn(NGINX, ["-v"], { stdio: ["ignore", "ignore", "pipe"] });
  let s = "";
  p.stderr?.on("data", (b: Buffer) => {
    s += b.toString();
  });
  await new Promise((r) => p.on("exit", r));
  return s.trim().replace("nginx version: ", "");
}

const fmtSize = (n: number) => (n >= 1 << 20 ? `${n / (1 << 20)} MiB` : `${n / 1024} KiB`);
const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

await main();
