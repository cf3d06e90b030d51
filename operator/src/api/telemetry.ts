/**
 * A player's telemetry report (`POST /v1/telemetry` on steering): what one session has felt so far.
 * `start` carries the startup time, `heartbeat` the running totals, `end` the session's totals; the
 * server keeps no per-session state, so each figure is observed once, from the report that owns it.
 */
import { z } from "zod";
import { TitleId } from "./title.js";

const DAY_MS = 86_400_000;

export const TelemetryReport = z.strictObject({
  /** Chosen by the client for the session (letters, digits, '-'). */
  session: z
    .string()
    .min(8)
    .max(64)
    .regex(/^[A-Za-z0-9-]+$/),
  title: TitleId,
  kind: z.enum(["start", "heartbeat", "end"]),
  /** The host of the URL the session is streaming from (an edge server's address). */
  server: z.string().min(1).max(64),
  startupMs: z.number().min(0).max(600_000).optional(),
  rebufferMs: z.number().min(0).max(DAY_MS),
  playedMs: z.number().min(0).max(DAY_MS),
  /** Mean bitrate of the chunks fetched so far. */
  bitrateKbps: z.number().min(0).max(1_000_000),
  failovers: z.int().min(0).max(100_000),
});
export type TelemetryReport = z.infer<typeof TelemetryReport>;

/** Bytes a report may take: a report is a few hundred. */
export const TELEMETRY_MAX_BYTES = 4096;
