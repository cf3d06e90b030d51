import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kube, type RequestObserver } from "./kube.js";

const Node = { group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false };

describe("Kube onRequest", () => {
  let server: Server;
  let dir: string;
  let kubeconfig: string;

  beforeAll(async () => {
    // A stand-in API server: 404 for one name, an empty watch stream, and a small object otherwise.
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      req.resume();
      if (url.pathname.endsWith("/missing")) {
        res.writeHead(404, { "content-type": "application/json" }).end('{"reason":"NotFound"}');
      } else if (url.searchParams.get("watch") === "true") {
        res.writeHead(200).end();
      } else {
        res
          .writeHead(200, { "content-type": "application/json" })
          .end('{"items":[],"metadata":{"resourceVersion":"1"}}');
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    dir = await mkdtemp(join(tmpdir(), "kube-test-"));
    kubeconfig = join(dir, "kubeconfig");
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } }],
        users: [{ name: "u", user: {} }],
        contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
        "current-context": "x",
      }),
    );
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it("reports every request once, with its method, path, watch flag and status", async () => {
    const seen: Parameters<RequestObserver>[0][] = [];
    const kube = await Kube.connect(kubeconfig, { onRequest: (r) => seen.push(r) });
    await kube.list(Node);
    expect(await kube.get(Node, { name: "missing" })).toBeUndefined();
    await kube.apply(Node, { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } }, "test");
    await kube.watch(Node, { resourceVersion: "1" }, () => {}, new AbortController().signal);
    expect(seen).toEqual([
      { method: "GET", path: "/api/v1/nodes", watch: false, status: 200 },
      { method: "GET", path: "/api/v1/nodes/missing", watch: false, status: 404 },
      { method: "PATCH", path: "/api/v1/nodes/n1", watch: false, status: 200 },
      { method: "GET", path: "/api/v1/nodes", watch: true, status: 200 },
    ]);
  });

  it("is optional", async () => {
    const kube = await Kube.connect(kubeconfig);
    expect((await kube.list(Node)).items).toEqual([]);
  });
});
