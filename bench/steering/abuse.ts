/**
 * Normal clients' latency, quiet and under abuse. The steering service runs in a child process
 * (playback-server.ts, its default settings); normal clients are autocannon in this process at a fixed
 * rate (16 connections, a random filled title for a random client each, latencies corrected for
 * coordinated omission); the abuse is abuser.ts in a third process: slow clients kept connected and a
 * flood of requests for distinct manifests. Prints figures; never passes or fails on them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { startPlaybackServer } from "./playback.js";

export type Latency = Readonly<{ p50Ms: number; p99Ms: number; reqPerSec: number; non2xx: number; errors: number }>;

export type AbuseFigures = Readonly<{
  quiet: Latency;
  /** With the slow clients held only. */
  slow: Latency;
  /** With the slow clients and the flood of distinct manifests. */
  abuse: Latency;
  /** The normal clients' rate, and how long each run lasted. */
  rate: number;
  durationSec: number;
  slowClients: number;
  floodPerSec: number;
  /** What the server held at the peak of the abused run, by its own accounting. */
  peakConnections: number;
  peakCacheBytes: number;
  cacheEntries: number;
  /** The abuser's counts over the whole abused run. */
  abuser: Readonly<Record<string, number>>;
}>;

type Stats = { cacheBytes: number; cacheEntries: number; connections: number };

async function normalClients(
  port: number,
  clients: readonly string[],
  titles: number,
  o: { rate: number; durationSec: number },
): Promise<Latency> {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)];
  const r = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 16,
    overallRate: o.rate,
    duration: o.durationSec,
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          path: `/v1/playback/title-${Math.floor(Math.random() * titles)}`,
          headers: { ...req.headers, "x-forwarded-for": pick(clients) ?? "10.0.0.1" },
        }),
      },
    ],
  });
  return {
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    reqPerSec: r.requests.average,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

/** Follows the server's "stats" lines; `peak` is reset before the abused run. */
function follow(child: ChildProcess) {
  const last: Stats = { cacheBytes: 0, cacheEntries: 0, connections: 0 };
  const peak = { connections: 0, cacheBytes: 0 };
  const out = child.stdout;
  if (out === null) throw new Error("the bench server has no stdout");
  createInterface({ input: out }).on("line", (line) => {
    const m = /^stats (\d+) (\d+) (\d+)$/.exec(line);
    if (m === null) return;
    last.cacheBytes = Number(m[1]);
    last.cacheEntries = Number(m[2]);
    last.connections = Number(m[3]);
    peak.connections = Math.max(peak.connections, last.connections);
    peak.cacheBytes = Math.max(peak.cacheBytes, last.cacheBytes);
  });
  out.resume();
  return { last, peak };
}

function startAbuser(env: NodeJS.ProcessEnv): { child: ChildProcess; counts: Promise<Record<string, number>> } {
  const file = fileURLToPath(new URL("./abuser.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", file], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const counts = (async () => {
    for await (const line of createInterface({ input: child.stdout ?? process.stdin })) {
      if (line.startsWith("{")) return JSON.parse(line) as Record<string, number>;
    }
    return {};
  })();
  return { child, counts };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchAbuse(o: {
  rate: number;
  durationSec: number;
  slowClients: number;
  floodPerSec: number;
}): Promise<AbuseFigures> {
  // One worker: the server's stats (cache bytes, connections) are then the whole service's.
  const server = await startPlaybackServer({ STEERING_BENCH_STATS: "1", STEERING_BENCH_WORKERS: "1" });
  const stats = follow(server.child);
  const clients = readFileSync(server.clients, "utf8").split("\n").filter(Boolean);
  const filled = server.titles - 50; // playback-server.ts leaves the last 50 unfilled
  try {
    await normalClients(server.port, clients, filled, { rate: o.rate, durationSec: 3 }); // warm-up
    const quiet = await normalClients(server.port, clients, filled, o);
    const abuser = startAbuser({
      STEERING_PORT: String(server.port),
      STEERING_CLIENTS: server.clients,
      STEERING_TITLES: String(filled),
      STEERING_SLOW: String(o.slowClients),
      STEERING_RPS: String(o.floodPerSec),
    });
    // Every slow client held by the server before the measured run (it accepts a few hundred a second).
    for (let waited = 0; stats.last.connections < o.slowClients && waited < 60_000; waited += 250) await sleep(250);
    const slow = await normalClients(server.port, clients, filled, o);
    abuser.child.kill("SIGUSR2"); // the flood starts
    stats.peak.connections = 0;
    stats.peak.cacheBytes = 0;
    const abuse = await normalClients(server.port, clients, filled, o);
    abuser.child.kill("SIGTERM");
    return {
      quiet,
      slow,
      abuse,
      rate: o.rate,
      durationSec: o.durationSec,
      slowClients: o.slowClients,
      floodPerSec: o.floodPerSec,
      peakConnections: stats.peak.connections,
      peakCacheBytes: stats.peak.cacheBytes,
      cacheEntries: stats.last.cacheEntries,
      abuser: await abuser.counts,
    };
  } finally {
    server.child.kill("SIGTERM");
    rmSync(server.clients, { force: true });
  }
}
