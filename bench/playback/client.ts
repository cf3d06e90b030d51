// One real-playback client of bench/playback/real.ts, run inside its network namespace:
//   node --import tsx client.ts <steering> <title> <rule> <maxBufferS> <ca.pem>
// Prints "ready" once loaded, plays when a line arrives on stdin (so that every client and the trace
// start together, none paying another's module loading), then prints its PlayResult as one JSON line.
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { abrRule } from "../../player/src/abr/index.js";
import { play } from "../../player/src/play.js";

const [steering, title, ruleName, maxBuffer, caPath] = process.argv.slice(2);
const rule = abrRule(ruleName ?? "");
if (!steering || !title || !rule || !maxBuffer || !caPath)
  throw new Error("usage: client.ts <steering> <title> <rule> <maxBufferS> <ca.pem>");
const ca = await readFile(caPath);
const lines = createInterface({ input: process.stdin });
console.log("ready");
await new Promise<void>((r) => lines.once("line", () => r()));
lines.close();
try {
  const r = await play({
    steering,
    title,
    rule,
    maxBufferS: Number(maxBuffer),
    heartbeatS: 10,
    tls: { ca, servername: "localhost" },
  });
  console.log(JSON.stringify(r));
} catch (err) {
  console.log(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
}
