/** What viewers feel, summed over sessions of one rule: the figures bench:playback prints. */
import type { SessionReport } from "./session.js";

export type QoeRow = Readonly<{
  rule: string;
  sessions: number;
  startupP50S: number;
  startupP95S: number;
  /** Stall seconds ÷ played seconds, over all sessions. */
  rebufferRatio: number;
  /** Sessions that stalled at least once. */
  sessionsWithStall: number;
  meanVmaf: number;
  p5Vmaf: number;
  meanBitrateKbps: number;
  switchesPerMin: number;
  bytesPerMin: number;
  failovers: number;
  /** Downloads given up part-way for a lower rendition of the same chunk. */
  abandoned: number;
}>;

/** The q-quantile (0..1) of values, nearest rank; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

export function summarize(rule: string, reports: readonly SessionReport[]): QoeRow {
  const startups = reports.flatMap((r) => (r.startupS === undefined ? [] : [r.startupS]));
  const played = reports.reduce((a, r) => a + r.playedS, 0);
  const minutes = played / 60;
  const vmafs = reports.flatMap((r) => r.vmafs);
  return {
    rule,
    sessions: reports.length,
    startupP50S: quantile(startups, 0.5),
    startupP95S: quantile(startups, 0.95),
    rebufferRatio: played > 0 ? reports.reduce((a, r) => a + r.rebufferS, 0) / played : 0,
    sessionsWithStall: reports.filter((r) => r.rebufferS > 0).length,
    meanVmaf: mean(vmafs),
    p5Vmaf: quantile(vmafs, 0.05),
    meanBitrateKbps: mean(reports.flatMap((r) => r.bitrates)) / 1000,
    switchesPerMin: minutes > 0 ? reports.reduce((a, r) => a + r.switches, 0) / minutes : 0,
    bytesPerMin: minutes > 0 ? reports.reduce((a, r) => a + r.bytes, 0) / minutes : 0,
    failovers: reports.reduce((a, r) => a + r.failovers, 0),
    abandoned: reports.reduce((a, r) => a + r.abandoned, 0),
  };
}
