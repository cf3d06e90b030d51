/**
 * The trace-driven simulator: a Transport on a virtual clock over one bandwidth trace. A request's
 * first byte comes one RTT after it is sent; bytes then arrive at the trace's rate of the moment
 * (the trace repeats if the session outlasts it). A download during an outage that brings no byte for
 * its stall deadline fails as a stall, as the real player's does. No TCP dynamics (slow start, loss
 * recovery): the real harness shows how far that moves the figures (bench/README.md).
 */
import type { AnyAbrRule } from "./abr/types.js";
import type { Content } from "./content.js";
import { type FetchResult, playSession, type SessionReport, type Transport } from "./session.js";
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

  async fetch(req: Readonly<{ start: number; end: number; stallS: number }>): Promise<FetchResult> {
    if (this.#rttS >= req.stallS) {
      this.#t += req.stallS;
      return { ok: false, reason: "stall", detail: "no byte within the stall deadline" };
    }
    const r = this.#link.transfer(this.#t + this.#rttS, req.end - req.start + 1, req.stallS);
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
