// Playback QoE benchmark: every ABR rule over the same traces, in the trace-driven simulator (virtual
// time) and, with --real, through real sockets: clients in their own network namespaces, shaped by tc
// to the same traces, against real edge nginx and the steering service (bench/playback/real.ts; root).
// Prints per rule startup p50/p95, rebuffer ratio, mean and p5 VMAF, switches and bytes per minute,
// failovers, and how close the simulator comes to the real runs on the same traces.
//   npm run bench:playback -- [--json] [--traces 200] [--seconds 600] [--max-buffer 120] [--bola-stable-buffer S]
//                             [--bola-no-abandon] [--real] [--real-traces 6] [--real-seconds 120] [--clients 9]
import { parseArgs } from "node:util";
import { makeBolaRule } from "../player/src/abr/bola.js";
import { ABR_RULES } from "../player/src/abr/index.js";
import { type AnyAbrRule, erase } from "../player/src/abr/types.js";
import { syntheticContent } from "../player/src/content.js";
import { type QoeRow, summarize } from "../player/src/qoe.js";
import type { SessionReport } from "../player/src/session.js";
import { simulate } from "../player/src/sim.js";
import { fixedTraces, type Trace, traceSet } from "../player/src/traces.js";

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    traces: { type: "string", default: "200" },
    seconds: { type: "string", default: "600" },
    real: { type: "boolean", default: false },
    "real-traces": { type: "string", default: "6" },
    "real-seconds": { type: "string", default: "120" },
    clients: { type: "string", default: "9" },
    // Seconds a client buffers at most (the BBA paper's clients: 240 s; 120 s here, ~20 % of a 10 min title).
    "max-buffer": { type: "string", default: "120" },
    // Also simulate BOLA with a larger buffer target (dash.js's stableBufferTime; 12 s by default).
    "bola-stable-buffer": { type: "string" },
    // Also simulate BOLA without its abandonment (what it did before the rule could give a download up).
    "bola-no-abandon": { type: "boolean", default: false },
  },
});
const MAX_BUFFER_S = Number(values["max-buffer"]);

async function simRows(
  traces: readonly Trace[],
  seconds: number,
): Promise<{ rows: QoeRow[]; flat5: Record<string, number> }> {
  const content = syntheticContent("bench-title", seconds);
  const rows: QoeRow[] = [];
  const flat5: Record<string, number> = {};
  const extra = values["bola-stable-buffer"];
  const rules: AnyAbrRule[] = [
    ...ABR_RULES,
    ...(extra ? [erase(makeBolaRule(Number(extra)))] : []),
    ...(values["bola-no-abandon"] ? [erase(makeBolaRule(undefined, false))] : []),
  ];
  for (const rule of rules) {
    const reports: SessionReport[] = [];
    for (const t of traces) reports.push(await simulate(content, rule, t, { maxBufferS: MAX_BUFFER_S }));
    rows.push(summarize(rule.name, reports));
    const flat = fixedTraces(seconds).find((t) => t.name === "flat-5mbit");
    if (flat)
      flat5[rule.name] = (await simulate(content, rule, flat, { maxBufferS: MAX_BUFFER_S })).startupS ?? Number.NaN;
  }
  return { rows, flat5 };
}

function table(title: string, rows: readonly QoeRow[]): string {
  const head =
    "| rule | sessions | startup p50 s | startup p95 s | rebuffer ratio | sessions stalled | mean VMAF | p5 VMAF | mean kbps | switches/min | MB/min | failovers | abandoned |";
  const lines = rows.map(
    (r) =>
      `| ${r.rule} | ${r.sessions} | ${r.startupP50S.toFixed(2)} | ${r.startupP95S.toFixed(2)} | ${r.rebufferRatio.toFixed(4)} | ${r.sessionsWithStall} | ${r.meanVmaf.toFixed(1)} | ${r.p5Vmaf.toFixed(0)} | ${r.meanBitrateKbps.toFixed(0)} | ${r.switchesPerMin.toFixed(2)} | ${(r.bytesPerMin / 1e6).toFixed(1)} | ${r.failovers} | ${r.abandoned} |`,
  );
  return [title, "", head, `|${" --- |".repeat(13)}`, ...lines].join("\n");
}

async function main(): Promise<void> {
  const traceCount = Number(values.traces);
  const seconds = Number(values.seconds);
  const t0 = performance.now();
  const sim = await simRows(traceSet(traceCount, seconds), seconds);
  const simMs = performance.now() - t0;
  const real = values.real
    ? await (await import("./playback/real.js")).realRun({
        traces: traceSet(Number(values["real-traces"]), Number(values["real-seconds"])),
        seconds: Number(values["real-seconds"]),
        clients: Number(values.clients),
        maxBufferS: MAX_BUFFER_S,
        log: (s) => process.stderr.write(`${s}\n`),
      })
    : undefined;
  const command = `npm run bench:playback -- ${process.argv.slice(2).join(" ")}`.trim();
  const out = {
    command,
    ...(real ? { real } : {}),
    simulator: {
      traces: traceCount,
      seconds,
      maxBufferS: MAX_BUFFER_S,
      wallMs: Math.round(simMs),
      rows: sim.rows,
      startupFlat5MbitS: sim.flat5,
    },
  };
  if (values.json) {
    console.log(JSON.stringify(out));
    return;
  }
  console.log(command);
  console.log(
    table(
      `simulator: ${traceCount} traces × ${seconds} s, max buffer ${MAX_BUFFER_S} s (${Math.round(simMs)} ms)`,
      sim.rows,
    ),
  );
  console.log(`startup on flat 5 Mbit/s, 40 ms RTT: ${JSON.stringify(sim.flat5)}`);
  if (real) {
    console.log(table(`\nreal: ${real.traces} traces × ${real.seconds} s, ${real.clients} clients at once`, real.rows));
    console.log(table("\nsimulator, the same traces at the links' RTT", real.simulatorSameTraces));
    console.log(`simulator vs real per (trace, rule): ${JSON.stringify(real.agreement)}`);
  }
}

await main();
