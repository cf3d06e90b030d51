/**
 * `edgefleet play` (and `npm run play --`) `--steering URL --title ID [--rule bba|bola|throughput]
 *  [--max-buffer 120] [--heartbeat 10] [--ca edge-ca.pem] [--servername NAME] [--json]`: plays a title
 * through the whole system and prints what the viewer felt (with --json, each chunk's sha256 too). The
 * operator image's CLI (operator/src/cli/main.ts) hands `play` to runPlay, so both parse flags here.
 * Exit 0 when it played to the end, 1 when playback failed (the message says why), 2 on bad flags.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ABR_RULES, abrRule } from "./abr/index.js";
import { type PlayResult, play } from "./play.js";
import { PlaybackFailedError } from "./session.js";
import { PlaybackRequestError } from "./steering-client.js";

const positive = (flag: string, v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new PlayFlagError(`--${flag}: must be a positive number, not "${v}"`);
  return n;
};

export class PlayFlagError extends Error {
  override name = "PlayFlagError";
}

export function summary(r: PlayResult): Record<string, unknown> {
  const vmaf = r.vmafs.length === 0 ? 0 : r.vmafs.reduce((a, b) => a + b, 0) / r.vmafs.length;
  return {
    title: r.title,
    rule: r.rule,
    session: r.session,
    startupS: r.startupS,
    rebufferS: r.rebufferS,
    playedS: r.playedS,
    rebufferRatio: r.playedS > 0 ? r.rebufferS / r.playedS : 0,
    meanVmaf: vmaf,
    switches: r.switches,
    failovers: r.failovers,
    failures: r.failures,
    bytes: r.bytes,
    chunks: r.bitrates.length,
    bitrates: r.bitrates,
    servers: r.servers,
    chunkSha256: r.chunkSha256,
    vmafs: r.vmafs,
    telemetry: r.telemetry,
  };
}

export async function runPlay(
  argv: readonly string[],
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  let opts: Parameters<typeof play>[0];
  let json = false;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        steering: { type: "string" },
        title: { type: "string" },
        rule: { type: "string", default: "bba" },
        "max-buffer": { type: "string", default: "120" },
        heartbeat: { type: "string", default: "10" },
        ca: { type: "string" },
        servername: { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
    json = values.json;
    if (!values.steering) throw new PlayFlagError("--steering: the steering service's URL is required");
    if (!values.title) throw new PlayFlagError("--title: the title id is required");
    const rule = abrRule(values.rule);
    if (!rule)
      throw new PlayFlagError(`--rule: one of ${ABR_RULES.map((r) => r.name).join(", ")}, not "${values.rule}"`);
    opts = {
      steering: values.steering,
      title: values.title,
      rule,
      maxBufferS: positive("max-buffer", values["max-buffer"]),
      heartbeatS: positive("heartbeat", values.heartbeat),
      tls: { ca: values.ca ? await readFile(values.ca) : undefined, servername: values.servername },
    };
  } catch (e) {
    err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  try {
    const r = await play(opts);
    const s = summary(r);
    if (json) out(JSON.stringify(s));
    else
      out(
        `${r.title} with ${r.rule}: startup ${r.startupS?.toFixed(2)} s, stalled ${r.rebufferS.toFixed(1)} s of ${r.playedS.toFixed(0)} s, mean VMAF ${(s.meanVmaf as number).toFixed(1)}, ${r.switches} switches, ${r.failovers} failovers, ${r.telemetry.accepted}/${r.telemetry.sent} reports accepted`,
      );
    return 0;
  } catch (e) {
    if (e instanceof PlaybackRequestError || e instanceof PlaybackFailedError) {
      err(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) process.exitCode = await runPlay(process.argv.slice(2), console.log, console.error);
