import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { describeIssues } from "../../../operator/src/api/index.js";
import { ServeConfig } from "../../../operator/src/edge/serve-config.js";

export class ServeConfigError extends Error {
  override name = "ServeConfigError";
}

export function parseServeConfig(input: unknown): ServeConfig {
  const r = ServeConfig.safeParse(input);
  if (!r.success)
    throw new ServeConfigError(`invalid serve config: ${describeIssues("serve", r.error)}`, { cause: r.error });
  return r.data;
}

/** The server this pod is: --server when given, else its node's entry in `servers`. */
export function serverFor(cfg: ServeConfig, node: string, override: string | undefined): string {
  if (override !== undefined) return override;
  const s = cfg.servers[node];
  if (s === undefined) {
    throw new ServeConfigError(
      `--node: node ${JSON.stringify(node)} is not in serve.servers of cluster ${cfg.cluster}; pass --server or add it`,
    );
  }
  return s;
}

export async function loadServeConfig(path: string): Promise<ServeConfig> {
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(path, "utf8"));
  } catch (err) {
    throw new ServeConfigError(`reading serve config ${path}`, { cause: err });
  }
  return parseServeConfig(doc);
}
