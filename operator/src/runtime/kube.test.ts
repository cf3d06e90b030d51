import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, Kube, type RequestObserver, withRequestSignal } from "./kube.js";

const Node = { group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false };

/** A stand-in API server on loopback and a kubeconfig pointing at it. */
async function stubApi(
  handle: Parameters<typeof createServer>[1],
): Promise<{ kubeconfig: string; close(): Promise<void> }> {
  const server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  const dir = await mkdtemp(join(tmpdir(), "kube-test-"));
  const kubeconfig = join(dir, "kubeconfig");
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
  return {
    kubeconfig,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe("Kube onRequest", () => {
  let api: Awaited<ReturnType<typeof stubApi>>;
  let kubeconfig: string;

  beforeAll(async () => {
    // 404 for one name, an empty watch stream, and a small object otherwise.
    api = await stubApi((req, res) => {
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
    kubeconfig = api.kubeconfig;
  });

  afterAll(() => api.close());

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

describe("Kube deadlines", () => {
  let api: Awaited<ReturnType<typeof stubApi>>;
  let kubeconfig: string;

  beforeAll(async () => {
    api = await stubApi(() => {}); // accepts every request and never answers: a stalled API server
    kubeconfig = api.kubeconfig;
  });

  afterAll(() => api.close());

  const reason = (p: Promise<unknown>) =>
    p.then(
      () => "answered",
      (err: unknown) => (err instanceof ApiError ? err.reason : String(err)),
    );

  it("fails a request the API server never answers after the client's timeout", async () => {
    const kube = await Kube.connect(kubeconfig, { requestTimeoutMs: 50 });
    expect(await reason(kube.get(Node, { name: "n1" }))).toBe("Timeout");
  });

  it("aborts every request made inside withRequestSignal when its signal aborts, however deep", async () => {
    const kube = await Kube.connect(kubeconfig);
    const stop = new AbortController();
    const work = withRequestSignal(stop.signal, async () => {
      await Promise.resolve(); // a request made after an await still belongs to the scope
      return reason(kube.apply(Node, { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } }, "t"));
    });
    setTimeout(() => stop.abort(), 20);
    expect(await work).toBe("Aborted");
  });
});
