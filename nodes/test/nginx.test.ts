// The real nginx (Debian) on loopback, with the configuration the operator will render.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderNginxConf } from "../../operator/src/edge/nginx-config.js";
import { kernelHasKtls, ktlsReadiness, ktlsState, probeKtls } from "../src/ktls.js";
import { forgedQuery, get, NGINX, type RunningNginx, signedPath, startNginx, tempDir } from "./harness.js";

const FILE = "t1/video-1080p.mp4";
const SIZE = 3 * 1024 * 1024 + 123;
let dir: string;
let content: Buffer;
let nginx: RunningNginx;
const now = () => Math.floor(Date.now() / 1000);
const signed = (uri: string, expires = now() + 3600) => signedPath(uri, new Date(expires * 1000));

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
    { name: "bad md5", path: () => `/${FILE}?md5=AAAAAAAAAAAAAAAAAAAAAA&expires=${now() + 3600}` },
    { name: "expired", path: () => signed(`/${FILE}`, now() - 10) },
    { name: "missing expires", path: () => signed(`/${FILE}`).replace(/&expires=\d+/, "") },
    {
      name: "expires changed after signing",
      path: () => signed(`/${FILE}`).replace(/expires=\d+/, `expires=${now() + 99999}`),
    },
    { name: "signed for another file", path: () => `/${FILE}${signed("/t1/other.mp4").slice("/t1/other.mp4".length)}` },
    {
      name: "signed with another secret",
      path: () => signedPath(`/${FILE}`, new Date((now() + 3600) * 1000), "not-the-secret-xxxxxxxx"),
    },
  ])("$name → 403", async ({ path }) => {
    const r = await fetch(path());
    expect(r.status).toBe(403);
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
