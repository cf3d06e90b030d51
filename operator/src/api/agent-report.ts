/**
 * What a fill or evict Job's agent tells the operator: its exit code, and a short report left as its
 * container's termination message (Kubernetes keeps at most 4096 bytes of it in the Pod's status).
 * The agent (nodes/src/fill) writes both; the fill controller reads them to say in the Placement's
 * conditions which server is short of what. One definition for both ends.
 */
import { z } from "zod";

/**
 * The agent's exit codes. `refused` and `noSpace` fail the Job at once (its podFailurePolicy): running
 * the same Job again cannot help. `failedFiles` and `contentBusy` are retried by the Job's backoff.
 */
export const agentExit = {
  ok: 0,
  /** Some files could not be fetched or verified; the rest are published. */
  failedFiles: 1,
  /** The inputs disagree, the directory is no content root, the Placement is not in the right phase. */
  refused: 2,
  /** Another fill or evict holds the content directory's lock. */
  contentBusy: 3,
  /** What the fill needs does not fit in the disk's free space; nothing was fetched. */
  noSpace: 4,
} as const;

const count = z.int().min(0);

export const AgentReport = z.looseObject({
  mode: z.enum(["fill", "evict"]),
  server: z.string().max(63),
  /** Files this run could not fetch or verify. */
  failed: z.object({ files: count, bytes: count }).optional(),
  /** The fill's space check: what it still had to fetch, and what the disk had free after its clean-up. */
  space: z.object({ needBytes: count, freeBytes: count }).optional(),
  /** Why the agent refused or stopped, for the reader. */
  error: z.string().max(2048).optional(),
});
export type AgentReport = z.infer<typeof AgentReport>;

/** Kubernetes truncates termination messages at 4096 bytes. */
const maxMessage = 4096;

/** The report as a termination message: JSON, the error shortened until the whole fits. */
export function formatAgentReport(r: AgentReport): string {
  let error = r.error?.slice(0, 2000);
  for (;;) {
    const s = JSON.stringify(error === undefined ? r : { ...r, error });
    if (s.length <= maxMessage || !error) return s;
    error = `${error.slice(0, Math.floor(error.length / 2))}…`;
  }
}

/** The report in a termination message, or undefined when there is none (the pod was killed, say). */
export function parseAgentReport(message: string | undefined): AgentReport | undefined {
  if (!message) return undefined;
  try {
    const r = AgentReport.safeParse(JSON.parse(message));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
