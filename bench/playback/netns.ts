/**
 * Network namespaces and shaped links for real playback: each client gets its own namespace joined to
 * the host by a veth pair; the host side's egress (everything the client downloads) is a tbf shaped to
 * the trace's rate of the moment, and an outage drops everything the client sends (an ingress u32 drop
 * filter), so downloads fall silent as on a dead link. The servers' addresses sit on a veth of their
 * own on the host, reachable from every namespace.
 *
 * This kernel has no netem (CONFIG_NET_SCH_NETEM unset) nor dummy devices: links add no delay beyond
 * their queues, which is why the simulator is compared with these runs at the veth's RTT (~0).
 * Names start with `efpb` and the run's id; everything created is removed by `teardown`.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import type { TraceSegment } from "../../player/src/traces.js";

const run = promisify(execFile);
export const SERVER_ADDRESSES = ["10.231.255.1", "10.231.255.2"] as const;

export type Link = Readonly<{ ns: string; host: string; clientAddress: string }>;

async function ip(...args: string[]): Promise<void> {
  await run("ip", args);
}

/** Applies tc commands in one process (one per tick for every client's link). */
export function tcBatch(lines: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn("tc", ["-force", "-batch", "-"], { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (b: Buffer) => {
      err += b.toString();
    });
    p.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`tc -batch: ${err.trim()}`))));
    p.stdin.end(`${lines.join("\n")}\n`);
  });
}

const tbf = (verb: "add" | "change", dev: string, bps: number) =>
  `qdisc ${verb} dev ${dev} root handle 1: tbf rate ${Math.max(8000, Math.round(bps))}bit burst 32kb latency 200ms`;

/** The tc lines that move a link from one segment to the next. */
export function segmentCommands(l: Link, prev: TraceSegment | undefined, next: TraceSegment): string[] {
  const out: string[] = [];
  const wasOut = prev !== undefined && prev.bps === 0;
  if (next.bps === 0) {
    if (!wasOut) out.push(`filter add dev ${l.host} parent ffff: protocol all prio 1 u32 match u32 0 0 action drop`);
    return out;
  }
  if (wasOut) out.push(`filter del dev ${l.host} parent ffff: prio 1`);
  out.push(tbf("change", l.host, next.bps));
  return out;
}

export class Netns {
  readonly id: string;
  readonly links: Link[] = [];
  #servers = false;

  constructor(id: string) {
    this.id = id;
  }

  async setup(clients: number): Promise<void> {
    await ip("link", "add", `efpb${this.id}s`, "type", "veth", "peer", "name", `efpb${this.id}t`);
    this.#servers = true;
    for (const a of SERVER_ADDRESSES) await ip("addr", "add", `${a}/32`, "dev", `efpb${this.id}s`);
    await ip("link", "set", `efpb${this.id}s`, "up");
    await ip("link", "set", `efpb${this.id}t`, "up");
    for (let k = 0; k < clients; k++) {
      const ns = `efpb-${this.id}-${k}`;
      const host = `efpb${this.id}h${k}`;
      await ip("netns", "add", ns);
      this.links.push({ ns, host, clientAddress: `10.231.${k}.2` });
      await ip("link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns);
      await ip("addr", "add", `10.231.${k}.1/30`, "dev", host);
      await ip("link", "set", host, "up");
      await ip("-n", ns, "addr", "add", `10.231.${k}.2/30`, "dev", "eth0");
      await ip("-n", ns, "link", "set", "eth0", "up");
      await ip("-n", ns, "link", "set", "lo", "up");
      await ip("-n", ns, "route", "add", "default", "via", `10.231.${k}.1`);
    }
    await tcBatch(this.links.flatMap((l) => [tbf("add", l.host, 20e6), `qdisc add dev ${l.host} ingress`]));
  }

  /** Back to an unshaped fast link and no outage, between traces. */
  async reset(): Promise<void> {
    await tcBatch(this.links.map((l) => tbf("change", l.host, 20e6)));
    for (const l of this.links)
      await run("tc", ["filter", "del", "dev", l.host, "parent", "ffff:", "prio", "1"]).catch(() => {});
  }

  async teardown(): Promise<void> {
    for (const l of this.links) await ip("netns", "del", l.ns).catch(() => {});
    if (this.#servers) await ip("link", "del", `efpb${this.id}s`).catch(() => {});
  }
}
