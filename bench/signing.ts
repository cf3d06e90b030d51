// What checking a signed link costs the edge's nginx per request: the configuration the operator renders
// (njs, HMAC-SHA256 over kid, exp, the client's /24 and the path, the key read from the mounted Secret per
// request: operator/src/edge/link-verifier.ts) against the same nginx.conf with the check swapped for the
// built-in secure_link (MD5 over exp, path, the client's /24 and the secret, as nginx's documentation
// shows it) and with no check at all; and, to split the njs cost, the same verifier with the key in
// its text instead of read from the Secret's file (what a verifier without rotation could do). wrk on loopback fetches one small object (the per-request cost is
// what matters: a chunk's bytes cost the same whichever check let it through), the three nginx take turns
// for several rounds, and each figure is the median over the rounds.
// Prints requests/s and CPU µs per request of nginx (master + worker, /proc/<pid>/stat), and the check's
// cost: its CPU µs per request above the unchecked nginx.
//   npm run bench:signing -- [--json] [--seconds 3] [--rounds 5] [--connections 8] [--bytes 1024]
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  get,
  LINK_KEY,
  LOOPBACK_NET,
  NGINX,
  type RunningNginx,
  signedPath,
  startNginx,
  tempDir,
} from "../nodes/test/harness.js";
import { renderLinkVerifier } from "../operator/src/edge/link-verifier.js";
import { clockTicks, cpuSeconds, runWrk } from "./datapath/measure.js";

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "5" },
    connections: { type: "string", default: "8" },
    bytes: { type: "string", default: "1024" },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const bytes = Number(values.bytes);

type Check = "none" | "secure_link-md5" | "njs-hmac-sha256" | "njs-hmac-sha256-key-inline";
const CHECKS: readonly Check[] = ["none", "secure_link-md5", "njs-hmac-sha256", "njs-hmac-sha256-key-inline"];
type Row = { check: Check; requestsPerSec: number; cpuMicrosPerRequest: number; checkMicrosPerRequest: number };

/** The secret of the secure_link variant (what its nginx.conf would hold). */
const MD5_SECRET = randomBytes(24).toString("base64url");
const JS_SET = /^ {2}js_import .*\n {2}js_set \$edgefleet_link_denied edgefleet_link\.denied;\n/m;
const KEY_OF = /^function keyOf\(kid\) \{\n[\s\S]*?\n\}\n/m;
const DENIED_IF = /^ {6}if \(\$edgefleet_link_denied\) \{\n {8}return 403;\n {6}\}\n/m;

const must = (text: string, re: RegExp) => {
  if (!re.test(text)) throw new Error(`the rendered text changed: ${re} no longer matches; update bench/signing.ts`);
  return text;
};

/** The operator's verifier with the key of k1 in its text: no file read per request. */
async function keyInlineVerifier(dir: string): Promise<string> {
  const inline = `function keyOf(kid) {\n  return kid === 'k1' ? Buffer.from('${LINK_KEY.toString("base64url")}', 'base64url') : undefined;\n}\n`;
  const path = join(dir, "edgefleet-link-key-inline.js");
  await writeFile(path, must(renderLinkVerifier(join(dir, "unused")), KEY_OF).replace(KEY_OF, inline));
  return path;
}

/** The rendered nginx.conf with its link check swapped (the njs one is the operator's, unchanged). */
function editFor(check: Check, inlineVerifier: string): (conf: string) => string {
  if (check === "njs-hmac-sha256") return (c) => must(must(c, JS_SET), DENIED_IF);
  if (check === "njs-hmac-sha256-key-inline")
    return (c) =>
      must(c, JS_SET).replace(
        /js_import edgefleet_link from "[^"]+";/,
        `js_import edgefleet_link from "${inlineVerifier}";`,
      );
  if (check === "none") return (c) => must(c, DENIED_IF).replace(DENIED_IF, "");
  // The client's /24, as the njs verifier binds to it; secure_link then checks MD5 and expiry.
  const maps = `  map $remote_addr $edgefleet_client_net {
    "~^(?<net>\\d+\\.\\d+\\.\\d+)\\.\\d+$" "$net.0/24";
    default "";
  }
  map $secure_link $edgefleet_link_denied {
    "1" "";
    default 1;
  }
`;
  const check403 = `      secure_link $arg_md5,$arg_expires;
      secure_link_md5 "$secure_link_expires$uri$edgefleet_client_net ${MD5_SECRET}";
`;
  return (c) =>
    must(must(c, JS_SET), DENIED_IF)
      .replace(JS_SET, maps)
      .replace(DENIED_IF, (m) => check403 + m);
}

/** The path and query each variant accepts for `uri`, from a client on 127.0.0.1. */
function linkFor(check: Check, uri: string, expiresAt: Date): string {
  if (check === "none") return uri;
  if (check.startsWith("njs-")) return signedPath(uri, expiresAt);
  const exp = Math.floor(expiresAt.getTime() / 1000);
  const md5 = createHash("md5").update(`${exp}${uri}${LOOPBACK_NET} ${MD5_SECRET}`).digest("base64url");
  return `${uri}?md5=${md5}&expires=${exp}`;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};
const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const dir = await tempDir("signing-bench-");
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const servers = new Map<Check, RunningNginx>();
  try {
    const root = join(dir, "content");
    await mkdir(join(root, "t"), { recursive: true });
    await writeFile(join(root, "t", "chunk.mp4"), randomBytes(bytes));
    const uri = "/t/chunk.mp4";
    const expiresAt = new Date(Date.now() + 3600_000);
    const inline = await keyInlineVerifier(dir);
    for (const check of CHECKS) {
      const n = await startNginx(join(dir, check), root, {}, editFor(check, inline));
      servers.set(check, n);
      // Each check must let its own link through and refuse a tampered one, or it measures nothing.
      const good = await get(`${n.http}${linkFor(check, uri, expiresAt)}`);
      const tamper = (_: string, k: string, c: string) => `${k}=${c === "A" ? "B" : "A"}`;
      const bad = await get(`${n.http}${linkFor(check, uri, expiresAt).replace(/(sig|md5)=(.)/, tamper)}`);
      const want = check === "none" ? [200, 200] : [200, 403];
      if (good.status !== want[0] || bad.status !== want[1])
        throw new Error(`${check}: good link ${good.status}, tampered ${bad.status}; want ${want.join(", ")}`);
    }
    const ticks = await clockTicks();
    const samples = new Map<Check, { rps: number; cpuUs: number }[]>(CHECKS.map((c) => [c, []]));
    for (let r = 0; r < rounds; r++) {
      for (const check of CHECKS) {
        const n = servers.get(check);
        if (!n) continue;
        const url = `${n.http}${linkFor(check, uri, expiresAt)}`;
        await runWrk(url, { dir, seconds: 1, connections, threads: 1 }); // warm-up
        const pids = await n.pids();
        const cpu0 = await cpuSeconds(pids, ticks);
        const w = await runWrk(url, { dir, seconds, connections, threads: 1 });
        const cpu = (await cpuSeconds(pids, ticks)) - cpu0;
        if (w.errors > 0 || w.requests === 0) throw new Error(`${check}: ${w.errors} errors, ${w.requests} requests`);
        const s = { rps: w.requests / w.seconds, cpuUs: (cpu / w.requests) * 1e6 };
        samples.get(check)?.push(s);
        log(
          `round ${r + 1} ${check.padEnd(16)} ${s.rps.toFixed(0).padStart(7)} req/s  ${s.cpuUs.toFixed(1)} CPU µs/req`,
        );
      }
    }
    const base = median((samples.get("none") ?? []).map((s) => s.cpuUs));
    const rows: Row[] = CHECKS.map((check) => {
      const ss = samples.get(check) ?? [];
      const cpu = median(ss.map((s) => s.cpuUs));
      return {
        check,
        requestsPerSec: round(median(ss.map((s) => s.rps)), 0),
        cpuMicrosPerRequest: round(cpu, 1),
        checkMicrosPerRequest: round(cpu - base, 1),
      };
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ objectBytes: bytes, results: rows })}\n`);
      return;
    }
    const table = [
      "| check | requests/s | nginx CPU µs/request | the check's µs/request |",
      "|---|---:|---:|---:|",
      ...rows.map(
        (r) =>
          `| ${r.check} | ${r.requestsPerSec} | ${r.cpuMicrosPerRequest.toFixed(1)} | ${r.check === "none" ? "—" : r.checkMicrosPerRequest.toFixed(1)} |`,
      ),
    ].join("\n");
    process.stdout.write(
      `${table}\n${await nginxVersion()}, one worker, HTTP keep-alive, a ${bytes}-byte object; wrk -t1 -c${connections} -d${seconds}s, median of ${rounds} rounds; load average at end ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}\n`,
    );
    process.stdout.write(
      `reproduce: npm run bench:signing -- --seconds ${seconds} --rounds ${rounds} --connections ${connections} --bytes ${bytes}\n`,
    );
  } finally {
    for (const n of servers.values()) await n.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function nginxVersion(): Promise<string> {
  return new Promise((res) =>
    execFile(NGINX, ["-v"], (_e, _o, err) => res(String(err).trim().replace("nginx version: ", ""))),
  );
}

await main();
