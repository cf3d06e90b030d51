import { z } from "zod";
import { describeIssues, relativePath } from "../../../operator/src/api/index.js";
import { parseBandwidth } from "./token-bucket.js";

export const WantedFile = z.object({
  /** The Title file path rule itself (api/paths.ts): the CRD accepts exactly what the fill accepts. */
  path: relativePath,
  bytes: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits"),
  /**
   * Names of peers (sources.peers) to ask for this file, best first: its holders under the cluster's
   * Active placement, then under the new one (peer-order.ts). A guess: one without it answers 404.
   */
  peers: z.array(z.string()).default([]),
});
export type WantedFile = z.output<typeof WantedFile>;

const httpUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ""));

/**
 * What one fill Job does: this server's files (computed from the Placement and the catalog by
 * fillSpecFor), where to get them, and under which cap. Validated again here because the fetch
 * pipeline trusts these paths on disk: no dot segment, nothing under .edgefleet/.
 */
export const FillSpec = z
  .object({
    server: z.string().min(1),
    contentPath: z.string().regex(/^\//, "must be an absolute path"),
    /** The cluster's fill cap ("1.2Gbps", or bits/s); absent means uncapped. */
    bandwidthCap: z
      .union([z.string(), z.number()])
      .transform((v, ctx) => {
        try {
          return parseBandwidth(v);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: (err as Error).message });
          return z.NEVER;
        }
      })
      .optional(),
    concurrency: z.int().min(1).max(64).default(4),
    /** The cluster's link keys (`<kid>.key`, `primary`), to sign fetches from peers' nginx. */
    linkKeysDir: z.string().regex(/^\//, "must be an absolute path").optional(),
    sources: z.object({
      origin: httpUrl,
      peers: z.array(z.object({ name: z.string().min(1), url: httpUrl })).default([]),
    }),
    files: z.array(WantedFile),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    const peers = new Set(s.sources.peers.map((p) => p.name));
    s.files.forEach((f, i) => {
      if (seen.has(f.path))
        ctx.addIssue({ code: "custom", path: ["files", i, "path"], message: `duplicate path ${f.path}` });
      seen.add(f.path);
      f.peers.forEach((p, j) => {
        if (!peers.has(p)) {
          ctx.addIssue({
            code: "custom",
            path: ["files", i, "peers", j],
            message: `unknown peer ${p} (not in sources.peers)`,
          });
        }
      });
    });
    if (s.sources.peers.length > 0 && s.linkKeysDir === undefined) {
      ctx.addIssue({ code: "custom", path: ["linkKeysDir"], message: "is required to sign fetches from peers" });
    }
  });
export type FillSpec = z.output<typeof FillSpec>;
export type FillSpecInput = z.input<typeof FillSpec>;

export class FillSpecError extends Error {
  override name = "FillSpecError";
}

export function parseFillSpec(input: unknown): FillSpec {
  const r = FillSpec.safeParse(input);
  if (!r.success) throw new FillSpecError(`invalid fill spec: ${describeIssues("fill", r.error)}`, { cause: r.error });
  return r.data;
}
