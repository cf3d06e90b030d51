/**
 * /healthz (the process is alive), /readyz (its caches can be relied on; 503 says why not) and /metrics
 * (Prometheus text format).
 */
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import type { Readiness } from "./caches.js";

export type Probes = Readonly<{ ready: () => Readiness; registry: Registry }>;

export function startHealthServer(port: number, host: string, probes: Probes): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") {
      res.writeHead(405).end();
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    } else if (path === "/readyz") {
      const { ok, reason } = probes.ready();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(reason);
    } else if (path === "/metrics") {
      probes.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": probes.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
