/**
 * Title: one piece of content and every file it is encoded into. Files are immutable blobs named by
 * path; the status carries the convex-hull ladder players choose renditions from (see ladder/).
 *
 * Popularity does not live here: it changes daily for every title, and a field on Title would turn a
 * daily update into thousands of writes and reconciles. See popularity.ts.
 */
import { z } from "zod";
import { conditions, dnsLabel, listMap, listSet, objectSchema, observedGeneration } from "./common.js";
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
    path: relativePath.describe(
      "Relative to the content disk of every edge server and to the origin URL, e.g. night-harbor/video/h264/1080p.mp4.",
    ),
    bytes: z.int().min(1).describe("File size in bytes, e.g. 2147483648."),
    sha256: z
      .string()
      .max(64)
      .regex(/^[0-9a-f]{64}$/)
      .describe("Lowercase hex SHA-256 of the file; fills verify every file against it."),
    kind: z.enum(["video", "audio", "text"]).describe("video, audio or text."),
    codec: Codec.describe("video: h264, hevc, vp9, av1; audio: aac, he-aac, eac3, opus; text: webvtt, ttml."),
    resolution: Resolution.optional().describe('"WIDTHxHEIGHT", e.g. "1920x1080"; video only.'),
    bitrateKbps: z.int().min(1).max(1_000_000).describe("Mean bit rate in kilobits per second, e.g. 5800."),
    vmaf: z
      .number()
      .min(0)
      .max(100)
      .optional()
      .describe("Mean VMAF (0-100) against the source, e.g. 93.5; video only."),
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
    id: TitleId.describe("Catalog id, the key Popularity demand is reported by, e.g. night-harbor. Immutable."),
    regions: listSet(dnsLabel, 64).min(1).describe("Regions the title is licensed in, e.g. [eu-west]."),
    durationSeconds: z.int().min(1).max(86_400).describe("Running time in seconds, e.g. 5400."),
    files: listMap(TitleFile, "path", 256)
      .min(1)
      .describe("Every encoded file (renditions of video, audio and text), keyed by path."),
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
  path: relativePath.describe("The file's path, as in spec.files."),
  bitrateKbps: z.int().min(1).describe("Mean bit rate in kilobits per second."),
  resolution: Resolution.optional().describe('"WIDTHxHEIGHT"; video only.'),
  vmaf: z.number().min(0).max(100).optional().describe("Mean VMAF (0-100); video only."),
});

/**
 * The renditions worth offering for one kind and codec, by rising bitrate: for video the upper convex
 * hull of (bitrate, VMAF); for audio and text every file.
 */
export const LadderEntry = z.strictObject({
  kind: z.enum(["video", "audio", "text"]).describe("video, audio or text."),
  codec: Codec.describe("The codec every rung is encoded with."),
  rungs: z.array(Rung).max(256).describe("Renditions by rising bitrate."),
});

export const TitleStatus = z.strictObject({
  observedGeneration,
  conditions: conditions.optional().describe("Ready, Valid (False when another Title claims one of its paths)."),
  ladder: z
    .array(LadderEntry)
    .max(16)
    .optional()
    .describe("Per kind and codec, the renditions worth offering: for video the convex hull of (bitrate, VMAF)."),
  totalBytes: z.int().min(0).optional().describe("Bytes of all files together."),
  fileCount: z.int().min(0).optional().describe("Files in spec.files."),
});

export const Title = objectSchema("Title", TitleSpec, TitleStatus);
export type TitleFile = z.infer<typeof TitleFile>;
export type TitleSpec = z.infer<typeof TitleSpec>;
export type TitleStatus = z.infer<typeof TitleStatus>;
export type Title = z.infer<typeof Title>;
export type Rung = z.infer<typeof Rung>;
export type LadderEntry = z.infer<typeof LadderEntry>;
