/**
 * The playback API under load: the service runs in a child process, wrk (one thread, C, so it takes
 * little of the two cores) sends `GET /v1/playback/title-N` with X-Forwarded-For set to a random client
 * inside an announced prefix, through the trusted-proxy path.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export type PlaybackFigures = Readonly<{
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

export async function benchPlayback(o: { connections: number; durationSec: number }): Promise<PlaybackFigures> {
  const server = await startPlaybackServer();
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
    return {
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
