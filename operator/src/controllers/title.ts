/**
 * Title controller: validates each Title and publishes its convex-hull ladder, total bytes and file
 * count in status, so the playback API and `kubectl get titles` read them without recomputing. It also
 * says whether the region catalogs take the Title (Valid): a Title naming a file path an older Title of
 * one of its regions also names is left out of that region's catalog (catalog/titles.ts), by the
 * operator and every edge agent alike, and the rest of the region goes on without it.
 */
import { formatFieldErrors, Kinds, parseObject, type Title, type TitleStatus } from "../api/index.js";
import { describeConflicts, type PathConflict, pathConflicts, TitlePaths } from "../catalog/titles.js";
import { buildLadder, totalBytes } from "../ladder/index.js";
import type { Caches } from "../runtime/caches.js";
import { type Reconciler, reconcilerOf } from "../runtime/controller.js";
import { type EventRecorder, referenceTo } from "../runtime/events.js";
import type { Kube, KubeObject } from "../runtime/kube.js";
import { type ControllerSpec, self, type Watch, watch } from "../runtime/manager.js";
import type { Cache } from "../runtime/store.js";
import { type NewCondition, setConditions } from "./conditions.js";
import type { ControllerDeps } from "./deps.js";
import { titleInvalid } from "./events.js";
import { fieldManager } from "./resources.js";
import { statusOf, statusWriter } from "./status.js";

/**
 * Pure: the status a Title should have. An invalid spec gets Ready=False and Valid=False naming every
 * bad field; a Title with path conflicts gets both False (DuplicatePath) naming the path, the older
 * Title and the region, with its ladder still published. `valid` is the object as its cache validated
 * it; without it, the spec is validated here.
 */
export function titleStatus(
  obj: KubeObject,
  now: Date,
  valid?: Title,
  conflicts: readonly PathConflict[] = [],
): TitleStatus {
  const old = statusOf(obj);
  const generation = obj.metadata.generation;
  const r = valid ? { ok: true as const, value: valid } : parseObject("Title", { ...obj, status: undefined });
  const both = (status: "True" | "False", reason: string, message: string): NewCondition[] =>
    ["Ready", "Valid"].map((type) => ({ type, status, reason, message, observedGeneration: generation }));
  if (!r.ok) {
    return {
      observedGeneration: generation,
      conditions: setConditions(old.conditions, both("False", "InvalidSpec", formatFieldErrors(r.errors)), now),
    };
  }
  const spec = r.value.spec;
  const cs = conflicts.length
    ? both("False", "DuplicatePath", describeConflicts(conflicts))
    : [
        { type: "Ready", status: "True" as const, reason: "LadderBuilt", message: "", observedGeneration: generation },
        { type: "Valid", status: "True" as const, reason: "Valid", message: "", observedGeneration: generation },
      ];
  return {
    observedGeneration: generation,
    conditions: setConditions(old.conditions, cs, now),
    ladder: buildLadder(spec.files),
    totalBytes: totalBytes(spec.files),
    fileCount: spec.files.length,
  };
}

export type TitleDeps = Readonly<{
  kube: Pick<Kube, "apply">;
  titles: Pick<Cache<Title>, "get">;
  /** Which Titles name which paths (kept current by the controller's watch). */
  paths: Pick<TitlePaths, "sharing">;
  now: () => Date;
  events: EventRecorder;
}>;

export function makeTitleReconciler(d: TitleDeps): Reconciler {
  const applyStatus = statusWriter(d.kube, fieldManager);
  return reconcilerOf(d.titles, async (entry) => {
    const t = entry.value;
    const others = t ? d.paths.sharing(entry.key).flatMap((k) => d.titles.get(k)?.value ?? []) : [];
    const conflicts = t ? pathConflicts(t, others) : [];
    const status = titleStatus(entry.object, d.now(), t, conflicts);
    if (await applyStatus(Kinds.Title, entry.object, status)) {
      const before = statusOf(entry.object).conditions;
      for (const e of titleInvalid(referenceTo(entry.object), before, status.conditions)) await d.events.record(e);
    }
    return {};
  });
}

/** One index per process's caches (a test's fake caches get their own). */
const indexes = new WeakMap<Caches, TitlePaths>();
function titlePathsOf(caches: Caches): TitlePaths {
  const found = indexes.get(caches);
  if (found) return found;
  const made = new TitlePaths();
  indexes.set(caches, made);
  return made;
}

/**
 * A Title's spec change (added, deleted, its files edited, made valid or invalid) wakes the other
 * Titles naming one of the paths it named before or names now: their conflicts may have come or gone.
 */
const sharedPaths: Watch = {
  kind: Kinds.Title,
  subscribe(caches, enqueue) {
    const index = titlePathsOf(caches);
    const titles = caches.of(Kinds.Title);
    titles.onSpecChange((key) => {
      const now = titles.get(key)?.value;
      for (const k of index.update(key, now ? now.spec.files.map((f) => f.path) : [])) enqueue(k);
    });
  },
};

type Deps = Pick<ControllerDeps, "kube" | "caches" | "now" | "events">;

export const titleController = {
  name: "title",
  // A reconcile is one status write: 10,000 Titles wait on the API server, not on this process.
  workers: 16,
  // Its status follows from its spec (and the specs sharing its paths): its own status writes coming
  // back from the watch need no second reconcile (controller-runtime's GenerationChangedPredicate).
  for: watch(Kinds.Title, self, { on: "spec" }),
  watches: [sharedPaths],
  make: (d: Deps) =>
    makeTitleReconciler({
      kube: d.kube,
      titles: d.caches.of(Kinds.Title),
      paths: titlePathsOf(d.caches),
      now: d.now,
      events: d.events,
    }),
} satisfies ControllerSpec<Deps>;
