// `edgefleet-agent init` as the init container runs it: settings → nginx.conf and the njs link
// verifier, which the real nginx accepts; no key is in either (nginx reads them from the mounted Secret).
import { execFile, spawn } from "node:child_process";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { edgeKeyEntries, NGINX, selfSignedCert, tempDir, writeLinkKeys } from "./harness.js";

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
  it("writes a config and a verifier nginx accepts, with no key in either", async () => {
    const { certPath, keyPath } = await selfSignedCert(dir);
    const keys = await writeLinkKeys(join(dir, "link-keys"), edgeKeyEntries());
    const settings = {
      httpPort: 8080,
      httpsPort: 8443,
      statusPort: 8081,
      contentPath: join(dir, "content"),
      certPath,
      keyPath,
      ktls: "auto",
      linkKeysDir: keys,
      linkVerifierPath: join(dir, "js", "edgefleet-link.js"),
      runDir: join(dir, "run", "nginx"),
    };
    await writeFile(join(dir, "edge.yaml"), stringify(settings));
    const r = await agent(["init", "--settings", join(dir, "edge.yaml"), "--out", dir]);
    expect(r.code, r.stderr).toBe(0);
    const conf = await readFile(join(dir, "nginx.conf"), "utf8");
    const js = await readFile(join(dir, "js", "edgefleet-link.js"), "utf8");
    expect(conf).toContain(`js_import edgefleet_link from "${join(dir, "js", "edgefleet-link.js")}";`);
    expect(js).toContain(JSON.stringify(`${keys}/`));
    for (const key of Object.values(edgeKeyEntries())) expect(conf + js).not.toContain(key);
    expect((await stat(join(dir, "run", "nginx"))).isDirectory()).toBe(true); // nginx makes its temp dirs, not this
    await promisify(execFile)(NGINX, ["-t", "-q", "-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "t.log")]);
  });

  it("a bad setting fails with the field named, and writes no nginx.conf", async () => {
    const out = join(dir, "bad");
    await writeFile(join(dir, "bad.yaml"), stringify({ httpPort: 80, httpsPort: 443, statusPort: 99999 }));
    const r = await agent(["init", "--settings", join(dir, "bad.yaml"), "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("edge.statusPort:");
    expect(r.stderr).toContain("edge.contentPath:");
    await expect(readFile(join(out, "nginx.conf"))).rejects.toThrow(/ENOENT/);
  });
});
