// Real processes for the tests and the benchmark: nginx (Debian) with its own prefix in a temp dir, a
// plain node:http origin, free loopback ports, a self-signed certificate from openssl.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { promisify } from "node:util";
import {
  type EdgeSettings,
  type EdgeSettingsInput,
  parseEdgeSettings,
  renderNginxConf,
  renderSecretInclude,
  STATUS_LOCATION,
} from "../../operator/src/edge/nginx-config.js";
import { signUrl } from "../../operator/src/steering/sign-url.js";

export const NGINX = process.env.NGINX_BIN ?? "/usr/sbin/nginx";
export const SECRET = "test-secret-0123456789abcdef";

/** The path and signed query the playback API would hand out for `path` (steering/sign-url.ts). */
export function signedPath(path: string, expiresAt: Date, secret = SECRET): string {
  const base = "http://edge";
  return signUrl({ baseUrl: base, path, secret, expiresAt }).slice(base.length);
}

/**
 * Signs any path, as someone holding the secret could: signUrl refuses "..", dot segments and
 * encoded characters, and the tests must show nginx refuses them even when the signature is good.
 * Same formula as nginx's `secure_link_md5 "$secure_link_expires$uri <secret>"`.
 */
export function forgedQuery(path: string, expiresUnix: number, secret = SECRET): string {
  return `md5=${createHash("md5").update(`${expiresUnix}${path} ${secret}`).digest("base64url")}&expires=${expiresUnix}`;
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

/** Starts nginx in the foreground on free loopback ports, serving `contentPath`; resolves once stub_status answers. */
export async function startNginx(
  dir: string,
  contentPath: string,
  over: Partial<EdgeSettingsInput> = {},
): Promise<RunningNginx> {
  const runDir = join(dir, "run");
  await mkdir(runDir, { recursive: true });
  const { certPath, keyPath, cert } = await selfSignedCert(dir);
  const secretIncludePath = join(dir, "secret.conf");
  await writeFile(secretIncludePath, renderSecretInclude(SECRET));
  const input: EdgeSettingsInput = {
    httpPort: await freePort(),
    httpsPort: await freePort(),
    statusPort: await freePort(),
    listen: ["127.0.0.1"],
    contentPath,
    certPath,
    keyPath,
    ktls: "auto",
    secretIncludePath,
    runDir,
    errorLog: join(dir, "error.log"),
    workerProcesses: 1,
    ...over,
  };
  const conf = renderNginxConf(input);
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
  opts: { headers?: Record<string, string>; ca?: Buffer; method?: string } = {},
): Promise<Resp> {
  const u = new URL(url);
  // Keep "..", "%2e" and the like exactly as written: URL() would resolve them.
  const rawPath = url.slice(url.indexOf("/", u.protocol.length + 2));
  const req = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const r = req(
      {
        host: u.hostname,
        port: u.port,
        path: rawPath,
        method: opts.method ?? "GET",
        headers: opts.headers,
        ca: opts.ca,
        servername: "localhost",
        agent: false,
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
