// Real processes for the tests and the benchmark: nginx (Debian) with its own prefix in a temp dir, a
// plain node:http origin, free loopback ports, a self-signed certificate from openssl.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { promisify } from "node:util";
import { renderLinkVerifier } from "../../operator/src/edge/link-verifier.js";
import {
  type EdgeSettings,
  type EdgeSettingsInput,
  parseEdgeSettings,
  renderNginxConf,
  STATUS_LOCATION,
} from "../../operator/src/edge/nginx-config.js";
import { clusterKeyEntries } from "../../operator/src/steering/link-keys.js";
import { deriveLinkKey, linkSignature, signUrl } from "../../operator/src/steering/sign-url.js";

export const NGINX = process.env.NGINX_BIN ?? "/usr/sbin/nginx";
/** The test fleet's master of kid k1 (as in the master Secret) and the test edge's cluster. */
export const MASTER = Buffer.from("test-master-k1-0123456789abcdefghijkl");
export const CLUSTER = { namespace: "test", name: "edge" } as const;
/** The test edge's key for k1 (what its link-key Secret holds). */
export const LINK_KEY = deriveLinkKey(MASTER, CLUSTER.namespace, CLUSTER.name);
/** The network of a client on 127.0.0.1, the address the tests connect from. */
export const LOOPBACK_NET = "127.0.0.0/24";

export type LinkOptions = Partial<Readonly<{ kid: string; key: Uint8Array; net: string }>>;

/** The path and signed query the playback API would hand a client on 127.0.0.1 for `path` (steering/sign-url.ts). */
export function signedPath(path: string, expiresAt: Date, o: LinkOptions = {}): string {
  const base = "http://edge";
  const link = { kid: "k1", key: LINK_KEY, net: LOOPBACK_NET, ...o };
  return signUrl({ baseUrl: base, path, expiresAt, ...link }).slice(base.length);
}

/**
 * Signs any path, as someone holding the key could: signUrl refuses "..", dot segments and encoded
 * characters, and the tests must show nginx refuses them even when the signature is good.
 */
export function forgedQuery(path: string, expiresUnix: number, net = LOOPBACK_NET): string {
  const sig = linkSignature(LINK_KEY, { kid: "k1", exp: expiresUnix, net, path });
  return `kid=k1&exp=${expiresUnix}&net=${net}&sig=${sig}`;
}

/**
 * Writes a cluster's link keys as the kubelet mounts its link-key Secret: the files live in a
 * timestamped directory that `..data` points at, each entry a symlink through `..data`, and a change
 * swaps `..data` atomically (what the verifier must cope with). Returns the directory nginx reads.
 */
export async function writeLinkKeys(dir: string, entries: Readonly<Record<string, string>>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const stamp = `..${Date.now()}_${Math.random().toString(36).slice(2)}`;
  await mkdir(join(dir, stamp));
  for (const [name, text] of Object.entries(entries)) await writeFile(join(dir, stamp, name), text);
  await rm(join(dir, "..data_tmp"), { force: true });
  await symlink(stamp, join(dir, "..data_tmp"));
  await rename(join(dir, "..data_tmp"), join(dir, "..data"));
  for (const name of await readdir(dir)) {
    if (!name.startsWith(".") && !(name in entries)) await rm(join(dir, name), { force: true });
  }
  for (const name of Object.keys(entries)) {
    await symlink(join("..data", name), join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  }
  return dir;
}

/** The link keys of the test edge for these masters (kid → master), the first one primary. */
export function edgeKeyEntries(masters: Readonly<Record<string, Buffer>> = { k1: MASTER }): Record<string, string> {
  const kids = Object.keys(masters);
  return clusterKeyEntries(
    { keys: new Map(Object.entries(masters)), primary: kids[0] ?? "k1" },
    CLUSTER.namespace,
    CLUSTER.name,
  );
}

export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((res) => srv.listen(0, "127.0.0.1", res));
  const addr = srv.address();
  await new Promise<void>((res) => srv.close(() => res()));
  if (addr === null || typeof addr === "string") throw new Error("no port");
  return addr.port;
}

/** A temp dir that nginx's unprivileged workers (nobody) can traverse when the tests run as root. */
export async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  await chmod(d, 0o755);
  return d;
}

export async function selfSignedCert(dir: string): Promise<{ certPath: string; keyPath: string; cert: Buffer }> {
  const certPath = join(dir, "tls.crt");
  const keyPath = join(dir, "tls.key");
  await promisify(execFile)("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout",
    keyPath,
    "-out",
    certPath,
  ]);
  await chmod(keyPath, 0o644);
  return { certPath, keyPath, cert: await readFile(certPath) };
}

export type RunningNginx = Readonly<{
  settings: EdgeSettings;
  pid: number;
  http: string;
  https: string;
  status: string;
  cert: Buffer;
  /** Master and worker pids, for CPU accounting. */
  pids(): Promise<number[]>;
  stop(): Promise<void>;
}>;

/**
 * Starts nginx in the foreground on free loopback ports, serving `contentPath`; resolves once stub_status
 * answers. `editConf` changes the rendered nginx.conf first (the signing benchmark swaps the link check).
 */
export async function startNginx(
  dir: string,
  contentPath: string,
  over: Partial<EdgeSettingsInput> = {},
  editConf: (conf: string) => string = (c) => c,
): Promise<RunningNginx> {
  const runDir = join(dir, "run");
  await mkdir(runDir, { recursive: true });
  const { certPath, keyPath, cert } = await selfSignedCert(dir);
  const linkKeysDir = over.linkKeysDir ?? (await writeLinkKeys(join(dir, "link-keys"), edgeKeyEntries()));
  const linkVerifierPath = join(dir, "edgefleet-link.js");
  await writeFile(linkVerifierPath, renderLinkVerifier(linkKeysDir));
  const input: EdgeSettingsInput = {
    httpPort: await freePort(),
    httpsPort: await freePort(),
    statusPort: await freePort(),
    listen: ["127.0.0.1"],
    contentPath,
    certPath,
    keyPath,
    ktls: "auto",
    linkKeysDir,
    linkVerifierPath,
    runDir,
    errorLog: join(dir, "error.log"),
    workerProcesses: 1,
    ...over,
  };
  const conf = editConf(renderNginxConf(input));
  const confPath = join(dir, "nginx.conf");
  await writeFile(confPath, conf);
  const proc = spawn(NGINX, ["-p", dir, "-c", confPath, "-e", join(dir, "error.log"), "-g", "daemon off;"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  proc.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<number | null>((res) => proc.on("exit", (code) => res(code)));
  const base = (p: number, scheme: string) => `${scheme}://127.0.0.1:${p}`;
  const settings = parseEdgeSettings(input);
  const status = `${base(input.statusPort, "http")}${STATUS_LOCATION}`;
  await waitFor(
    async () => (await get(status)).status === 200,
    exited,
    async () => `${stderr}${await readFile(join(dir, "error.log"), "utf8").catch(() => "")}`,
  );
  const pid = proc.pid;
  if (pid === undefined) throw new Error("nginx did not start");
  return {
    settings,
    pid,
    http: base(input.httpPort, "http"),
    https: base(input.httpsPort, "https"),
    status,
    cert,
    pids: async () => [pid, ...(await childPids(pid))],
    stop: () => stopProcess(proc, "SIGQUIT"),
  };
}

async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  return text.split(/\s+/).filter(Boolean).map(Number);
}

export async function stopProcess(proc: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise<void>((res) => proc.once("exit", () => res()));
  proc.kill(signal);
  const t = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  await done;
  clearTimeout(t);
}

async function waitFor(ok: () => Promise<boolean>, exited: Promise<number | null>, why: () => Promise<string>) {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  for (let i = 0; i < 200; i++) {
    if (gone) throw new Error(`nginx exited: ${await why()}`);
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not become ready: ${await why()}`);
}

export type Resp = Readonly<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }>;

/** GET with the path sent verbatim (no client-side normalisation), trusting `ca` for https. */
export function get(
  url: string,
  opts: { headers?: Record<string, string>; ca?: Buffer; method?: string; localAddress?: string } = {},
): Promise<Resp> {
  const u = new URL(url);
  // Keep "..", "%2e" and the like exactly as written: URL() would resolve them.
  const rawPath = url.slice(url.indexOf("/", u.protocol.length + 2));
  const req = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const r = req(
      {
        host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: u.port,
        path: rawPath,
        method: opts.method ?? "GET",
        headers: opts.headers,
        ca: opts.ca,
        servername: "localhost",
        agent: false,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    r.on("error", reject);
    r.end();
  });
}

export type Origin = Readonly<{
  url: string;
  /** Range headers seen per path ("" when none), in order. */
  requests: { path: string; range: string }[];
  stop(): Promise<void>;
}>;

/** A plain origin: serves files under `root` with single byte ranges, as a CDN origin does. */
/** A plain origin: serves files under `root` with single byte ranges, as a CDN origin does. */
export async function startOrigin(root: string): Promise<Origin> {
  const requests: { path: string; range: string }[] = [];
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push({ path, range: req.headers.range ?? "" });
    const file = normalize(join(root, path));
    if (!file.startsWith(`${root}/`)) return void res.writeHead(400).end();
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) return void res.writeHead(404).end();
    let start = 0;
    let end = st.size - 1;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (m?.[1] !== undefined) {
      start = Number(m[1]);
      if (m[2]) end = Math.min(end, Number(m[2]));
      if (start >= st.size) return void res.writeHead(416, { "content-range": `bytes */${st.size}` }).end();
      res.writeHead(206, { "content-range": `bytes ${start}-${end}/${st.size}`, "content-length": end - start + 1 });
    } else {
      res.writeHead(200, { "content-length": st.size, "accept-ranges": "bytes" });
    }
    if (st.size === 0) return void res.end();
    createReadStream(file, { start, end }).pipe(res);
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("no origin port");
  return {
    url: `http://127.0.0.1:${addr.port}`,
    requests,
    stop: () =>
      new Promise<void>((res) => {
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}
