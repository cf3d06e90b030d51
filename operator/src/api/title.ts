/**
 * Title: one piece of content and every file it is encoded into. Files are immutable blobs named by
 * path; the status carries the convex-hull ladder players choose renditions from (see ladder/).
 *
 * Popularity does not live here: it changes daily for every title, and a field on Title would turn a
 * daily update into thousands of writes and reconciles. See popularity.ts.
 */
import { z } from "zod";
import { conditions, dnsLabel, listMap, listSet, objectSchema } from "./common.js";
import { relativePath } from "./paths.js";
import { withRules } from "./rules.js";

export const videoCodecs = ["h264", "hevc", "vp9", "av1"] as const;
export const audioCodecs = ["aac", "he-aac", "eac3", "opus"] as const;
export const textCodecs = ["webvtt", "ttml"] as const;
const codecsByKind = { video: videoCodecs, audio: audioCodecs, text: textCodecs } as const;

const Resolution = z
  .string()
  .max(11)
  .regex(/^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$/);
const Codec = z.enum([...videoCodecs, ...audioCodecs, ...textCodecs]);

/** Title ids are short so that a region's popularity map of thousands of titles stays small. */
export const TitleId = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);

export const TitleFile = withRules(
  z.strictObject({
    /** Relative to the content root of every edge server and of the origin (paths.ts: what the agent accepts). */
    path: relativePath,
    bytes: z.int().min(1),
    sha256: z
      .string()
      .max(64)
      .regex(/^[0-9a-f]{64}$/),
    kind: z.enum(["video", "audio", "text"]),
    codec: Codec,
    /** "WIDTHxHEIGHT"; video only. */
    resolution: Resolution.optional(),
    bitrateKbps: z.int().min(1).max(1_000_000),
    /** Mean VMAF against the source; video only. */
    vmaf: z.number().min(0).max(100).optional(),
  }),
  [
    {
      rule: "(self.kind == 'video' && self.codec in ['h264', 'hevc', 'vp9', 'av1']) || (self.kind == 'audio' && self.codec in ['aac', 'he-aac', 'eac3', 'opus']) || (self.kind == 'text' && self.codec in ['webvtt', 'ttml'])",
      message:
        "codec does not match kind (video: h264, hevc, vp9, av1; audio: aac, he-aac, eac3, opus; text: webvtt, ttml)",
      fieldPath: ".codec",
      test: (f) => (codecsByKind[f.kind] as readonly string[]).includes(f.codec),
    },
    {
      rule: "self.kind == 'video' ? has(self.resolution) : !has(self.resolution)",
      message: "resolution is required for video files and not allowed for others",
      fieldPath: ".resolution",
      test: (f) => (f.kind === "video") === (f.resolution !== undefined),
    },
    {
      rule: "self.kind == 'video' ? has(self.vmaf) : !has(self.vmaf)",
      message: "vmaf is required for video files and not allowed for others",
      fieldPath: ".vmaf",
      test: (f) => (f.kind === "video") === (f.vmaf !== undefined),
    },
  ],
);

export const TitleSpec = withRules(
  z.strictObject({
    /** Catalog id, the key popularity is reported by. Immutable. */
    id: TitleId,
    /** Regions the title is licensed in. */
    regions: listSet(dnsLabel, 64).min(1),
    durationSeconds: z.int().min(1).max(86_400),
    files: listMap(TitleFile, "path", 256).min(1),
  }),
  [
    {
      rule: "self.files.exists(f, f.kind == 'video')",
      message: "a title needs at least one video file",
      fieldPath: ".files",
      test: (t) => t.files.some((f) => f.kind === "video"),
    },
  ],
);

/** One rendition on the ladder. */
export const Rung = z.strictObject({
  path: relativePath,
  bitrateKbps: z.int().min(1),
  resolution: Resolution.optional(),
  vmaf: z.number().min(0).max(100).optional(),
});

/**
 * The renditions worth offering for one kind and codec, by rising bitrate: for video the upper convex
 * hull of (bitrate, VMAF); for audio and text every file.
 */
export const LadderEntry = z.strictObject({
  kind: z.enum(["video", "audio", "text"]),
  codec: Codec,
  rungs: z.array(Rung).max(256),
});

export const TitleStatus = z.strictObject({
  observedGeneration: z.int().min(0).optional(),
  conditions: conditions.optional(),
  ladder: z.array(LadderEntry).max(16).optional(),
  totalBytes: z.int().min(0).optional(),
  fileCount: z.int().min(0).optional(),
});

export const Title = objectSchema("Title", TitleSpec, TitleStatus);
export type TitleFile = z.infer<typeof TitleFile>;
export type TitleSpec = z.infer<typeof TitleSpec>;
export type TitleStatus = z.infer<typeof TitleStatus>;
export type Title = z.infer<typeof Title>;
export type Rung = z.infer<typeof Rung>;
export type LadderEntry = z.infer<typeof LadderEntry>;
