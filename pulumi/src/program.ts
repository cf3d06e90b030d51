/**
 * The stack program: the stack's `edgefleet:` configuration, validated, made into one EdgefleetRegion.
 * index.ts exports it for `pulumi up`; the Automation API runs the same function inline (e2e/).
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import * as pulumi from "@pulumi/pulumi";
import { configKeys, type Files, loadRegionConfig, type RegionSpec, StackConfigError, secretKeys } from "./config.js";
import { type ClusterOutput, EdgefleetRegion } from "./region.js";

export const project = "edgefleet";

export type StackOutputs = Readonly<{
  region: string;
  namespace: string;
  fleetNamespace: string;
  steeringEndpoint: pulumi.Output<string | undefined>;
  clusters: pulumi.Output<ClusterOutput[]>;
}>;

export const nodeFiles: Files = {
  exists: (p) => existsSync(p),
  read: (p) => readFileSync(p, "utf8"),
  home: homedir(),
};

/** Every `edgefleet:` value but the secrets, objects decoded; unknown keys kept, so that they are reported. */
function configValues(config: pulumi.Config): Record<string, unknown> {
  const prefix = `${project}:`;
  const keys = Object.keys(pulumi.runtime.allConfig())
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length));
  const known = new Set<string>(configKeys);
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (secretKeys.includes(k)) continue;
    out[k] = known.has(k) && ["chartValues", "popularity", "sites"].includes(k) ? config.getObject(k) : config.get(k);
  }
  return out;
}

/**
 * The stack's configuration, checked. A bad one throws a RunError naming every bad field: reported without
 * a stack trace, and before anything is registered. It must be thrown, not logged: a program that returns
 * normally, errors logged or not, lets the engine go on to delete every resource it did not register.
 * (The Automation API's inline runner prints a thrown RunError twice, logged and returned; `pulumi up`
 * prints it once.)
 */
function checkedSpec(stack: string, config: pulumi.Config, projectDir: string, files: Files): RegionSpec {
  try {
    const spec = loadRegionConfig({ stack, values: configValues(config), projectDir, files });
    if (pulumi.runtime.getConfig(`${project}:urlSigningKey`) === undefined)
      throw new StackConfigError([
        `stack ${stack}: urlSigningKey: required: the URL-signing key, as a secret ` +
          "(pulumi config set --secret urlSigningKey $(openssl rand -hex 32))",
      ]);
    return spec;
  } catch (err) {
    if (err instanceof StackConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

/** The program of a region's stack; relative paths in its config start at `projectDir` (where Pulumi.yaml is). */
export function regionProgram(projectDir: string, files: Files = nodeFiles): () => Promise<StackOutputs> {
  return async () => {
    const config = new pulumi.Config(project);
    const spec = checkedSpec(pulumi.getStack(), config, projectDir, files);
    const region = new EdgefleetRegion(spec.region, { ...spec, urlSigningKey: config.requireSecret("urlSigningKey") });
    return {
      region: spec.region,
      namespace: spec.namespace,
      fleetNamespace: spec.fleetNamespace,
      steeringEndpoint: region.steeringEndpoint,
      clusters: region.clusters,
    };
  };
}
