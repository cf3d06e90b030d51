/**
 * The abuse for `npm run bench:steering -- --only abuse`, in a process of its own: SLOW slow clients
 * kept connected (half trickle their headers a byte every 500 ms, half send a few bytes and stop; each
 * one the server closes is replaced at once, as an attacker would), and, from SIGUSR2 on, a flood of
 * requests for distinct manifests (a random filled title for a random client, RPS a second, pipelined
 * on 8 keep-alive connections, answers read and dropped). Prints one JSON line of counts on SIGTERM.
 *
 *   STEERING_PORT, STEERING_CLIENTS (file), STEERING_TITLES, STEERING_SLOW, STEERING_RPS
 */
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";

const port = Number(process.env.STEERING_PORT);
const clients = readFileSync(process.env.STEERING_CLIENTS ?? "", "utf8")
  .split("\n")
  .filter(Boolean);
const titles = Number(process.env.STEERING_TITLES ?? "450");
const slowTarget = Number(process.env.STEERING_SLOW ?? "2000");
const rps = Number(process.env.STEERING_RPS ?? "2000");

const counts = { slowOpened: 0, slowClosedByServer: 0, floodSent: 0, floodAnswered: 0, floodBytes: 0 };
let stopping = false;

const HEAD = `GET /v1/steering?ip=10.1.2.3 HTTP/1.1\r\nhost: steering\r\nx-padding: ${"p".repeat(4000)}\r\n\r\n`;

function slow(stall: boolean): void {
  const s = connect(port, "127.0.0.1");
  counts.slowOpened++;
  let sent = 0;
  const timer = setInterval(() => {
    if (!s.destroyed && s.readyState === "open" && !(stall && sent > 10)) s.write(HEAD[sent++ % HEAD.length] ?? "");
  }, 500);
  s.on("error", () => {});
  s.resume(); // reads (and drops) the 408, so it sees the close and comes back
  s.on("close", () => {
    clearInterval(timer);
    if (stopping) return;
    counts.slowClosedByServer++;
    slow(stall);
  });
}

const random = (n: number) => Math.floor(Math.random() * n);

function flooder(): Socket {
  const s = connect(port, "127.0.0.1");
  s.setNoDelay(true);
  s.on("data", (d: Buffer) => {
    counts.floodBytes += d.length;
    for (let i = d.indexOf("HTTP/1.1 "); i >= 0; i = d.indexOf("HTTP/1.1 ", i + 9)) counts.floodAnswered++;
  });
  s.on("error", () => {});
  return s;
}

let flood: Socket[] = [];
process.on("SIGUSR2", () => {
  flood = Array.from({ length: 8 }, flooder);
});
setInterval(() => {
  if (flood.length === 0) return;
  flood = flood.map((s) => (s.destroyed ? flooder() : s));
  const n = Math.round(rps / 100);
  for (let i = 0; i < n; i++) {
    const s = flood[i % flood.length];
    const client = clients[random(clients.length)] ?? "10.0.0.1";
    s?.write(
      `GET /v1/playback/title-${random(titles)} HTTP/1.1\r\nhost: steering\r\nx-forwarded-for: ${client}\r\n\r\n`,
    );
    counts.floodSent++;
  }
}, 10);

// 200 slow clients every 100 ms: in one burst most would wait in the kernel's accept queue.
let opened = 0;
const opener = setInterval(() => {
  for (let i = 0; i < 200 && opened < slowTarget; i++, opened++) slow(opened % 2 === 1);
  if (opened >= slowTarget) clearInterval(opener);
}, 100);

process.on("SIGTERM", () => {
  stopping = true;
  console.log(JSON.stringify(counts));
  process.exit(0);
});
