/** The kinds of cdn.edgefleet.dev/v1alpha1 and how each appears in the API: names, columns, immutability. */
import type { z } from "zod";
import { OCACluster, OCAClusterSpec, OCAClusterStatus } from "./ocacluster.js";
import { Placement, PlacementSpec, PlacementStatus } from "./placement.js";
import { Popularity, PopularitySpec, PopularityStatus } from "./popularity.js";
import { Title, TitleSpec, TitleStatus } from "./title.js";

export type PrinterColumn = Readonly<{
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}>;

export type KindInfo = Readonly<{
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  description: string;
  object: z.ZodType;
  spec: z.ZodType;
  status: z.ZodType;
  /** Fields under spec that never change after creation, as JSONPaths relative to spec ("" is all of it). */
  immutable: readonly string[];
  printerColumns: readonly PrinterColumn[];
}>;

export const category = "edgefleet";

const ready: PrinterColumn = {
  name: "Ready",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
};
const age: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

export const kinds = {
  OCACluster: {
    kind: "OCACluster",
    plural: "ocaclusters",
    singular: "ocacluster",
    shortNames: ["oca"],
    description: "A site of CDN cache servers inside an ISP or at an internet exchange.",
    object: OCACluster,
    spec: OCAClusterSpec,
    status: OCAClusterStatus,
    immutable: [".region", ".site.type", ".site.asn"],
    printerColumns: [
      ready,
      { name: "Region", type: "string", jsonPath: ".spec.region" },
      { name: "Site", type: "string", jsonPath: ".spec.site.type" },
      { name: "ISP", type: "string", jsonPath: ".spec.site.isp", priority: 1 },
      { name: "Servers", type: "integer", jsonPath: ".status.capacity.servers" },
      { name: "Storage", type: "string", jsonPath: ".status.capacity.storage" },
      { name: "Throughput", type: "string", jsonPath: ".status.capacity.throughput" },
      { name: "Placement", type: "string", jsonPath: ".status.activePlacement", priority: 1 },
      age,
    ],
  },
  Title: {
    kind: "Title",
    plural: "titles",
    singular: "title",
    shortNames: ["tt"],
    description: "A piece of content and the files it is encoded into; status carries its convex-hull ladder.",
    object: Title,
    spec: TitleSpec,
    status: TitleStatus,
    immutable: [".id"],
    printerColumns: [
      ready,
      { name: "ID", type: "string", jsonPath: ".spec.id" },
      { name: "Duration", type: "integer", jsonPath: ".spec.durationSeconds", description: "seconds" },
      { name: "Files", type: "integer", jsonPath: ".status.fileCount" },
      { name: "Bytes", type: "integer", jsonPath: ".status.totalBytes" },
      age,
    ],
  },
  Placement: {
    kind: "Placement",
    plural: "placements",
    singular: "placement",
    shortNames: ["plc"],
    description: "A consistent-hashing ring (cutoff D*, head and tail tokens per server) for one OCACluster.",
    object: Placement,
    spec: PlacementSpec,
    status: PlacementStatus,
    immutable: [""],
    printerColumns: [
      { name: "Cluster", type: "string", jsonPath: ".spec.cluster" },
      { name: "Catalog", type: "string", jsonPath: ".spec.catalogGeneration" },
      { name: "Cutoff", type: "integer", jsonPath: ".spec.cutoff" },
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      age,
    ],
  },
  Popularity: {
    kind: "Popularity",
    plural: "popularities",
    singular: "popularity",
    shortNames: ["pop"],
    description: "A region's daily demand per title: one object per region, replaced daily.",
    object: Popularity,
    spec: PopularitySpec,
    status: PopularityStatus,
    immutable: [".region"],
    printerColumns: [
      { name: "Region", type: "string", jsonPath: ".spec.region" },
      { name: "Catalog", type: "string", jsonPath: ".spec.catalogGeneration" },
      { name: "Titles", type: "integer", jsonPath: ".status.titleCount" },
      age,
    ],
  },
} as const satisfies Record<string, KindInfo>;

export type KindName = keyof typeof kinds;
export const kindNames = Object.keys(kinds) as KindName[];
