/**
 * A real `pulumi up` of the eu-west stack against the integration control plane, through the Automation
 * API (pulumi/e2e/cycle.ts, which `npm run e2e:pulumi` runs on a cluster of its own for both stacks):
 * the CLI and the kubernetes provider built from Go modules, a file backend, no download. The stack gets
 * a namespace and a release name of its own here, since other suites share this cluster.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { problemsOf, runStack, type StackRun } from "../../pulumi/e2e/cycle.js";
import { execIn, inProcessOperator, withFakeNode } from "../../pulumi/e2e/harness.js";
import { installPulumi } from "../../pulumi/e2e/workspace.js";
import { kubeconfig } from "./kube.js";

const id = Date.now().toString(36);
let dir = "";
let run: StackRun | undefined;

// The chart's pods become Ready only on kwok's fake nodes: on a cluster of one's own
// (EDGEFLEET_USE_KUBECONFIG=1) they would pull an image no registry has, and `up` would wait for them.
describe.skipIf(process.env.EDGEFLEET_USE_KUBECONFIG === "1")("pulumi: the eu-west stack on a real cluster", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edgefleet-pulumi-"));
    const install = await installPulumi(dir, randomBytes(16).toString("hex"));
    const kubectl = execIn(inject("kubectl"), kubeconfig());
    run = await withFakeNode(kubectl, `pulumi-${id}`, () =>
      runStack(
        {
          install,
          kubeconfig: kubeconfig(),
          kubectl,
          startOperator: inProcessOperator(kubeconfig()),
          log: (line) => console.error(`pulumi: ${line}`),
          signingKey: randomBytes(32).toString("hex"),
          overrides: { namespace: `pulumi-${id}`, release: `edgefleet-${id}` },
        },
        "eu-west",
      ),
    );
  }, 20 * 60_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("rejects each bad config at preview with one line naming the stack, the site and the field", () => {
    expect(run?.rejectedAtPreview.map((r) => [r.name, r.failed, r.messages.length, r.resources])).toEqual([
      ["bad CIDR", true, 1, 0],
      ["unknown server class", true, 1, 0],
      ["missing kubeconfig", true, 1, 0],
    ]);
    expect(run?.rejectedAtPreview[0]?.messages[0]).toMatch(
      /^stack eu-west: site ams-polder-1: sites\[0\]\.prefixes\[0\]\.cidr: must be a CIDR prefix/,
    );
    expect(run?.appliedBeforeUp).toEqual([]);
  });

  it("up makes the CRDs, the chart, the Secret and the sites; the operator plans the exported Placements", () => {
    expect(run?.found.crds).toHaveLength(4);
    expect(run?.found.ocaclusters.sort()).toEqual(["ams-ix-1", "ams-polder-1"]);
    expect(run?.found.deployments.sort()).toEqual([`edgefleet-${id}-operator`, `edgefleet-${id}-steering`]);
    expect(run?.exported.steeringEndpoint).toBe(`http://edgefleet-${id}-steering.pulumi-${id}.svc.cluster.local`);
    expect(run?.found.steeringService).toBe(true);
    expect(run?.found.secretKey).toBe(true);
    expect([run?.secretInState, run?.secretInStackFile]).toEqual([false, false]);
    for (const c of run?.exported.clusters ?? []) expect(run?.planned[c.name]).toBe(c.placement);
  });

  it("a bad site at up changes nothing; a chart value and a site's servers each preview as their one update", () => {
    expect(run?.rejectedAtUp).toMatchObject({ failed: true, generationsKept: true });
    expect(run?.chartSteps.map((s) => [s.op, s.urn.split("::").at(-1)])).toEqual([
      ["update", `edgefleet-${id}:pulumi-${id}/edgefleet-${id}-steering`],
    ]);
    expect(run?.previewSteps.map((s) => [s.op, s.urn.split("::").at(-1)])).toEqual([
      ["update", "ocacluster-ams-polder-1"],
    ]);
    const after = run?.exportedAfterChange.find((c) => c.name === "ams-polder-1")?.placement;
    expect(run?.plannedAfterChange["ams-polder-1"]).toBe(after);
  });

  it("refresh finds no drift; destroy fails on an unreachable cluster, keeping the state, then leaves nothing", () => {
    expect(run?.drift).toEqual([]);
    expect(run?.unreachable).toMatchObject({ failed: true });
    expect(run?.unreachable.message).toMatch(/unreachable/i);
    expect(run?.unreachable.resourcesAfter).toBe(run?.unreachable.resourcesBefore);
    expect(run?.left).toEqual([]);
    expect(run ? problemsOf(run) : ["no run"]).toEqual([]);
  });
});
