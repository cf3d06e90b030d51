/**
 * The kind e2e suite's setup: `npm run e2e:kind` (hack/kind/e2e.ts) has built the images and brought the
 * cluster up; this installs the fleet into it as a user would (helm, Secrets, origin, OCACluster on the
 * kind workers, Titles, Popularity) and hands the tests what they need. When the runner could not have
 * Docker, EDGEFLEET_E2E_SKIP says why, and every test is skipped (and counted as skipped).
 */
import type { TestProject } from "vitest/node";
import { kindNodes } from "../../hack/kind/cluster.js";
import { type InstalledFleet, installFleet } from "../../hack/kind/fleet.js";

export type E2EFleet = Readonly<{
  fleet: InstalledFleet;
  kindCluster: string;
  installedAt: number;
  windowOpensAt: number;
}>;

declare module "vitest" {
  export interface ProvidedContext {
    e2e: { skip: string; ready?: undefined } | { skip: ""; ready: E2EFleet };
  }
}

/** The fill window opens this long after install: long enough to see that no Job runs before it. */
const windowDelayMs = 45_000;

export default async function setup(project: TestProject): Promise<void> {
  const skip = process.env.EDGEFLEET_E2E_SKIP;
  const cluster = process.env.EDGEFLEET_E2E_CLUSTER;
  const kubeconfig = process.env.EDGEFLEET_E2E_KUBECONFIG;
  if (skip || !cluster || !kubeconfig) {
    const why = skip || "no kind cluster given: run the suite with `npm run e2e:kind`";
    console.error(`e2e: skipped: ${why}`);
    project.provide("e2e", { skip: why });
    return;
  }
  const installedAt = Date.now();
  const windowOpensAt = new Date(Math.ceil((installedAt + windowDelayMs) / 60_000) * 60_000);
  const fleet = await installFleet({
    cluster: { name: cluster, kubeconfig, nodes: await kindNodes(cluster) },
    imageTag: process.env.EDGEFLEET_E2E_TAG ?? "e2e",
    windowOpensAt,
    catalogGeneration: "day-1",
  });
  console.error(
    `e2e: fleet installed in ${((Date.now() - installedAt) / 1000).toFixed(1)}s; steering at ${fleet.steeringUrl}`,
  );
  project.provide("e2e", {
    skip: "",
    ready: { fleet, kindCluster: cluster, installedAt, windowOpensAt: windowOpensAt.getTime() },
  });
}
