/**
 * `edgefleet steering` flags, and the real process stopped by SIGTERM while the API server is away:
 * it answers 503 NotSynced meanwhile and exits 0 within its grace period.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "./main.js";
import { steeringServiceConfig } from "./serve.js";

describe("steering flags", () => {
  it("leave every setting at the service's default when absent", () => {
    expect(steeringServiceConfig({})).toMatchObject({
      maxClusters: 3,
      urlTtlSeconds: 21_600,
      staleWhileErrorSeconds: 600,
      manifestCacheBytes: 256 * 2 ** 20,
      maxConnections: 8192,
      headersTimeoutSeconds: 5,
      requestTimeoutSeconds: 10,
      keepAliveTimeoutSeconds: 5,
      rateLimitPerSecond: 0,
      rateLimitBurst: 20,
    });
  });

  it("set each setting", () => {
    const c = steeringServiceConfig({
      "stale-while-error-seconds": "120",
      "manifest-cache-size": "64Mi",
      "max-connections": "1000",
      "headers-timeout-seconds": "2.5",
      "request-timeout-seconds": "4",
      "keep-alive-timeout-seconds": "1",
      "rate-limit-per-second": "10",
      "rate-limit-burst": "30",
      "trusted-proxy": ["10.0.0.0/8"],
    });
    expect(c).toMatchObject({
      staleWhileErrorSeconds: 120,
      manifestCacheBytes: 64 * 2 ** 20,
      maxConnections: 1000,
      headersTimeoutSeconds: 2.5,
      requestTimeoutSeconds: 4,
      keepAliveTimeoutSeconds: 1,
      rateLimitPerSecond: 10,
      rateLimitBurst: 30,
      trustedProxies: ["10.0.0.0/8"],
    });
    expect(steeringServiceConfig({ "manifest-cache-size": "0" }).manifestCacheBytes).toBe(0);
  });

  it.each([
    { flags: { "max-connections": "0" }, want: /^--max-connections: / },
    { flags: { "max-connections": "many" }, want: /^--max-connections: / },
    { flags: { "stale-while-error-seconds": "-1" }, want: /^--stale-while-error-seconds: / },
    { flags: { "manifest-cache-size": "lots" }, want: /^--manifest-cache-size: "lots" is not a byte quantity/ },
    {
      flags: { "headers-timeout-seconds": "5", "request-timeout-seconds": "1" },
      want: /^--request-timeout-seconds: must be at least the headers timeout/,
    },
    { flags: { "rate-limit-burst": "0.5" }, want: /^--rate-limit-burst: / },
  ])("reject $flags naming the flag", ({ flags, want }) => {
    expect(() => steeringServiceConfig(flags)).toThrow(want);
  });

  it("a bad flag exits 2 with one line naming it", async () => {
    const errs: string[] = [];
    const code = await main(
      ["steering", "--max-connections=0", "--url-signing-keys-dir=/nonexistent"],
      () => {},
      (s) => errs.push(s),
    );
    expect([code, errs.join("")]).toEqual([2, expect.stringMatching(/^error: --max-connections: /)]);
  });

  it.each([
    { name: "no keys directory", flag: undefined, want: /^error: --url-signing-keys-dir: required/ },
    {
      name: "a directory that is not there",
      flag: "/nonexistent",
      want: /^error: --url-signing-keys-dir: \/nonexistent: /,
    },
  ])("without its master keys steering exits 2 naming the flag: $name", async ({ flag, want }) => {
    const errs: string[] = [];
    const args = ["steering", ...(flag === undefined ? [] : [`--url-signing-keys-dir=${flag}`])];
    expect(
      await main(
        args,
        () => {},
        (s) => errs.push(s),
      ),
    ).toBe(2);
    expect(errs.join("")).toMatch(want);
  });
});

const mainTs = fileURLToPath(new URL("./main.ts", import.meta.url));

/** A kubeconfig whose API server is at `port` on loopback. */
const kubeconfigFor = (port: number) => `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`;

/** Starts `edgefleet steering`; resolves with the process and its port once it logs that it listens. */
async function startProcess(dir: string, kubeconfig: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      mainTs,
      "steering",
      `--kubeconfig=${kubeconfig}`,
      `--url-signing-keys-dir=${join(dir, "keys")}`,
      "--host=127.0.0.1",
      "--port=0",
      "--health-port=0",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  for await (const line of createInterface({ input: child.stdout ?? process.stdin })) {
    const m = /"msg":"steering listening"/.test(line) ? (JSON.parse(line) as { address: { port: number } }) : undefined;
    if (m !== undefined) return { child, port: m.address.port };
  }
  throw new Error("edgefleet steering exited before listening");
}

describe("edgefleet steering, SIGTERM during an API outage", () => {
  let dir: string;
  let refusedPort: number;
  let blackHole: Server;
  const held: Socket[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgefleet-serve-"));
    await mkdir(join(dir, "keys"));
    await writeFile(join(dir, "keys", "k1.key"), "0123456789abcdef0123456789abcdef\n");
    await writeFile(join(dir, "keys", "primary"), "k1\n");
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    refusedPort = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    // Accepts connections and never answers: a stalled API server.
    blackHole = createServer((s) => held.push(s));
    await new Promise<void>((r) => blackHole.listen(0, "127.0.0.1", r));
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise((r) => blackHole.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    { name: "refuses connections", port: () => refusedPort },
    { name: "accepts and never answers", port: () => (blackHole.address() as { port: number }).port },
  ])(
    "the API server $name: 503 NotSynced meanwhile, then exit 0 within the grace period",
    async ({ port }) => {
      const kubeconfig = join(dir, `kubeconfig-${port()}.yaml`);
      await writeFile(kubeconfig, kubeconfigFor(port()));
      const st = await startProcess(dir, kubeconfig);
      const exited = new Promise<number | null>((r) => st.child.on("exit", (code) => r(code)));
      const r = await fetch(`http://127.0.0.1:${st.port}/v1/steering?ip=192.0.2.1`);
      expect([r.status, ((await r.json()) as { error: { code: string } }).error.code]).toEqual([503, "NotSynced"]);
      const t0 = performance.now();
      st.child.kill("SIGTERM");
      const code = await exited;
      const seconds = (performance.now() - t0) / 1000;
      expect(code).toBe(0);
      expect(seconds).toBeLessThan(30); // Kubernetes' default terminationGracePeriodSeconds; it takes about 1 s
    },
    60_000,
  );
});
