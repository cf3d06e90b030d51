// `edgefleet-agent init` as the init container runs it: settings + Secret file → nginx.conf that the
// real nginx accepts, with the secret only in the include.
import { execFile, spawn } from "node:child_process";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { NGINX, selfSignedCert, tempDir } from "./harness.js";

const ROOT = join(import.meta.dirname, "..", "..");
const MAIN = join(ROOT, "nodes", "src", "main.ts");
let dir: string;

beforeAll(async () => {
  dir = await tempDir("edge-init-");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function agent(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    c.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    c.on("exit", (code) => res({ code, stderr }));
  });
}

describe("agent init", () => {
  it("writes a config nginx accepts, the secret in its own include", async () => {
    const { certPath, keyPath } = await selfSignedCert(dir);
    const settings = {
      httpPort: 8080,
      httpsPort: 8443,
      statusPort: 8081,
      contentPath: join(dir, "content"),
      certPath,
      keyPath,
      ktls: "auto",
      secretIncludePath: join(dir, "secret.conf"),
      runDir: join(dir, "run", "nginx"),
    };
    await writeFile(join(dir, "edge.yaml"), stringify(settings));
    await writeFile(join(dir, "key"), "a-secret-from-the-Secret-0123\n");
    const r = await agent(["init", "--settings", join(dir, "edge.yaml"), "--secret", join(dir, "key"), "--out", dir]);
    expect(r.code).toBe(0);
    const conf = await readFile(join(dir, "nginx.conf"), "utf8");
    expect(conf).not.toContain("a-secret-from-the-Secret");
    expect(await readFile(join(dir, "secret.conf"), "utf8")).toContain('"a-secret-from-the-Secret-0123"');
    expect((await stat(join(dir, "run", "nginx"))).isDirectory()).toBe(true); // nginx makes its temp dirs, not this
    await promisify(execFile)(NGINX, ["-t", "-q", "-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "t.log")]);
  });

  it("a bad setting fails with the field named, and writes no nginx.conf", async () => {
    const out = join(dir, "bad");
    await writeFile(join(dir, "bad.yaml"), stringify({ httpPort: 80, httpsPort: 443, statusPort: 99999 }));
    await writeFile(join(dir, "key"), "a-secret-from-the-Secret-0123\n");
    const r = await agent(["init", "--settings", join(dir, "bad.yaml"), "--secret", join(dir, "key"), "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("edge.statusPort:");
    expect(r.stderr).toContain("edge.contentPath:");
    await expect(readFile(join(out, "nginx.conf"))).rejects.toThrow(/ENOENT/);
  });
});
