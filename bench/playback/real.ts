/**
 * Real playback for bench:playback: for each trace, `clients` reference clients at once (the rules
 * taking turns: bba, bola, throughput, bba, …), each in its own network namespace with its own link
 * shaped to the trace (netns.ts), against two real edge nginx processes and the steering service
 * (player/test/local-fleet.ts). The same traces and title then run through the simulator at the
 * links' RTT, and the two are compared per (trace, rule): how far apart startup, rebuffer ratio, mean
 * VMAF and mean bitrate are.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { tempDir } from "../../nodes/test/harness.js";
import { ABR_RULES } from "../../player/src/abr/index.js";
import { syntheticContent } from "../../player/src/content.js";
import type { PlayResult } from "../../player/src/play.js";
import { type QoeRow, quantile, summarize } from "../../player/src/qoe.js";
import type { SessionReport } from "../../player/src/session.js";
import { simulate } from "../../player/src/sim.js";
import type { Trace } from "../../player/src/traces.js";
import { type LocalFleet, startLocalFleet } from "../../player/test/local-fleet.js";
import { Netns, SERVER_ADDRESSES, segmentCommands, tcBatch } from "./netns.js";

export type RealOptions = Readonly<{
  traces: readonly Trace[];
  seconds: number;
  clients: number;
  maxBufferS: number;
  log: (s: string) => void;
}>;

type Pair = Readonly<{ trace: string; rule: string; real: SessionReport[]; sim: SessionReport }>;

const TITLE = "bench-title";

function startClient(
  ns: string,
  args: readonly string[],
): { proc: ChildProcess; ready: Promise<void>; result: Promise<PlayResult | { error: string }> } {
  const script = join(import.meta.dirname, "client.ts");
  const proc = spawn("ip", ["netns", "exec", ns, process.execPath, "--import", "tsx", script, ...args], {
    stdio: ["pipe", "pipe", "inherit"],
    cwd: join(import.meta.dirname, "../.."),
  });
  const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  const result = new Promise<PlayResult | { error: string }>((resolve) => {
    lines.on("line", (l) => {
      if (l === "ready") onReady();
      else if (l.startsWith("{")) resolve(JSON.parse(l));
    });
    proc.on("exit", (code) => resolve({ error: `client exited ${code} without a result` }));
  });
  return { proc, ready, result };
}

/** Walks the trace on every link until `done` resolves (the trace repeats, as the simulator's does). */
async function drive(net: Netns, trace: Trace, done: Promise<unknown>): Promise<void> {
  let finished = false;
  void done.then(() => {
    finished = true;
  });
  let prev: Trace["segments"][number] | undefined;
  for (let i = 0; !finished; i = (i + 1) % trace.segments.length) {
    const seg = trace.segments[i];
    if (seg === undefined) break;
    await tcBatch(net.links.flatMap((l) => segmentCommands(l, prev, seg)));
    prev = seg;
    await Promise.race([new Promise((r) => setTimeout(r, seg.seconds * 1000)), done]);
  }
}

export async function realRun(o: RealOptions) {
  const rules = ABR_RULES;
  const clients = Math.max(o.clients, rules.length);
  const dir = await tempDir("playback-real-");
  const net = new Netns(String(process.pid % 10_000));
  const pairs: Pair[] = [];
  let fleet: LocalFleet | undefined;
  try {
    await net.setup(clients);
    const f = await startLocalFleet({
      dir,
      titleId: TITLE,
      durationSeconds: o.seconds,
      edges: 2,
      edgeAddress: (i) => SERVER_ADDRESSES[i] ?? "127.0.0.1",
      steeringHost: SERVER_ADDRESSES[0],
    });
    fleet = f;
    const caPath = join(dir, "edges-ca.pem");
    await writeFile(caPath, f.ca.map((c) => c.toString()).join("\n"));
    const content = syntheticContent(TITLE, o.seconds);
    for (const trace of o.traces) {
      await net.reset();
      const started = net.links.map((l, k) => {
        const rule = rules[k % rules.length]?.name ?? "bba";
        return { rule, ...startClient(l.ns, [f.steeringUrl, TITLE, rule, String(o.maxBufferS), caPath]) };
      });
      await Promise.all(started.map((c) => c.ready));
      const all = Promise.all(started.map((c) => c.result));
      const driving = drive(net, trace, all);
      for (const c of started) c.proc.stdin?.end("go\n");
      const results = await all;
      await driving;
      for (const rule of rules) {
        const real = results.flatMap((r, k) => (started[k]?.rule === rule.name && !("error" in r) ? [r] : []));
        for (const [k, r] of results.entries())
          if ("error" in r) o.log(`${trace.name} client ${k} (${started[k]?.rule}): ${r.error}`);
        const sim = await simulate(content, rule, { ...trace, rttMs: 1 }, { maxBufferS: o.maxBufferS, setupRtts: 2 });
        pairs.push({ trace: trace.name, rule: rule.name, real, sim });
      }
      o.log(`${trace.name}: ${results.filter((r) => !("error" in r)).length}/${results.length} clients played`);
    }
  } finally {
    await fleet?.stop();
    await net.teardown();
  }
  const rows: QoeRow[] = rules.map((r) =>
    summarize(
      r.name,
      pairs.filter((p) => p.rule === r.name).flatMap((p) => p.real),
    ),
  );
  const simRows: QoeRow[] = rules.map((r) =>
    summarize(
      r.name,
      pairs.filter((p) => p.rule === r.name).map((p) => p.sim),
    ),
  );
  return {
    traces: o.traces.length,
    seconds: o.seconds,
    clients,
    rows,
    simulatorSameTraces: simRows,
    agreement: agreement(pairs),
    pairs: pairs.map(brief),
  };
}

const meanOf = (xs: readonly number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const ratio = (r: SessionReport) => (r.playedS > 0 ? r.rebufferS / r.playedS : 0);

function brief(p: Pair) {
  return {
    trace: p.trace,
    rule: p.rule,
    sessions: p.real.length,
    realStartupS: meanOf(p.real.map((r) => r.startupS ?? Number.NaN)),
    simStartupS: p.sim.startupS,
    realRebufferRatio: meanOf(p.real.map(ratio)),
    simRebufferRatio: ratio(p.sim),
    realVmaf: meanOf(p.real.flatMap((r) => r.vmafs)),
    simVmaf: meanOf(p.sim.vmafs),
    realKbps: meanOf(p.real.flatMap((r) => r.bitrates)) / 1000,
    simKbps: meanOf(p.sim.bitrates) / 1000,
    realFailovers: meanOf(p.real.map((r) => r.failovers)),
    simFailovers: p.sim.failovers,
  };
}

/** Per (trace, rule): |real − sim| of each figure; the median and the worst over all pairs. */
function agreement(pairs: readonly Pair[]) {
  const b = pairs.map(brief).filter((p) => p.sessions > 0);
  const figure = (f: (p: ReturnType<typeof brief>) => number) => {
    const d = b.map(f).filter(Number.isFinite);
    return { median: quantile(d, 0.5), p90: quantile(d, 0.9), max: quantile(d, 1) };
  };
  return {
    pairs: b.length,
    vmafPoints: figure((p) => Math.abs(p.realVmaf - p.simVmaf)),
    bitrateRelative: figure((p) => Math.abs(p.realKbps - p.simKbps) / p.simKbps),
    rebufferRatio: figure((p) => Math.abs(p.realRebufferRatio - p.simRebufferRatio)),
    startupS: figure((p) => Math.abs(p.realStartupS - (p.simStartupS ?? Number.NaN))),
  };
}
