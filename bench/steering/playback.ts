/**
 * The playback API under load: the service runs in a child process (playback-server.ts, one worker per
 * core), and every request is `GET /v1/playback/title-N` with X-Forwarded-For set to a random client
 * inside an announced prefix, through the trusted-proxy path. Two load models, both on the same cores:
 * wrk closed loop at saturation (one thread, C, so it takes little of the two cores), and the open-loop
 * generator of open-loop-client.ts at fixed offered rates, latencies from each request's intended time.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** One fixed offered rate, as open-loop-client.ts prints it. */
export type OpenLoopStep = Readonly<{
  offered: number;
  achieved: number;
  answered: number;
  sent: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  serviceP50Ms: number;
  serviceP99Ms: number;
  non2xx: number;
  errors: number;
  unanswered: number;
}>;

export type PlaybackFigures = Readonly<{
  workers: number;
  /** Open loop, one step per offered rate, lowest first; stops past saturation. */
  openLoop: readonly OpenLoopStep[];
  /** The highest offered rate sustained: ≥ 99 % answered in time, all 2xx, p99 ≤ 10 ms. */
  maxSustainedReqPerSec: number;
  playbackReqPerSec: number;
  playbackP50Ms: number;
  playbackP99Ms: number;
  connections: number;
  durationSec: number;
  non2xx: number;
  clusters: number;
  titles: number;
}>;

const run = promisify(execFile);

// Titles past the first 450 are unfilled (see playback-server.ts); the load asks for filled ones.
const SCRIPT = `
local clients = {}
for line in io.lines(os.getenv("STEERING_CLIENTS")) do clients[#clients + 1] = line end
local titles = tonumber(os.getenv("STEERING_TITLES"))
math.randomseed(2026)
request = function()
  local c = clients[math.random(#clients)]
  local t = math.random(0, titles - 1)
  return wrk.format("GET", "/v1/playback/title-" .. t, { ["X-Forwarded-For"] = c })
end
`;

function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (m === null) throw new Error(`unparsable wrk latency "${text}"`);
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
}

function parseWrk(out: string) {
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(out);
    if (m?.[1] === undefined) throw new Error(`wrk printed no ${p}% latency:\n${out}`);
    return toMs(m[1]);
  };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
  if (rps === undefined) throw new Error(`wrk printed no Requests/sec:\n${out}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  return { rps: Number(rps), p50: pct("50"), p99: pct("99"), non2xx };
}

export type PlaybackServer = Readonly<{
  child: ChildProcess;
  port: number;
  /** A file of client addresses inside announced prefixes, one a line. */
  clients: string;
  clusters: number;
  titles: number;
}>;

/** The steering service of playback-server.ts in a child process, once it listens. */
export async function startPlaybackServer(env: NodeJS.ProcessEnv = {}): Promise<PlaybackServer> {
  const file = fileURLToPath(new URL("./playback-server.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", file], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const lines = createInterface({ input: child.stdout ?? process.stdin });
  for await (const line of lines) {
    const m = /^listening (\d+) (\S+) (\d+) (\d+)$/.exec(line);
    if (m !== null) {
      return { child, port: Number(m[1]), clients: m[2] ?? "", clusters: Number(m[3]), titles: Number(m[4]) };
    }
  }
  throw new Error("the steering bench server exited before listening");
}

/** Sustained: nearly everything answered (≥ 99 %), no error or non-2xx, p99 within the bound. */
export const sustained = (s: OpenLoopStep, p99BoundMs = 10) =>
  s.achieved >= 0.99 * s.offered && s.unanswered === 0 && s.errors === 0 && s.non2xx === 0 && s.p99Ms <= p99BoundMs;

/**
 * Runs open-loop-client.ts against `server` at each rate in turn (`warmupSec` unmeasured first at the
 * same rate); stops after the first step past saturation (under 95 % of the offered rate answered, or
 * over 1 % unanswered), so a loaded machine still shows the rate it reaches. `onStep` sees each step as it ends.
 */
export async function openLoop(
  server: PlaybackServer,
  o: { rates: readonly number[]; durationSec: number; warmupSec: number; connections?: number },
  onStep: (s: OpenLoopStep) => void = () => {},
): Promise<OpenLoopStep[]> {
  const steps: OpenLoopStep[] = [];
  for (const rate of o.rates) {
    const file = fileURLToPath(new URL("./open-loop-client.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...process.env,
        STEERING_PORT: String(server.port),
        STEERING_CLIENTS: server.clients,
        STEERING_TITLES: String(server.titles - 50), // playback-server.ts leaves the last 50 unfilled
        STEERING_RATES: String(rate),
        STEERING_DURATION_SEC: String(o.durationSec),
        STEERING_WARMUP_SEC: String(o.warmupSec),
        STEERING_CONNECTIONS: String(o.connections ?? 64),
      },
    });
    for await (const line of createInterface({ input: child.stdout ?? process.stdin })) {
      if (!line.startsWith("{")) continue;
      const step = JSON.parse(line) as OpenLoopStep;
      steps.push(step);
      onStep(step);
    }
    const last = steps.at(-1);
    if (last === undefined || last.offered !== rate)
      throw new Error(`the open-loop generator printed nothing at ${rate} req/s`);
    if (last.achieved < 0.95 * last.offered || last.unanswered > 0.01 * last.sent) break;
  }
  return steps;
}

export async function benchPlayback(o: {
  connections: number;
  durationSec: number;
  workers: number;
  rates: readonly number[];
  onStep?: (s: OpenLoopStep) => void;
}): Promise<PlaybackFigures> {
  const server = await startPlaybackServer({ STEERING_BENCH_WORKERS: String(o.workers) });
  const script = join(tmpdir(), `steering-bench-${process.pid}.lua`);
  writeFileSync(script, SCRIPT);
  const env = { ...process.env, STEERING_CLIENTS: server.clients, STEERING_TITLES: String(server.titles - 50) };
  const url = `http://127.0.0.1:${server.port}/`;
  try {
    // Warm-up: lets the JIT optimise the request path before the measured run.
    await run("wrk", ["-t1", `-c${o.connections}`, "-d3s", "-s", script, url], { env });
    const { stdout } = await run(
      "wrk",
      ["-t1", `-c${o.connections}`, `-d${o.durationSec}s`, "--latency", "-s", script, url],
      { env },
    );
    const w = parseWrk(stdout);
    const steps = await openLoop(server, { rates: o.rates, durationSec: o.durationSec, warmupSec: 2 }, o.onStep);
    return {
      workers: o.workers,
      openLoop: steps,
      maxSustainedReqPerSec: Math.max(0, ...steps.filter((s) => sustained(s)).map((s) => s.offered)),
      playbackReqPerSec: w.rps,
      playbackP50Ms: w.p50,
      playbackP99Ms: w.p99,
      connections: o.connections,
      durationSec: o.durationSec,
      non2xx: w.non2xx,
      clusters: server.clusters,
      titles: server.titles,
    };
  } finally {
    server.child.kill("SIGTERM");
    rmSync(script, { force: true });
    rmSync(server.clients, { force: true });
  }
}

export type RebuildFigures = Readonly<{
  workers: number;
  clusters: number;
  /** The offered rate of both runs, req/s. */
  rate: number;
  quiet: OpenLoopStep;
  rebuilding: OpenLoopStep;
  /** Indexes swapped in during the measured run, over all workers, and each build's mean time. */
  swaps: number;
  meanBuildMs: number;
  /** The workers' event-loop delay (the worst worker): quiet since they listened, and while rebuilding. */
  quietLoopMaxMs: number;
  quietLoopP99Ms: number;
  rebuildingLoopMaxMs: number;
  rebuildingLoopP99Ms: number;
}>;

/**
 * p99 at a fixed offered rate quiet and while every worker rebuilds its full-table index (1M prefixes
 * over `clusters` clusters) in its build thread over and over, swapping each one in.
 */
export async function benchRebuild(o: {
  workers: number;
  clusters: number;
  rate: number;
  durationSec: number;
  /** Rebuild on the event loop instead of the build thread (the way before it), to compare. */
  onLoop?: boolean;
}): Promise<RebuildFigures> {
  const server = await startPlaybackServer({
    STEERING_BENCH_WORKERS: String(o.workers),
    STEERING_BENCH_CLUSTERS: String(o.clusters),
    STEERING_BENCH_EVERY_NTH: "1",
    STEERING_BENCH_BUILD_ON_LOOP: o.onLoop === true ? "1" : "",
  });
  const rebuilt: { swaps: number; ms: number; loopP99: number; loopMax: number }[] = [];
  const quietLoop: { p99: number; max: number }[] = [];
  createInterface({ input: server.child.stdout ?? process.stdin }).on("line", (line) => {
    const m = /^rebuilt (\d+) (\d+) ([\d.]+) ([\d.]+)$/.exec(line);
    if (m !== null)
      rebuilt.push({ swaps: Number(m[1]), ms: Number(m[2]), loopP99: Number(m[3]), loopMax: Number(m[4]) });
    const q = /^loop quiet ([\d.]+) ([\d.]+)$/.exec(line);
    if (q !== null) quietLoop.push({ p99: Number(q[1]), max: Number(q[2]) });
  });
  try {
    const at = { rates: [o.rate], durationSec: o.durationSec, warmupSec: 3 };
    const [quiet] = await openLoop(server, at);
    server.child.kill("SIGUSR2");
    const [rebuilding] = await openLoop(server, { ...at, warmupSec: 0 });
    server.child.kill("SIGUSR2");
    for (let waited = 0; rebuilt.length < o.workers && waited < 120_000; waited += 200) {
      await new Promise((r) => setTimeout(r, 200));
    }
    if (quiet === undefined || rebuilding === undefined) throw new Error("the open-loop generator printed nothing");
    const swaps = rebuilt.reduce((n, r) => n + r.swaps, 0);
    return {
      workers: o.workers,
      clusters: o.clusters,
      rate: o.rate,
      quiet,
      rebuilding,
      swaps,
      meanBuildMs: rebuilt.reduce((n, r) => n + r.ms * r.swaps, 0) / Math.max(1, swaps),
      quietLoopMaxMs: Math.max(0, ...quietLoop.map((q) => q.max)),
      quietLoopP99Ms: Math.max(0, ...quietLoop.map((q) => q.p99)),
      rebuildingLoopMaxMs: Math.max(0, ...rebuilt.map((r) => r.loopMax)),
      rebuildingLoopP99Ms: Math.max(0, ...rebuilt.map((r) => r.loopP99)),
    };
  } finally {
    server.child.kill("SIGTERM");
    rmSync(server.clients, { force: true });
  }
}
