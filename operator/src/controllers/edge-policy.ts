/**
 * What the operator lets an OCACluster put on its nodes. A cluster's spec reaches a node as an edge
 * DaemonSet and fill Jobs that mount the host's content directory, so whoever may write an OCACluster
 * must not be able to choose the image those pods run or the host directory they own and empty:
 *
 * - spec.edge.image must come from an allowed repository (operator --allowed-edge-image, chart value
 *   edge.allowedImages);
 * - spec.edge.contentPath must lie strictly inside the content root (--content-root, chart value
 *   edge.contentRoot). The CRD cannot know the configured root; it checks only what holds under every
 *   permitted one (api/paths.ts contentPath: inside a directory named edgefleet).
 *
 * A cluster that breaks either gets EdgeConfigured=False naming the field, and no DaemonSet or Job. Pure.
 */
import { contentPath, defaultContentRoot, type OCAClusterSpec, type Placement, phaseOf } from "../api/index.js";
import { setCondition } from "./conditions.js";
import type { FillStatus } from "./fill-plan.js";

export type EdgePolicy = Readonly<{
  /** Host directory every content path must be inside. */
  contentRoot: string;
  /** Image repositories (or registries, or paths) edge pods may run, as allowedImage matches them. */
  allowedImages: readonly string[];
}>;

/** The edge image the project publishes (nodes/Dockerfile). */
export const defaultAllowedEdgeImages: readonly string[] = ["ghcr.io/edgefleet/edgefleet-edge"];
export const defaultEdgePolicy: EdgePolicy = {
  contentRoot: defaultContentRoot,
  allowedImages: defaultAllowedEdgeImages,
};

export type PolicyViolation = Readonly<{ reason: "ImageNotAllowed" | "ContentPathOutsideRoot"; message: string }>;

/**
 * Whether `image` is allowed by an entry: the image is the entry, or continues it with a tag
 * (":v1", no "/" after it), a digest ("@sha256:…") or a path below it ("/…"). So
 * "ghcr.io/edgefleet/edgefleet-edge" allows its tags and digests but not "…/edgefleet-edge-evil", and
 * "ghcr.io/edgefleet" or "registry.local:5000" allow every repository below them.
 * ❌ "ghcr.io/edgefleet/edgefleet-edge-debug:1" under "ghcr.io/edgefleet/edgefleet-edge"; ✅ "…-edge:1.2@sha256:…".
 */
export function imageAllowed(image: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => {
    if (image === entry) return true;
    if (!image.startsWith(entry)) return false;
    const rest = image.slice(entry.length);
    return rest.startsWith("@") || rest.startsWith("/") || (rest.startsWith(":") && !rest.includes("/"));
  });
}

/** Strictly inside `root`: "/var/lib/edgefleet/content" is inside "/var/lib/edgefleet", the root itself is not. */
export const insideRoot = (path: string, root: string): boolean => path.startsWith(`${root.replace(/\/+$/, "")}/`);

type Check = (edge: OCAClusterSpec["edge"], p: EdgePolicy) => PolicyViolation | undefined;

const checks: readonly Check[] = [
  (edge, p) =>
    imageAllowed(edge.image, p.allowedImages)
      ? undefined
      : {
          reason: "ImageNotAllowed",
          message: `spec.edge.image: ${JSON.stringify(edge.image)} is not from an allowed repository (${p.allowedImages.join(", ") || "none"}; operator --allowed-edge-image)`,
        },
  (edge, p) =>
    insideRoot(edge.contentPath, p.contentRoot)
      ? undefined
      : {
          reason: "ContentPathOutsideRoot",
          message: `spec.edge.contentPath: ${JSON.stringify(edge.contentPath)} is not inside the content root ${p.contentRoot} (operator --content-root)`,
        },
];

/** The first rule the cluster's edge breaks, or undefined when its pods may run. */
export function edgePolicyViolation(edge: OCAClusterSpec["edge"], p: EdgePolicy): PolicyViolation | undefined {
  for (const c of checks) {
    const v = c(edge, p);
    if (v) return v;
  }
  return undefined;
}

/**
 * Why `root` cannot be a content root, or undefined: it must be such that a path inside it passes the
 * CRD's rule (a normalised absolute path inside a directory named edgefleet), or no cluster could use it.
 */
export function contentRootProblem(root: string): string | undefined {
  const r = contentPath.safeParse(`${root}/content`);
  return r.success
    ? undefined
    : `${JSON.stringify(root)} must be an absolute path of plain segments that is, or is inside, a directory named edgefleet (a content path inside it must pass the CRD: ${r.error.issues.map((i) => i.message).join("; ")})`;
}

/**
 * A Placement's fill status while its cluster's edge is refused: Filled=False with the reason, phase
 * unchanged, for a Placement still to be filled; undefined for one already Active or Superseded (its
 * evict Jobs wait; its Filled condition stays true).
 */
export function refusedFillStatus(p: Placement, v: PolicyViolation, now: Date): FillStatus | undefined {
  const phase = phaseOf(p);
  if (phase === "Active" || phase === "Superseded") return undefined;
  const gen = p.metadata.generation;
  const message = `OCACluster ${p.spec.cluster}: ${v.message}`;
  return {
    observedGeneration: gen,
    phase,
    conditions: setCondition(
      p.status?.conditions ?? [],
      { type: "Filled", status: "False", reason: v.reason, message, observedGeneration: gen },
      now,
    ),
  };
}
