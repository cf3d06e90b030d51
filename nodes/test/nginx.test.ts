// The real nginx (Debian) on loopback, with the configuration the operator will render.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LINK_KIDS_LOCATION, renderNginxConf } from "../../operator/src/edge/nginx-config.js";
import { deriveLinkKey } from "../../operator/src/steering/sign-url.js";
import { kernelHasKtls, ktlsReadiness, ktlsState, probeKtls } from "../src/ktls.js";
import {
  CLUSTER,
  edgeKeyEntries,
  forgedQuery,
  get,
  MASTER,
  NGINX,
  type RunningNginx,
  signedPath,
  startNginx,
  tempDir,
  writeLinkKeys,
} from "./harness.js";

const FILE = "t1/video-1080p.mp4";
const SIZE = 3 * 1024 * 1024 + 123;
let dir: string;
let content: Buffer;
let nginx: RunningNginx;
const now = () => Math.floor(Date.now() / 1000);
const signed = (uri: string, expires = now() + 3600) => signedPath(uri, new Date(expires * 1000));
const inAnHour = () => new Date((now() + 3600) * 1000);
const OTHER_MASTER = Buffer.from("another-master-k1-0123456789abcdefghij");

beforeAll(async () => {
  dir = await tempDir("edge-nginx-");
  const root = join(dir, "content");
  await mkdir(join(root, "t1"), { recursive: true });
  content = randomBytes(SIZE);
  await writeFile(join(root, FILE), content);
  await mkdir(join(root, ".edgefleet", "partial"), { recursive: true });
  await writeFile(join(root, ".edgefleet", "partial", "x.part"), "partial");
  await writeFile(join(dir, "outside.txt"), "outside the content dir");
  await symlink(join(dir, "outside.txt"), join(root, "t1", "link.mp4"));
  nginx = await startNginx(dir, root);
});

afterAll(async () => {
  await nginx?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe.each(["http", "https"] as const)("%s", (scheme) => {
  const url = (path: string) => `${scheme === "http" ? nginx.http : nginx.https}${path}`;
  const fetch = (path: string, headers?: Record<string, string>) => get(url(path), { headers, ca: nginx.cert });

  it("serves a signed file whole, with long cache headers", async () => {
    const r = await fetch(signed(`/${FILE}`));
    expect(r.status).toBe(200);
    expect(r.body.equals(content)).toBe(true);
    expect(r.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(r.headers["content-type"]).toBe("video/mp4");
  });

  it.each([
    { range: "bytes=0-0", start: 0, end: 0 },
    { range: "bytes=100-1048675", start: 100, end: 1048675 },
    { range: "bytes=2097152-", start: 2097152, end: SIZE - 1 },
    { range: "bytes=-500", start: SIZE - 500, end: SIZE - 1 },
  ])("range $range is byte-exact", async ({ range, start, end }) => {
    const r = await fetch(signed(`/${FILE}`), { Range: range });
    expect(r.status).toBe(206);
    expect(r.headers["content-range"]).toBe(`bytes ${start}-${end}/${SIZE}`);
    expect(r.body.equals(content.subarray(start, end + 1))).toBe(true);
  });

  it.each([
    { name: "no signature", path: () => `/${FILE}` },
    { name: "bad signature", path: () => signed(`/${FILE}`).replace(/sig=[^&]+/, "sig=AAAAAAAAAAAAAAAAAAAAAA") },
    { name: "expired", path: () => signed(`/${FILE}`, now() - 10) },
    { name: "missing exp", path: () => signed(`/${FILE}`).replace(/&exp=\d+/, "") },
    { name: "exp changed after signing", path: () => signed(`/${FILE}`).replace(/exp=\d+/, `exp=${now() + 99999}`) },
    { name: "signed for another file", path: () => `/${FILE}${signed("/t1/other.mp4").slice("/t1/other.mp4".length)}` },
    {
      name: "signed for another cluster",
      path: () => signedPath(`/${FILE}`, inAnHour(), { key: deriveLinkKey(MASTER, CLUSTER.namespace, "other-edge") }),
    },
    {
      name: "signed with another master of the same kid",
      path: () =>
        signedPath(`/${FILE}`, inAnHour(), { key: deriveLinkKey(OTHER_MASTER, CLUSTER.namespace, CLUSTER.name) }),
    },
    { name: "signed with a kid this edge lacks", path: () => signedPath(`/${FILE}`, inAnHour(), { kid: "k9" }) },
    {
      name: "signed for another client network",
      path: () => signedPath(`/${FILE}`, inAnHour(), { net: "198.51.100.0/24" }),
    },
    { name: "net widened to any after signing", path: () => signed(`/${FILE}`).replace(/net=[^&]+/, "net=any") },
  ])("$name → 403", async ({ path }) => {
    const r = await fetch(path());
    expect(r.status).toBe(403);
  });

  it("binds a link to the client's /24: another loopback /24 gets 403, an any-network link passes", async () => {
    const other = { localAddress: "127.0.1.5" };
    const get1 = (path: string, o: { localAddress?: string } = {}) => get(url(path), { ca: nginx.cert, ...o });
    expect((await get1(signed(`/${FILE}`))).status).toBe(200);
    expect((await get1(signed(`/${FILE}`), other)).status).toBe(403);
    expect((await get1(signedPath(`/${FILE}`, inAnHour(), { net: "127.0.1.0/24" }), other)).status).toBe(200);
    expect((await get1(signedPath(`/${FILE}`, inAnHour(), { net: "any" }), other)).status).toBe(200);
  });

  it.each([
    "/../etc/passwd",
    "/t1/../../etc/passwd",
    "/%2e%2e/etc/passwd",
    "/t1/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2fetc%2fpasswd",
    "/t1/..%2F..%2Foutside.txt",
  ])("traversal %s → 4xx, even when signed", async (path) => {
    for (const p of [path, `${path}?${forgedQuery(path, now() + 3600)}`]) {
      const r = await fetch(p);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.body.toString()).not.toContain("root:");
    }
  });

  it("a symlink out of the content dir is refused, even when signed", async () => {
    const r = await fetch(signed("/t1/link.mp4"));
    expect(r.status).toBe(403);
    expect(r.body.toString()).not.toContain("outside the content dir");
  });

  it("in-progress fills under a dot path are never served, even when signed", async () => {
    const p = "/.edgefleet/partial/x.part";
    const r = await fetch(`${p}?${forgedQuery(p, now() + 3600)}`);
    expect(r.status).toBe(404);
  });

  it("is read-only: other methods → 403", async () => {
    const r = await get(url(signed(`/${FILE}`)), { method: "DELETE", ca: nginx.cert });
    expect(r.status).toBe(403);
  });
});

describe("key rotation, without a reload", () => {
  const M2 = Buffer.from("test-master-k2-0123456789abcdefghijkl");
  const k2 = () =>
    signedPath(`/${FILE}`, inAnHour(), { kid: "k2", key: deriveLinkKey(M2, CLUSTER.namespace, CLUSTER.name) });
  const kids = async () => (await get(`${new URL(nginx.status).origin}${LINK_KIDS_LOCATION}`)).body.toString();
  const fetch1 = async (path: string) => (await get(`${nginx.http}${path}`)).status;

  it("accepts a kid once its key lands in the directory, and refuses one once its key is gone", async () => {
    const keysDir = nginx.settings.linkKeysDir;
    const workers = await nginx.pids();
    expect(await kids()).toBe("k1\n");
    expect(await fetch1(k2())).toBe(403);
    await writeLinkKeys(keysDir, edgeKeyEntries({ k1: MASTER, k2: M2 }));
    expect(await kids()).toBe("k1,k2\n");
    expect(await fetch1(k2())).toBe(200);
    expect(await fetch1(signed(`/${FILE}`))).toBe(200);
    await writeLinkKeys(keysDir, edgeKeyEntries({ k2: M2 }));
    expect(await kids()).toBe("k2\n");
    expect(await fetch1(k2())).toBe(200);
    expect(await fetch1(signed(`/${FILE}`))).toBe(403);
    expect(await nginx.pids()).toEqual(workers); // the same master and workers: no reload
    await writeLinkKeys(keysDir, edgeKeyEntries());
  });

  it("answers the kids only on loopback's status server, never on the client ports", async () => {
    expect((await get(`${nginx.http}${LINK_KIDS_LOCATION}`)).status).toBe(403);
  });
});

describe("IPv6 clients", () => {
  let v6: RunningNginx | undefined;
  beforeAll(async () => {
    v6 = await startNginx(join(dir, "v6"), join(dir, "content"), { listen: ["[::1]"] }).catch(() => undefined);
  });
  afterAll(() => v6?.stop());

  it("binds a link to the client's /48", async (ctx) => {
    if (!v6) return ctx.skip();
    const base = v6.http.replace("127.0.0.1", "[::1]");
    const status = async (net: string) => (await get(`${base}${signedPath(`/${FILE}`, inAnHour(), { net })}`)).status;
    expect(await status("::/48")).toBe(200);
    expect(await status("2001:db8::/48")).toBe(403);
    expect(await status("127.0.0.0/24")).toBe(403);
    expect(await status("any")).toBe(200);
  });
});

describe("counters and kTLS on this machine", () => {
  it("stub_status answers on loopback", async () => {
    const r = await get(nginx.status);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toMatch(/^Active connections: \d+/);
  });

  it("HTTPS works with KTLS asked for; where the kernel lacks tls, nginx fell back to userspace TLS", async () => {
    const probe = await probeKtls();
    const r = await get(`${nginx.https}${signed(`/${FILE}`)}`, { ca: nginx.cert });
    expect(r.body.equals(content)).toBe(true);
    if (!kernelHasKtls(probe)) {
      // This machine: tcp_available_ulp has no "tls" and /proc/net/tls_stat is absent.
      expect(probe.tlsStat).toBeUndefined();
      expect(ktlsState("auto", probe)).toBe("unavailable");
      expect(ktlsReadiness("auto", probe).ready).toBe(true);
      expect(ktlsReadiness("required", probe)).toMatchObject({ ready: false });
    } else {
      expect(ktlsState("auto", probe)).toBe("active");
    }
    const log = await readFile(join(dir, "error.log"), "utf8");
    expect(log).not.toMatch(/\[(emerg|alert|crit)\]/);
  });
});

describe("nginx -t accepts every rendering", () => {
  it.each([
    { ktls: "off", sendfile: true },
    { ktls: "required", sendfile: true },
    { ktls: "auto", sendfile: false },
  ] as const)("ktls $ktls, sendfile $sendfile", async ({ ktls, sendfile }) => {
    const confPath = join(dir, `t-${ktls}-${sendfile}.conf`);
    await writeFile(confPath, renderNginxConf({ ...nginx.settings, ktls, sendfile, accessLogUdpPort: 5514 }));
    await promisify(execFile)(NGINX, ["-t", "-q", "-p", dir, "-c", confPath, "-e", join(dir, "t.log")]);
  });
});
