/**
 * An open-loop load generator (wrk2's model), in a process of its own: requests leave at a fixed rate
 * whatever the server does, each at its intended time on an idle keep-alive connection, or queued until
 * one frees up. Latency counts from the intended time, so a server that stalls is charged for every
 * request it held back (coordinated omission corrected); the time from the write is reported too.
 *
 * Why not autocannon's `overallRate` or wrk: both are closed loop per connection (a connection sends its
 * next request only after the answer), so a stall delays the requests that should have been sent and
 * they never count as slow; autocannon also costs about a core at 10k req/s. This sends pre-built
 * requests on raw sockets and parses only the status line and content-length.
 *
 *   STEERING_PORT, STEERING_CLIENTS (file), STEERING_TITLES, STEERING_RATES ("5000,8000"),
 *   STEERING_DURATION_SEC, STEERING_WARMUP_SEC, STEERING_CONNECTIONS
 * Prints one JSON line per rate: {"offered", "achieved", "p50Ms", "p90Ms", "p99Ms", "p999Ms", "maxMs",
 * "serviceP50Ms", "serviceP99Ms", "non2xx", "errors", "unanswered"}; `achieved` is answers ÷ the time from
 * the first intended send to the last answer.
 */
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";

const env = process.env;
const port = Number(env.STEERING_PORT);
const clients = readFileSync(env.STEERING_CLIENTS ?? "", "utf8")
  .split("\n")
  .filter(Boolean);
const titles = Number(env.STEERING_TITLES ?? "450");
const rates = (env.STEERING_RATES ?? "5000").split(",").map(Number);
const durationSec = Number(env.STEERING_DURATION_SEC ?? "10");
const warmupSec = Number(env.STEERING_WARMUP_SEC ?? "2");
const poolSize = Number(env.STEERING_CONNECTIONS ?? "64");

// Seeded so every run asks the same questions in the same order.
let seed = 2026;
const random = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};
const REQUESTS = Array.from({ length: 8192 }, () => {
  const c = clients[Math.floor(random() * clients.length)] ?? "192.0.2.1";
  const t = Math.floor(random() * titles);
  return Buffer.from(`GET /v1/playback/title-${t} HTTP/1.1\r\nhost: steering\r\nx-forwarded-for: ${c}\r\n\r\n`);
});

/** `run`: the run its request in flight belongs to (a warm-up's late answers never count in the next). */
type Conn = { socket: Socket; buf: Buffer; intendedMs: number; sentMs: number; busy: boolean; run: Run | undefined };
type Run = {
  recording: boolean;
  latencies: number[];
  service: number[];
  non2xx: number;
  errors: number;
  done: number;
};

const HEADER_END = Buffer.from("\r\n\r\n");
const idle: Conn[] = [];
/** Intended send times of requests waiting for a connection. */
const backlog: number[] = [];
let backlogHead = 0;
let next = 0;
let run: Run | undefined;

function send(c: Conn, intendedMs: number): void {
  c.busy = true;
  c.run = run;
  c.intendedMs = intendedMs;
  c.sentMs = performance.now();
  c.socket.write(REQUESTS[next++ % REQUESTS.length] ?? Buffer.alloc(0));
}

function finish(c: Conn, status: number): void {
  const now = performance.now();
  const r = c.run;
  if (r !== undefined) {
    r.done++;
    if (r.recording) {
      r.latencies.push(now - c.intendedMs);
      r.service.push(now - c.sentMs);
      if (status < 200 || status >= 300) r.non2xx++;
    }
  }
  release(c);
}

/** A free connection takes the oldest waiting request, or waits for the next one due. */
function release(c: Conn): void {
  c.busy = false;
  if (backlogHead < backlog.length) send(c, backlog[backlogHead++] ?? performance.now());
  else idle.push(c);
}

/** Parses as many whole answers as `c.buf` holds (one is in flight at a time, so at most one). */
function onData(c: Conn, chunk: Buffer): void {
  c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
  for (;;) {
    const end = c.buf.indexOf(HEADER_END);
    if (end < 0) return;
    const head = c.buf.toString("latin1", 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length: *(\d+)/i.exec(head);
    const total = end + 4 + Number(m?.[1] ?? 0);
    if (c.buf.length < total) return;
    c.buf = c.buf.subarray(total);
    finish(c, status);
  }
}

function open(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", noDelay: true });
    const c: Conn = { socket, buf: Buffer.alloc(0), intendedMs: 0, sentMs: 0, busy: false, run: undefined };
    socket.once("connect", () => resolve(c));
    socket.once("error", reject);
    socket.on("data", (d: Buffer) => onData(c, d));
    socket.on("close", () => {
      if (c.run?.recording && c.busy) c.run.errors++;
      const i = idle.indexOf(c);
      if (i >= 0) idle.splice(i, 1);
      // Replaced, so the pool keeps its size (the server closes idle keep-alive connections after 5 s).
      void open().then(release, () => {});
    });
  });
}

const quantile = (sorted: Float64Array, q: number) =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);

/** Sends at `rate` for `seconds`: requests whose intended time has come leave every millisecond. */
async function drive(rate: number, seconds: number, recording: boolean) {
  const r: Run = { recording: false, latencies: [], service: [], non2xx: 0, errors: 0, done: 0 };
  run = r;
  const t0 = performance.now();
  const total = Math.round(rate * seconds);
  let sent = 0;
  r.recording = recording;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) * rate) / 1000));
      for (; sent < due; sent++) {
        const intended = t0 + (sent * 1000) / rate;
        const c = idle.pop();
        if (c === undefined) backlog.push(intended);
        else send(c, intended);
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  // Answers still owed: wait for them (at most 5 s), so the slow ones count.
  const waitUntil = performance.now() + 5000;
  while ((r.done < total || backlogHead < backlog.length) && performance.now() < waitUntil) {
    await new Promise((res) => setTimeout(res, 5));
  }
  const elapsed = (performance.now() - t0) / 1000;
  r.recording = false;
  backlog.length = 0;
  backlogHead = 0;
  return { r, total, elapsed };
}

for (let i = 0; i < poolSize; i++) idle.push(await open());
for (const rate of rates) {
  if (warmupSec > 0) await drive(rate, warmupSec, false);
  const { r, total, elapsed } = await drive(rate, durationSec, true);
  const lat = Float64Array.from(r.latencies).sort();
  const svc = Float64Array.from(r.service).sort();
  const round = (x: number) => Math.round(x * 100) / 100;
  console.log(
    JSON.stringify({
      offered: rate,
      achieved: Math.round(r.done / elapsed),
      answered: r.done,
      sent: total,
      p50Ms: round(quantile(lat, 0.5)),
      p90Ms: round(quantile(lat, 0.9)),
      p99Ms: round(quantile(lat, 0.99)),
      p999Ms: round(quantile(lat, 0.999)),
      maxMs: round(lat[lat.length - 1] ?? 0),
      serviceP50Ms: round(quantile(svc, 0.5)),
      serviceP99Ms: round(quantile(svc, 0.99)),
      non2xx: r.non2xx,
      errors: r.errors,
      unanswered: total - r.done,
    }),
  );
}
process.exit(0);
