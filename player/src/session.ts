/**
 * One playback session, the same loop in the simulator and in the real player: before each chunk the
 * ABR rule decides (buffer, ladder, history), the player waits if the rule or a full buffer says so,
 * fetches the chunk's byte range from the current server, and on a failure (an error, a 403 or other
 * status, a wrong length, an HTML answer, a stall) fails over to the next ranked server and decides
 * again. Time comes from the Transport: virtual in the simulator, the wall clock in the real player.
 *
 * Playback starts as soon as one chunk is buffered (startup time: from the session's start, which for
 * the real player includes the playback request) and resumes after a stall the same way. A download
 * is given up when no byte arrives for `stallSeconds(buffer)`: half the buffer, between 2 and 8 s, so a
 * client with 10 s of buffer leaves a silent server after 5 s with 5 s still to play.
 */
import { chunkRanges } from "../../operator/src/ladder/chunks.js";
import type { AbrInput, AnyAbrRule, Download } from "./abr/types.js";
import { type Content, chunkCount, chunkDuration } from "./content.js";

/** Why a download ended without its chunk; "abandoned" is the player's choice (a lower rendition), not the server's fault. */
export type FailureReason = "error" | "status" | "timeout" | "stall" | "length" | "html" | "abandoned";

/**
 * A delivered chunk carries the sha256 of its bytes when the transport read real ones (not the
 * simulator); a failed download, how many bytes it got before it ended.
 */
export type FetchResult = Readonly<
  | { ok: true; sha256?: string | undefined }
  | { ok: false; reason: FailureReason; detail: string; bytes?: number | undefined }
>;

/** A download's progress: bytes received, seconds since the request was sent. */
export type Progress = Readonly<{ bytes: number; seconds: number }>;

export type FetchRequest = Readonly<{
  url: string;
  start: number;
  end: number;
  stallS: number;
  /** Asked as bytes arrive (every ABANDON_CHECK_S at most): true gives the download up as "abandoned". */
  abandon?: ((p: Progress) => boolean) | undefined;
}>;

/** How often a transport asks whether to abandon a download. */
export const ABANDON_CHECK_S = 0.25;

export interface Transport {
  /** Seconds on the session's clock. */
  now(): number;
  wait(seconds: number): Promise<void>;
  /** Fetches bytes [start, end] of url; fails when no byte arrives for stallS seconds. */
  fetch(req: FetchRequest): Promise<FetchResult>;
}

export type SessionOptions = Readonly<{
  maxBufferS: number;
  /** Called every heartbeatS of session time and once at the end (the real player POSTs it). */
  heartbeatS?: number | undefined;
  onHeartbeat?: ((r: SessionReport) => void) | undefined;
  /** Called once, when the first chunk is in and playback starts. */
  onStartup?: ((r: SessionReport) => void) | undefined;
  /** Seconds already spent before the first chunk (the real player's playback request). */
  startedAt?: number | undefined;
}>;

export type SessionReport = Readonly<{
  /** Seconds to the first frame; undefined while nothing played. */
  startupS: number | undefined;
  /** Seconds stalled after playback started. */
  rebufferS: number;
  /** Seconds of content played (or buffered to play, at the end). */
  playedS: number;
  switches: number;
  failovers: number;
  /** Downloads given up part-way for a lower rendition of the same chunk (the rule's abandonment). */
  abandoned: number;
  bytes: number;
  /** VMAF of each fetched chunk, in order. */
  vmafs: readonly number[];
  /** Bitrate of each fetched chunk, bits per second. */
  bitrates: readonly number[];
  /** Which server rank each chunk came from. */
  servers: readonly number[];
  /** The sha256 of each chunk's bytes as received, when the transport hashes them (the real player does). */
  chunkSha256: readonly (string | undefined)[];
  /** Seconds of content buffered when the report was made. */
  bufferS: number;
  /** Why downloads failed, in order. */
  failures: readonly string[];
  /** The URL the last chunk came from. */
  lastUrl: string | undefined;
  done: boolean;
}>;

export const stallSeconds = (bufferS: number): number => Math.min(8, Math.max(2, bufferS / 2));

/** Thrown when no server has delivered a chunk for GIVE_UP_S. */
export class PlaybackFailedError extends Error {
  override name = "PlaybackFailedError";
}

/** How long a player keeps trying while every server fails (a viewer gives up long before). */
export const GIVE_UP_S = 60;
/** After every server failed once in a row, a pause before the next round (times the round, at most 4 s). */
const ROUND_PAUSE_S = 1;

export async function playSession(
  content: Content,
  rule: AnyAbrRule,
  transport: Transport,
  o: SessionOptions,
): Promise<SessionReport> {
  const abr = rule.start(content.ladder);
  const n = chunkCount(content.durationSeconds);
  const t0 = o.startedAt ?? transport.now();
  let last = transport.now();
  let bufferS = 0;
  let playing = false;
  let rebuffered = false;
  let lastFetchEnd = last;
  let server = 0;
  let failedInARow = 0;
  let failingSince = 0;
  let abandonedTo: number | undefined;
  let nextBeat = t0 + (o.heartbeatS ?? Infinity);
  const history: Download[] = [];
  const offsets = content.chunkBytes.map((sizes) => chunkRanges(sizes).map((r) => r.start));
  const r = {
    startupS: undefined as number | undefined,
    rebufferS: 0,
    playedS: 0,
    switches: 0,
    failovers: 0,
    abandoned: 0,
    bytes: 0,
    vmafs: [] as number[],
    bitrates: [] as number[],
    servers: [] as number[],
    chunkSha256: [] as (string | undefined)[],
    bufferS: 0,
    failures: [] as string[],
    lastUrl: undefined as string | undefined,
    done: false,
  };
  const advance = () => {
    const t = transport.now();
    const dt = t - last;
    last = t;
    if (!playing) {
      if (r.startupS !== undefined) r.rebufferS += dt;
      return;
    }
    const played = Math.min(dt, bufferS);
    r.playedS += played;
    bufferS -= played;
    if (played < dt) {
      r.rebufferS += dt - played;
      playing = false;
      rebuffered = true;
    }
  };
  const beat = () => {
    if (o.onHeartbeat && transport.now() >= nextBeat) {
      nextBeat += o.heartbeatS ?? Infinity;
      o.onHeartbeat({ ...r, bufferS });
    }
  };

  for (let i = 0; i < n; ) {
    const dur = chunkDuration(content.durationSeconds, i);
    advance();
    if (playing && bufferS + dur > o.maxBufferS) {
      await transport.wait(bufferS + dur - o.maxBufferS);
      advance();
    }
    const input: AbrInput = {
      bufferS,
      maxBufferS: o.maxBufferS,
      ladder: content.ladder,
      history,
      chunkSeconds: content.chunkSeconds,
      chunkBytes: (q, ahead) => content.chunkBytes[q]?.[i + ahead],
      idleS: Math.max(0, transport.now() - lastFetchEnd),
      rebuffered,
    };
    rebuffered = false;
    const d = abr.decide(input);
    // After an abandonment the chunk is fetched at the rendition the rule gave it up for, or lower.
    const q = Math.min(Math.max(0, d.quality), content.ladder.length - 1, abandonedTo ?? Infinity);
    abandonedTo = undefined;
    if (d.delayS > 0 && playing) {
      await transport.wait(Math.min(d.delayS, Math.max(0, bufferS - dur)));
      advance();
    }
    const urls = content.urls[q] ?? [];
    const bytes = content.chunkBytes[q]?.[i] ?? 0;
    const start = offsets[q]?.[i] ?? 0;
    const url = urls[server % Math.max(1, urls.length)] ?? "";
    const began = transport.now();
    const bufferAtRequest = bufferS;
    const abandon = (p: Progress): boolean => {
      abandonedTo = abr.abandon({
        bufferS: playing ? Math.max(0, bufferAtRequest - p.seconds) : bufferAtRequest,
        ladder: content.ladder,
        quality: q,
        bytesLoaded: p.bytes,
        bytesTotal: bytes,
        elapsedS: p.seconds,
        chunkSeconds: content.chunkSeconds,
        chunkBytes: (m) => content.chunkBytes[m]?.[i],
      });
      if (abandonedTo !== undefined && abandonedTo >= q) abandonedTo = undefined;
      return abandonedTo !== undefined;
    };
    const res = await transport.fetch({ url, start, end: start + bytes - 1, stallS: stallSeconds(bufferS), abandon });
    advance();
    lastFetchEnd = transport.now();
    if (!res.ok && res.reason === "abandoned") {
      // Not the server's fault: same server, the chunk again at a lower rendition. What it got is a
      // throughput sample like any other.
      r.abandoned++;
      r.bytes += res.bytes ?? 0;
      if ((res.bytes ?? 0) > 0)
        history.push({ quality: q, bytes: res.bytes ?? 0, seconds: Math.max(1e-6, lastFetchEnd - began) });
      beat();
      continue;
    }
    abandonedTo = undefined;
    if (!res.ok) {
      r.failovers++;
      r.failures.push(`${res.reason}: ${res.detail}`);
      server++;
      if (failedInARow++ === 0) failingSince = began;
      if (transport.now() - failingSince > GIVE_UP_S)
        throw new PlaybackFailedError(`chunk ${i}: no server delivered for ${GIVE_UP_S} s; last: ${res.detail}`);
      const round = Math.floor(failedInARow / Math.max(1, urls.length));
      if (failedInARow % Math.max(1, urls.length) === 0) {
        await transport.wait(Math.min(4, ROUND_PAUSE_S * round));
        advance();
      }
      beat();
      continue;
    }
    failedInARow = 0;
    history.push({ quality: q, bytes, seconds: Math.max(1e-6, lastFetchEnd - began) });
    const prev = r.bitrates.at(-1);
    const rendition = content.ladder[q];
    if (prev !== undefined && prev !== rendition?.bitrateBps) r.switches++;
    r.bitrates.push(rendition?.bitrateBps ?? 0);
    r.vmafs.push(rendition?.vmaf ?? 0);
    r.servers.push(server % Math.max(1, urls.length));
    r.chunkSha256.push(res.sha256);
    r.bytes += bytes;
    r.lastUrl = url;
    bufferS += dur;
    if (!playing) {
      playing = true;
      if (r.startupS === undefined) {
        r.startupS = transport.now() - t0;
        o.onStartup?.({ ...r, bufferS });
      }
    }
    i++;
    beat();
  }
  // The rest of the buffer plays out without a stall.
  r.playedS += bufferS;
  r.done = true;
  o.onHeartbeat?.({ ...r });
  return r;
}
