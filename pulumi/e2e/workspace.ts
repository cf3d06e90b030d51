/**
 * A Pulumi installation of its own for the Automation API, fully offline: the CLI and the kubernetes
 * provider built by hack/bins.sh, a PULUMI_HOME and a local file backend in a scratch directory, the
 * provider registered from its file, and nothing ever downloaded (plugin acquisition is switched off,
 * so a missing plugin fails at once instead of trying the network).
 *
 * The stacks run their program inline (the Node SDK serves the language runtime itself): the Node.js
 * language host, which a plain `pulumi up` in pulumi/ starts, is not on the Go module proxy here.
 */
import { execFile } from "node:child_process";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { ensureBinaries } from "../../hack/local-cluster.js";

const run = promisify(execFile);

/** The provider version the npm package @pulumi/kubernetes asks for (pulumi/package.json pins both). */
export const kubernetesProviderVersion = "4.25.0";

export type PulumiInstall = Readonly<{
  command: pulumi.automation.PulumiCommand;
  /** The environment every Pulumi run gets: its home, the backend, the passphrase, offline switches. */
  env: Readonly<Record<string, string>>;
  /** The scratch directory: home/, state/ (the file backend) and bin/. */
  dir: string;
}>;

/** Sets up the CLI and the provider under `dir` (building them first when hack/bins.sh has not). */
export async function installPulumi(dir: string, passphrase: string): Promise<PulumiInstall> {
  const bins = await ensureBinaries(["pulumi", "pulumi-resource-kubernetes"]);
  const home = join(dir, "home");
  const state = join(dir, "state");
  await mkdir(join(dir, "bin"), { recursive: true });
  await mkdir(home, { recursive: true });
  await mkdir(state, { recursive: true });
  // PulumiCommand runs <root>/bin/pulumi.
  await symlink(bins.pulumi, join(dir, "bin", "pulumi"));
  const env = {
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
  };
  // `plugin install --file` copies the binary into PULUMI_HOME/plugins; no download.
  const provider = bins["pulumi-resource-kubernetes"];
  await run(
    bins.pulumi,
    ["plugin", "install", "resource", "kubernetes", kubernetesProviderVersion, "--file", provider],
    { env: { ...process.env, ...env } },
  );
  const command = await pulumi.automation.PulumiCommand.get({ root: dir, skipVersionCheck: true });
  return { command, env, dir };
}
