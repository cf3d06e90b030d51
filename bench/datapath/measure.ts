import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

/** CPU seconds (user + system, all threads) of the processes, from /proc/<pid>/stat. */
export async function cpuSeconds(pids: readonly number[], ticksPerSec: number): Promise<number> {
  let ticks = 0;
  for (const pid of pids) ticks += parseProcStatTicks(await readFile(`/proc/${pid}/stat`, "utf8"));
  return ticks / ticksPerSec;
}

/** utime + stime (fields 14 and 15); the command name may hold spaces, so count from the last ")". */
export function parseProcStatTicks(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`unparsable /proc stat: ${stat.slice(0, 80)}`);
  return utime + stime;
}

export async function clockTicks(): Promise<number> {
  const { stdout } = await promisify(execFile)("getconf", ["CLK_TCK"]);
  return Number(stdout.trim());
}

export type WrkResult = Readonly<{ bytes: number; seconds: number; requests: number; errors: number }>;

/** wrk's own byte and time totals, printed exactly by a done() hook rather than parsed from its rounded summary. */
const DONE_LUA = `done = function(s, latency, requests)
  local e = s.errors.connect + s.errors.read + s.errors.write + s.errors.status + s.errors.timeout
  io.write(string.format("EDGEFLEET %d %d %d %d\\n", s.bytes, s.duration, s.requests, e))
end
`;

export async function runWrk(
  url: string,
  o: { dir: string; seconds: number; connections: number; threads: number },
): Promise<WrkResult> {
  const script = join(o.dir, "done.lua");
  await writeFile(script, DONE_LUA);
  const { stdout } = await promisify(execFile)(
    "wrk",
    [`-t${o.threads}`, `-c${o.connections}`, `-d${o.seconds}s`, "--timeout", "10s", "-s", script, url],
    { maxBuffer: 1 << 20 },
  );
  const m = /EDGEFLEET (\d+) (\d+) (\d+) (\d+)/.exec(stdout);
  if (!m) throw new Error(`wrk printed no totals:\n${stdout}`);
  return { bytes: Number(m[1]), seconds: Number(m[2]) / 1e6, requests: Number(m[3]), errors: Number(m[4]) };
}
