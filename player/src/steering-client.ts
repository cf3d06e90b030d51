/**
 * The player's requests to steering: the playback request and telemetry reports. Answers are read up to
 * a size cap and within a timeout; a manifest that is not JSON, does not match PlaybackManifest or
 * cannot be played (no chunk index) is a failed answer with a message naming the field.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { z } from "zod";
import { PlaybackManifest } from "../../operator/src/api/manifest.js";
import type { TelemetryReport } from "../../operator/src/api/telemetry.js";
import { type Content, contentOf, UnplayableManifestError } from "./content.js";
import type { TlsOptions } from "./http-transport.js";

const MANIFEST_MAX_BYTES = 16 << 20;

export type HttpAnswer = Readonly<{ status: number; type: string; body: Buffer }>;

/** One request; rejects on a connection error, the timeout, or an answer over maxBytes. */
export function httpCall(
  url: string,
  o: Readonly<{ method?: string; body?: string; tls?: TlsOptions; timeoutMs: number; maxBytes: number }>,
): Promise<HttpAnswer> {
  const u = new URL(url);
  const https = u.protocol === "https:";
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      u,
      {
        method: o.method ?? "GET",
        headers: o.body === undefined ? {} : { "content-type": "application/json" },
        timeout: o.timeoutMs,
        ...(https
          ? {
              ca: o.tls?.ca as Buffer | string | (Buffer | string)[] | undefined,
              ...(o.tls?.servername ? { servername: o.tls.servername } : {}),
            }
          : {}),
      },
      (res) => {
        const parts: Buffer[] = [];
        let n = 0;
        res.on("data", (b: Buffer) => {
          n += b.length;
          if (n > o.maxBytes) req.destroy(new Error(`answer over ${o.maxBytes} bytes`));
          else parts.push(b);
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers["content-type"] ?? ""),
            body: Buffer.concat(parts),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
    req.on("error", reject);
    req.end(o.body);
  });
}

/** Steering refused or answered something unplayable. */
export class PlaybackRequestError extends Error {
  override name = "PlaybackRequestError";
}

/** What a playback answer holds, checked: the Content to play, or a PlaybackRequestError. */
export function parsePlayback(a: HttpAnswer): Content {
  let json: unknown;
  try {
    json = JSON.parse(a.body.toString("utf8"));
  } catch {
    throw new PlaybackRequestError(`playback answer (HTTP ${a.status}, ${a.type || "no type"}): not JSON`);
  }
  if (a.status !== 200) {
    const msg = (json as { error?: { message?: unknown } } | null)?.error?.message;
    throw new PlaybackRequestError(
      `playback request: HTTP ${a.status}: ${typeof msg === "string" ? msg : "no message"}`,
    );
  }
  const m = PlaybackManifest.safeParse(json);
  if (!m.success) throw new PlaybackRequestError(`manifest: ${z.prettifyError(m.error)}`);
  try {
    return contentOf(m.data);
  } catch (err) {
    if (err instanceof UnplayableManifestError)
      throw new PlaybackRequestError(`manifest: ${err.message}`, { cause: err });
    throw err;
  }
}

export async function requestPlayback(steering: string, title: string, tls: TlsOptions | undefined): Promise<Content> {
  const url = `${steering.replace(/\/$/, "")}/v1/playback/${encodeURIComponent(title)}`;
  let a: HttpAnswer;
  try {
    a = await httpCall(url, { tls, timeoutMs: 5000, maxBytes: MANIFEST_MAX_BYTES });
  } catch (err) {
    throw new PlaybackRequestError(`playback request to ${url}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  return parsePlayback(a);
}

/** POSTs one report; resolves with the status (0 when it could not be sent): telemetry never stops playback. */
export async function sendReport(steering: string, r: TelemetryReport, tls: TlsOptions | undefined): Promise<number> {
  try {
    const a = await httpCall(`${steering.replace(/\/$/, "")}/v1/telemetry`, {
      method: "POST",
      body: JSON.stringify(r),
      tls,
      timeoutMs: 2000,
      maxBytes: 4096,
    });
    return a.status;
  } catch {
    return 0;
  }
}
