/**
 * The worker thread of index-builder.ts: builds index parts from packed announcements and moves them
 * back without a copy. It runs at the lowest CPU priority, so on a busy machine answering requests
 * comes first and a rebuild only takes longer.
 */
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { buildIndexParts, type IndexParts, type PackedAnnouncements, SteeringInputError } from "./steering-index.js";

export type BuildRequest = Readonly<{ id: number; packed: PackedAnnouncements }>;
export type BuildReply = Readonly<{ id: number; parts: IndexParts } | { id: number; error: string; input: boolean }>;

// On Linux a nice value is per thread: this lowers this thread only (elsewhere it would be the process).
if (process.platform === "linux") setPriority(19);

const buffers = (p: IndexParts) =>
  [p.v4, p.v6, ...[p.routes4, p.routes6].flatMap((r) => [r.length, r.parent, r.first, r.ann])].map(
    (a) => a.buffer as ArrayBuffer,
  );

parentPort?.on("message", ({ id, packed }: BuildRequest) => {
  let reply: BuildReply;
  try {
    const parts = buildIndexParts(packed);
    parentPort?.postMessage({ id, parts } satisfies BuildReply, buffers(parts));
    return;
  } catch (err) {
    reply = { id, error: err instanceof Error ? err.message : String(err), input: err instanceof SteeringInputError };
  }
  parentPort?.postMessage(reply);
});
