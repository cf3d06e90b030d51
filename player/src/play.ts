/**
 * The reference client's lifecycle: a playback request to steering → the manifest → chunks by HTTP
 * Range from the first ranked URL, the ABR rule choosing each → failover down the ranked URLs → a
 * telemetry report at startup, every `heartbeatS`, and at the end.
 */
import { randomUUID } from "node:crypto";
import type { TelemetryReport } from "../../operator/src/api/telemetry.js";
import type { AnyAbrRule } from "./abr/types.js";
import type { Content } from "./content.js";
import { HttpTransport, type TlsOptions } from "./http-transport.js";
import { playSession, type SessionReport } from "./session.js";
import { requestPlayback, sendReport } from "./steering-client.js";

export type PlayOptions = Readonly<{
  steering: string;
  title: string;
  rule: AnyAbrRule;
  maxBufferS: number;
  heartbeatS: number;
  tls?: TlsOptions | undefined;
  /** Tries of the playback request before giving up (a malformed answer counts as a failed try). */
  playbackTries?: number | undefined;
  /** Called with each telemetry heartbeat's report, before it is sent (a test's view of the session). */
  onProgress?: ((r: SessionReport) => void) | undefined;
}>;

export type PlayResult = SessionReport &
  Readonly<{ rule: string; title: string; session: string; telemetry: { sent: number; accepted: number } }>;

export async function play(o: PlayOptions): Promise<PlayResult> {
  const transport = new HttpTransport(o.tls);
  const session = randomUUID();
  const t0 = transport.now();
  const content = await playbackWithRetries(o);
  const telemetry = { sent: 0, accepted: 0 };
  const pending: Promise<void>[] = [];
  const report = (kind: TelemetryReport["kind"], r: SessionReport) => {
    telemetry.sent++;
    const body = toTelemetry(session, o.title, kind, r, content);
    pending.push(
      sendReport(o.steering, body, o.tls).then((status) => {
        if (status === 202) telemetry.accepted++;
      }),
    );
  };
  try {
    const r = await playSession(content, o.rule, transport, {
      maxBufferS: o.maxBufferS,
      startedAt: t0,
      heartbeatS: o.heartbeatS,
      onStartup: (s) => report("start", s),
      onHeartbeat: (s) => {
        o.onProgress?.(s);
        report(s.done ? "end" : "heartbeat", s);
      },
    });
    await Promise.all(pending);
    return { ...r, rule: o.rule.name, title: o.title, session, telemetry };
  } finally {
    transport.close();
  }
}

async function playbackWithRetries(o: PlayOptions): Promise<Content> {
  const tries = o.playbackTries ?? 3;
  for (let i = 1; ; i++) {
    try {
      return await requestPlayback(o.steering, o.title, o.tls);
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 500 * i));
    }
  }
}

function toTelemetry(
  session: string,
  title: string,
  kind: TelemetryReport["kind"],
  r: SessionReport,
  content: Content,
): TelemetryReport {
  const bitrates = r.bitrates;
  const last = r.lastUrl ?? content.urls[0]?.[0] ?? "";
  let server = "unknown";
  try {
    server = new URL(last).hostname;
  } catch {
    // An unparsable URL was already a failed server; the report still goes out.
  }
  return {
    session,
    title,
    kind,
    server,
    ...(r.startupS === undefined ? {} : { startupMs: Math.min(600_000, r.startupS * 1000) }),
    rebufferMs: r.rebufferS * 1000,
    playedMs: r.playedS * 1000,
    bitrateKbps: bitrates.length === 0 ? 0 : bitrates.reduce((a, b) => a + b, 0) / bitrates.length / 1000,
    failovers: r.failovers,
  };
}
