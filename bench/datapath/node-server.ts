// The Node.js baseline: a plain file server (node:http / node:https, fs streams), as simple as a
// Node.js edge would be. Run as its own process so its CPU can be read from /proc.
// Usage: node --import tsx node-server.ts <root> <port> [<cert> <key>]
import { createReadStream, readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { join, normalize } from "node:path";

const [root, port, cert, key] = process.argv.slice(2);
if (root === undefined || port === undefined) throw new Error("usage: node-server.ts <root> <port> [<cert> <key>]");

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const file = normalize(join(root ?? "/", new URL(req.url ?? "/", "http://x").pathname));
  if (!file.startsWith(`${root}/`)) return void res.writeHead(400).end();
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) return void res.writeHead(404).end();
  res.writeHead(200, { "content-length": st.size, "content-type": "video/mp4" });
  createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(res);
}

const server =
  cert && key ? createTlsServer({ cert: readFileSync(cert), key: readFileSync(key) }, handle) : createServer(handle);
server.keepAliveTimeout = 65_000;
server.listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
