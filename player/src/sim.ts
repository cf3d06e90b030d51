/**
 * The trace-driven simulator: a Transport on a virtual clock over one bandwidth trace. A request's
 * first byte comes one RTT after it is sent; bytes then arrive at the trace's rate of the moment
 * (the trace repeats if the session outlasts it). A download during an outage that brings no byte for
 * its stall deadline fails as a stall, as the real player's does. No TCP dynamics (slow start, loss
 * recovery): the real harness shows how far that moves the figures (bench/README.md).
 */
import type { AnyAbrRule } from "./abr/types.js";
import type { Content } from "./content.js";
import {
  ABANDON_CHECK_S,
  type FetchRequest,
  type FetchResult,
  playSession,
  type SessionReport,
  type Transport,
} from "./session.js";
import type { Trace } from "./traces.js";

export class TraceLink {
  readonly #starts: number[] = [];
  readonly #bps: number[] = [];
  readonly #period: number;

  constructor(trace: Trace) {
    let t = 0;
    for (const s of trace.segments) {
      this.#starts.push(t);
      this.#bps.push(s.bps);
      t += s.seconds;
    }
    this.#period = t;
  }

  /** The segment at time t: its index, rate and when it ends (absolute). */
  #at(t: number): { bps: number; end: number } {
    const cycle = Math.floor(t / this.#period);
    const local = t - cycle * this.#period;
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#starts[mid] ?? 0) <= local) lo = mid;
      else hi = mid - 1;
    }
    const end = lo + 1 < this.#starts.length ? (this.#starts[lo + 1] ?? 0) : this.#period;
    return { bps: this.#bps[lo] ?? 0, end: cycle * this.#period + end };
  }

  /**
   * When `bytes` sent from time `from` have all arrived, or when the transfer is given up: no byte
   * for `stallS` seconds (an outage).
   */
  transfer(from: number, bytes: number, stallS: number): { at: number; ok: boolean } {
    let t = from;
    let bits = bytes * 8;
    let silentSince = from;
    while (bits > 0) {
      const seg = this.#at(t);
      if (seg.bps <= 0) {
        if (seg.end - silentSince >= stallS) return { at: silentSince + stallS, ok: false };
        t = seg.end;
        continue;
      }
      const can = seg.bps * (seg.end - t);
      if (can >= bits) return { at: t + bits / seg.bps, ok: true };
      bits -= can;
      t = seg.end;
      silentSince = t;
    }
    return { at: t, ok: true };
  }

  /** Bytes that arrive between `from` and `until` at the trace's rates. */
  bytesBetween(from: number, until: number): number {
    let bits = 0;
    for (let t = from; t < until; ) {
      const seg = this.#at(t);
      // At least a nanosecond forward: a segment end equal to t after rounding must not stop the walk.
      const end = Math.min(until, Math.max(seg.end, t + 1e-9));
      bits += seg.bps * (end - t);
      t = end;
    }
    return bits / 8;
  }
}

export class SimTransport implements Transport {
  #t = 0;
  readonly #link: TraceLink;
  readonly #rttS: number;

  constructor(trace: Trace) {
    this.#link = new TraceLink(trace);
    this.#rttS = trace.rttMs / 1000;
  }

  now(): number {
    return this.#t;
  }

  async wait(seconds: number): Promise<void> {
    this.#t += Math.max(0, seconds);
  }

  async fetch(req: Omit<FetchRequest, "url">): Promise<FetchResult> {
    if (this.#rttS >= req.stallS) {
      this.#t += req.stallS;
      return { ok: false, reason: "stall", detail: "no byte within the stall deadline" };
    }
    const size = req.end - req.start + 1;
    const first = this.#t + this.#rttS;
    const r = this.#link.transfer(first, size, req.stallS);
    if (req.abandon !== undefined) {
      // Asked every ABANDON_CHECK_S of virtual time while bytes arrive, as the real transport asks.
      let got = 0;
      for (let t = first + ABANDON_CHECK_S; t < r.at; t += ABANDON_CHECK_S) {
        const before = got;
        got = Math.min(size, got + this.#link.bytesBetween(t - ABANDON_CHECK_S, t));
        if (got > before && req.abandon({ bytes: Math.floor(got), seconds: t - this.#t })) {
          this.#t = t;
          return {
            ok: false,
            reason: "abandoned",
            detail: `${Math.floor(got)} of ${size} bytes`,
            bytes: Math.floor(got),
          };
        }
      }
    }
    this.#t = r.at;
    return r.ok ? { ok: true } : { ok: false, reason: "stall", detail: `no byte for ${req.stallS.toFixed(1)} s` };
  }
}

/** One simulated session; `setupRtts` round trips stand for the playback request before the first chunk. */
export async function simulate(
  content: Content,
  rule: AnyAbrRule,
  trace: Trace,
  o: Readonly<{ maxBufferS: number; setupRtts?: number }>,
): Promise<SessionReport> {
  const transport = new SimTransport(trace);
  await transport.wait(((o.setupRtts ?? 2) * trace.rttMs) / 1000);
  return playSession(content, rule, transport, { maxBufferS: o.maxBufferS, startedAt: 0 });
}
