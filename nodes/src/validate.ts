import type { z } from "zod";

/** One line naming each bad field and its rule: `fill.files.3.sha256: must be 64 lowercase hex digits`. */
export function describeIssues(prefix: string, error: z.ZodError): string {
  return error.issues.map((i) => `${[prefix, ...i.path.map(String)].join(".")}: ${i.message}`).join("; ");
}
