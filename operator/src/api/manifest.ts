/**
 * The playback manifest as a client reads it (`GET /v1/playback/{title}`, built by steering/playback.ts):
 * the schema a player validates an answer with before it trusts any of it. A manifest that does not
 * parse, or whose chunk index does not cover the title, is a failed server to the client, not a crash.
 * Fields it does not know are let through (z.object, not strict): a newer steering may add some
 * without breaking players.
 */
import { z } from "zod";

const MAX_CHUNKS = 86_400; // a day of 1 s chunks: the longest title (TitleSpec.durationSeconds)

export const ManifestRung = z.object({
  path: z.string().min(1).max(1024),
  bitrateKbps: z.int().min(1),
  resolution: z.string().max(11).optional(),
  vmaf: z.number().min(0).max(100).optional(),
  urls: z
    .array(z.url({ protocol: /^https?$/ }))
    .min(1)
    .max(16),
  chunkBytes: z.array(z.int().min(1)).min(1).max(MAX_CHUNKS).optional(),
});

export const PlaybackManifest = z
  .object({
    title: z.string().min(1).max(32),
    expiresAt: z.iso.datetime(),
    durationSeconds: z.int().min(1).max(86_400).optional(),
    chunkSeconds: z.number().gt(0).max(60).optional(),
    ladder: z
      .array(
        z.object({
          kind: z.string().max(16),
          codec: z.string().max(16),
          rungs: z.array(ManifestRung).min(1).max(256),
        }),
      )
      .min(1)
      .max(16),
    stale: z.object({ since: z.string() }).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.durationSeconds === undefined || m.chunkSeconds === undefined) return;
    const n = Math.ceil(m.durationSeconds / m.chunkSeconds);
    for (const [i, e] of m.ladder.entries()) {
      for (const [j, r] of e.rungs.entries()) {
        if (r.chunkBytes === undefined || r.chunkBytes.length === n) continue;
        ctx.addIssue({
          code: "custom",
          path: ["ladder", i, "rungs", j, "chunkBytes"],
          message: `must have ${n} chunks (durationSeconds ÷ chunkSeconds, rounded up), has ${r.chunkBytes.length}`,
        });
      }
    }
  });
export type PlaybackManifest = z.infer<typeof PlaybackManifest>;
export type ManifestRung = z.infer<typeof ManifestRung>;
