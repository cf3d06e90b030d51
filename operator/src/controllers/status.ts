/**
 * Writing status: through the status subresource, only when it changed, owning only what we set. Each
 * controller writes under its own field manager (server-side apply then merges what the others own:
 * the fill controller's phase beside the OCACluster controller's expectations, the edge controller's
 * EdgeConfigured beside Ready), so each makes its writer once, with its manager.
 */
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { Condition, type Kind, type TypedKind } from "../api/index.js";
import { type Reconciler, reconcilerOf } from "../runtime/controller.js";
import type { Kube, KubeObject } from "../runtime/kube.js";
import { type ControllerSpec, self, watch } from "../runtime/manager.js";
import type { ControllerDeps } from "./deps.js";
import { fieldManager } from "./resources.js";

type Conditional = { conditions?: readonly { type: string }[] };

/**
 * True when `current` already holds every field of `next`. Other controllers own other fields and
 * condition types of the same status (server-side apply merges them), so only ours are compared.
 */
export function holds(current: unknown, next: object): boolean {
  const cur = (current ?? {}) as Record<string, unknown> & Conditional;
  return Object.entries(next).every(([k, v]) => {
    if (k !== "conditions") return isDeepStrictEqual(cur[k], v);
    const mine = new Set((v as Conditional["conditions"])?.map((c) => c.type));
    return isDeepStrictEqual(cur.conditions?.filter((c) => mine.has(c.type)) ?? [], v);
  });
}

/** What a status is written for: the object's identity, and its current status to compare with. */
export type StatusTarget = Readonly<{
  apiVersion: string;
  kind: string;
  metadata: Readonly<{ name: string; namespace?: string | undefined }>;
  status?: unknown;
}>;

/** Server-side applies `status` unless the target already holds it; resolves to whether it wrote. */
export type ApplyStatus = (kind: Kind, target: StatusTarget, status: object) => Promise<boolean>;

export function statusWriter(kube: Pick<Kube, "apply">, fieldManager: string): ApplyStatus {
  return async (kind, target, status) => {
    if (holds(target.status, status)) return false;
    const { name, namespace } = target.metadata;
    const patch = { apiVersion: target.apiVersion, kind: target.kind, metadata: { name, namespace }, status };
    await kube.apply(kind, patch, fieldManager, { subresource: "status" });
    return true;
  };
}

const Conditions = z.looseObject({ conditions: z.array(Condition).optional() });

/**
 * The status of an object that failed validation, as far as it can be read: its fields, and its
 * conditions when they are valid (they were written by us). Used to report an invalid spec.
 */
export function statusOf(obj: KubeObject): { fields: Record<string, unknown>; conditions: Condition[] } {
  const r = Conditions.safeParse(obj.status ?? {});
  return r.success ? { fields: r.data, conditions: r.data.conditions ?? [] } : { fields: {}, conditions: [] };
}

/**
 * A controller whose whole job is a status computed from the object alone (Title: its ladder;
 * Popularity: its title count), reported Ready=False with the bad fields when the spec is invalid.
 */
export function statusController<T>(
  name: string,
  kind: TypedKind<T>,
  statusFor: (obj: KubeObject, now: Date, valid: T | undefined) => object,
) {
  return {
    name,
    for: watch(kind, self),
    watches: [],
    make: (d: Pick<ControllerDeps, "kube" | "caches" | "now">): Reconciler => {
      const cache = d.caches.of(kind);
      const applyStatus = statusWriter(d.kube, fieldManager);
      return reconcilerOf(cache, async (entry) => {
        await applyStatus(kind, entry.object, statusFor(entry.object, d.now(), entry.value));
        return {};
      });
    },
  } satisfies ControllerSpec<Pick<ControllerDeps, "kube" | "caches" | "now">>;
}
