/**
 * EdgefleetRegion: one region's fleet in its own cluster, as one Pulumi component.
 *
 *   provider (kubeconfig, context)
 *   ├─ Namespaces: the release's, and the fleet's when it differs
 *   ├─ CRDs: the four kinds, generated from the zod schemas
 *   ├─ Secret edgefleet-url-signing in each namespace (the key is a Pulumi secret)
 *   ├─ the chart charts/edgefleet (helm.v4.Chart, its CRDs skipped: they are above) → operator, steering
 *   └─ OCAClusters (one per site), the region's Popularity and Titles, typed by their schemas
 *
 * The fleet's objects depend on the CRDs and namespaces, not on the chart, so `destroy` removes them
 * before the CRDs (the API server would otherwise delete them with their CRD) and the operator's
 * Placements, Jobs and edge objects go with them (owner references).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { RegionSpec } from "./config.js";
import { crdResources, KindResource } from "./objects.js";
import { plannedPlacements } from "./planned.js";

export type EdgefleetRegionArgs = RegionSpec & Readonly<{ urlSigningKey: pulumi.Input<string> }>;

/** One OCACluster: its name, and the Placement it will be served from (null: no titles to place). */
export type ClusterOutput = Readonly<{ name: string; placement: string | null }>;

export const regionLabel = "cdn.edgefleet.dev/region";

type Values = Readonly<Record<string, unknown>>;

const isRecord = (v: unknown): v is Values => typeof v === "object" && v !== null && !Array.isArray(v);

/** A value of the chart: the stack's, else the chart's default (values.yaml). */
export function chartValue(spec: Pick<RegionSpec, "chartValues" | "chartDefaults">, path: string): unknown {
  const at = (v: unknown) => path.split(".").reduce<unknown>((o, k) => (isRecord(o) ? o[k] : undefined), v);
  return at(spec.chartValues) ?? at(spec.chartDefaults);
}

/** The stack's chart values, with the edge agent's namespace defaulting to the fleet's. */
export function releaseValues(spec: RegionSpec): Values {
  const agent = isRecord(spec.chartValues.agent) ? spec.chartValues.agent : {};
  return { ...spec.chartValues, agent: { ...agent, namespaces: agent.namespaces ?? [spec.fleetNamespace] } };
}

export class EdgefleetRegion extends pulumi.ComponentResource {
  readonly provider: k8s.Provider;
  readonly chart: k8s.helm.v4.Chart;
  readonly clusterResources: readonly KindResource<"OCACluster">[];
  /** `http://<service>.<namespace>.svc.cluster.local:<port>`, from the Service the chart made. */
  readonly steeringEndpoint: pulumi.Output<string | undefined>;
  readonly clusters: pulumi.Output<ClusterOutput[]>;

  constructor(name: string, args: EdgefleetRegionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("edgefleet:index:EdgefleetRegion", name, {}, opts);
    this.provider = new k8s.Provider(
      `${name}-cluster`,
      { kubeconfig: args.kubeconfig, ...(args.context ? { context: args.context } : {}) },
      { parent: this },
    );
    const o = { parent: this, provider: this.provider };
    const names = [...new Set([args.namespace, args.fleetNamespace])];
    const namespaces = names.map((ns) => new k8s.core.v1.Namespace(`ns-${ns}`, { metadata: { name: ns } }, o));
    const crds = crdResources(o);
    const secretName = String(chartValue(args, "urlSigning.secretName"));
    const secretKey = String(chartValue(args, "urlSigning.key"));
    const secrets = names.map(
      (ns) =>
        new k8s.core.v1.Secret(
          `url-signing-${ns}`,
          {
            metadata: { name: secretName, namespace: ns },
            type: "Opaque",
            stringData: { [secretKey]: pulumi.secret(args.urlSigningKey) },
          },
          { ...o, dependsOn: namespaces },
        ),
    );
    this.chart = new k8s.helm.v4.Chart(
      args.release,
      {
        chart: args.chartPath,
        name: args.release,
        namespace: args.namespace,
        values: releaseValues(args),
        skipCrds: true,
      },
      { ...o, dependsOn: [...namespaces, ...crds, ...secrets] },
    );
    const fleet = { ...o, dependsOn: [...namespaces, ...crds] };
    const labels = { [regionLabel]: args.region };
    const ns = args.fleetNamespace;
    this.clusterResources = args.sites.map(
      (s) => new KindResource("OCACluster", { name: s.name, namespace: ns, labels, spec: s.spec }, fleet),
    );
    new KindResource("Popularity", { name: args.region, namespace: ns, labels, spec: args.popularity }, fleet);
    for (const t of args.titles)
      new KindResource("Title", { name: t.metadata.name, namespace: ns, labels, spec: t.spec }, fleet);

    const planned = plannedPlacements(args);
    this.clusters = pulumi
      .all(this.clusterResources.map((c) => c.metadata.name))
      .apply((ns) => ns.map((n) => ({ name: n, placement: planned[n] ?? null })));
    this.steeringEndpoint = steeringEndpoint(this.chart);
    this.registerOutputs({ steeringEndpoint: this.steeringEndpoint, clusters: this.clusters });
  }
}

/** The steering Service among what the chart made (component label "steering"), as a URL. */
function steeringEndpoint(chart: k8s.helm.v4.Chart): pulumi.Output<string | undefined> {
  return chart.resources.apply((rs: unknown[]) => {
    const services = rs.filter((r): r is k8s.core.v1.Service => k8s.core.v1.Service.isInstance(r));
    return pulumi.all(services.map((s) => pulumi.all([s.metadata, s.spec]))).apply((ss) => {
      const found = ss.find(([m]) => m.labels?.["app.kubernetes.io/component"] === "steering");
      if (!found) return undefined;
      const [m, spec] = found;
      const port = spec.ports[0]?.port ?? 80;
      return `http://${m.name}.${m.namespace}.svc.cluster.local${port === 80 ? "" : `:${port}`}`;
    });
  });
}
