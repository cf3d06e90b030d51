/**
 * Pulumi resources of edgefleet's own kinds, made from the zod schemas in operator/src/api (the single
 * source of the types, the validation and the CRDs): the CRDs themselves from `crdFor`, and the objects
 * as custom resources whose spec is the schema's type.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import {
  apiVersion,
  crdFor,
  type KindName,
  kindNames,
  kinds,
  mustParse,
  type Objects,
} from "../../operator/src/api/index.js";

/** The spec of a kind, as its zod schema outputs it (defaults filled in). */
export type SpecOf<K extends KindName> = Objects[K]["spec"];

export type KindResourceArgs<K extends KindName> = Readonly<{
  /** The object's name in the cluster. */
  name: string;
  namespace: pulumi.Input<string>;
  labels?: Readonly<Record<string, string>>;
  spec: SpecOf<K>;
}>;

/**
 * An object of one of our kinds, typed by its zod schema. The whole object is parsed again before Pulumi
 * sees it (mustParse throws a ValidationError naming each field), so the stack sends exactly what the
 * operator will read, defaults included, and a later default in the schema shows up as a diff.
 */
export class KindResource<K extends KindName> extends k8s.apiextensions.CustomResource {
  declare readonly spec: pulumi.Output<SpecOf<K>>;

  constructor(kind: K, args: KindResourceArgs<K>, opts?: pulumi.CustomResourceOptions) {
    const obj = mustParse(kind, { apiVersion, kind, metadata: { name: args.name }, spec: args.spec });
    super(
      `${kinds[kind].singular}-${args.name}`,
      {
        apiVersion,
        kind,
        metadata: {
          name: args.name,
          namespace: args.namespace,
          ...(args.labels ? { labels: { ...args.labels } } : {}),
        },
        spec: obj.spec,
      },
      opts,
    );
  }
}

/**
 * The four CustomResourceDefinitions, generated from the schemas as `npm run gen:crds` writes crds/ (a
 * unit test there keeps the files and the schemas in step, so these equal the chart's crds/).
 */
export function crdResources(opts: pulumi.CustomResourceOptions): k8s.apiextensions.v1.CustomResourceDefinition[] {
  return kindNames.map(
    (k) =>
      new k8s.apiextensions.v1.CustomResourceDefinition(
        `crd-${kinds[k].plural}`,
        // crdFor returns the CRD as plain JSON (what gen:crds writes), typed no further than an object.
        crdFor(kinds[k]) as unknown as k8s.apiextensions.v1.CustomResourceDefinitionArgs,
        opts,
      ),
  );
}
