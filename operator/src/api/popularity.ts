/**
 * Popularity: a region's demand for every title, one object per region, replaced daily.
 *
 * Why one object per region: popularity changes every day for thousands of titles at once. On Title
 * it would be thousands of writes a day, each bumping a generation and waking every watcher of
 * Titles; per title and region it would be more. One object per region is one write a day, read
 * atomically, so HCA always ranks a consistent snapshot, named by `catalogGeneration` (which a
 * Placement records). Demand is a map, not a list: keys are unique by construction, and an atomic map
 * keeps server-side apply from tracking one managedFields entry per title.
 *
 * Size: at most 15,000 titles of ids ≤ 32 characters and demands ≤ 10^12 is under 800 KiB, and the
 * forecast's 5,000 at most add under 270 KiB (etcd's limit is 1.5 MiB); apply it server-side, since
 * client-side apply would store a second copy in an annotation.
 */
import { z } from "zod";
import { conditions, dnsLabel, objectSchema, observedGeneration } from "./common.js";
import { withRules } from "./rules.js";
import { TitleId } from "./title.js";

export const maxPopularityTitles = 15_000;
/** The hot set a forecast covers; with a full demand map the object stays under 1.1 MB (etcd: 1.5 MiB). */
export const maxForecastTitles = 5_000;

const plays = (max: number) =>
  withRules(
    z.record(z.string(), z.int().min(0).max(1e12)).meta({ "x-kubernetes-map-type": "atomic", maxProperties: max }),
    [
      {
        rule: "self.all(id, id.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(id) <= 32)",
        message: "keys must be title ids (lowercase alphanumerics and '-', at most 32 characters)",
        test: (d) => Object.keys(d).every((id) => TitleId.safeParse(id).success),
      },
    ],
  ).refine((d) => Object.keys(d).length <= max, { message: `at most ${max} titles` });

export const PopularitySpec = z.strictObject({
  region: dnsLabel.describe(
    "The region this demand was measured in, e.g. eu-west; name the object after it. Immutable.",
  ),
  catalogGeneration: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/)
    .describe('Identifies this snapshot, e.g. "2026-08-14"; Placements record the one they were computed from.'),
  demand: plays(maxPopularityTitles).describe(
    "Title id to plays over the last day, e.g. {night-harbor: 120000}. Only ratios matter; absent titles have none.",
  ),
  /** A Placement serves the next day, so the catalog ranks a title by its forecast where given; catalog/forecast.ts is one way to make it. */
  forecast: plays(maxForecastTitles)
    .optional()
    .describe(
      "Title id to expected plays over the next day, in the units of demand, at most 5,000 titles (the hot set). Where given, the catalog ranks a title by it instead of its demand.",
    ),
});

export const PopularityStatus = z.strictObject({
  observedGeneration,
  conditions: conditions.optional().describe("Ready: True when spec.demand is valid, else False naming the field."),
  titleCount: z.int().min(0).optional().describe("Entries in spec.demand, for `kubectl get pop`."),
});

export const Popularity = objectSchema("Popularity", PopularitySpec, PopularityStatus);
export type PopularitySpec = z.infer<typeof PopularitySpec>;
export type PopularityStatus = z.infer<typeof PopularityStatus>;
export type Popularity = z.infer<typeof Popularity>;
