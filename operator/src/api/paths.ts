/**
 * The two kinds of path a spec names, one definition each, shared by the CRDs (OpenAPI pattern and
 * CEL), the operator (zod) and the edge agent (which writes files at these paths):
 *
 * - a file path in a Title, relative to the content disk: segments of safe characters, none starting
 *   with "." (so no "." or "..", and nothing under the agent's own `.edgefleet/`, which nginx never
 *   serves). What the CRD accepts is exactly what the agent accepts, so one Title can never pass the
 *   API server and then fail every fill Job of its region.
 * - the content disk of an OCACluster on the host: an absolute path of the same segments, inside a
 *   directory named `edgefleet` (see contentPath).
 */
import { z } from "zod";
import { withRules } from "./rules.js";

/** One path segment: safe characters, not starting with ".". */
const segment = "[A-Za-z0-9_-][A-Za-z0-9._-]*";

/** The pattern of a Title file path, relative: "night-harbor/video/h264/1080p.mp4". */
export const relativePathPattern = `^${segment}(/${segment})*$`;

const relativePathMessage = 'must be a relative path of segments of A-Z a-z 0-9 . _ - that do not start with "."';

/** A Title file path (the CRD's pattern, the operator's and the agent's check). At most 255 characters. */
export const relativePath = z.string().min(1).max(255).regex(new RegExp(relativePathPattern), relativePathMessage);

/**
 * The host directory content lives under: every content path must be inside it. The operator's
 * `--content-root` (chart value `edge.contentRoot`) may name another, also a directory named edgefleet.
 */
export const defaultContentRoot = "/var/lib/edgefleet";

/**
 * An OCACluster's content disk on the host. The fill Job owns this directory (it hands it to the edge
 * user) and evict deletes every file in it that the Placement does not name, so it must never be `/`,
 * `/etc` or `/var/lib/kubelet`. The CRD is the same on every install and cannot know the operator's
 * configured root, so it checks what holds under every permitted root: content sits strictly inside a
 * directory named `edgefleet` (the default root /var/lib/edgefleet, or one like /srv/edgefleet), which no
 * system directory is. The operator then checks the configured root (controllers/edge-policy.ts) and
 * reports EdgeConfigured=False naming spec.edge.contentPath when the path is outside it.
 */
export const contentPath = withRules(
  z
    .string()
    .max(1024)
    .regex(new RegExp(`^(/${segment})+$`), 'must be an absolute path of segments that do not start with "."'),
  [
    {
      rule: "self.contains('/edgefleet/')",
      message: `must be inside a directory named edgefleet, like ${defaultContentRoot}/content`,
      test: (p) => p.includes("/edgefleet/"),
    },
  ],
);
