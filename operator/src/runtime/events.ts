/**
 * Kubernetes Events (events.k8s.io/v1), recorded as client-go's event recorder records them: an event
 * that repeats (same object, related object, type, reason, action and note) within the series window
 * becomes one Event whose `series.count` grows, written again at most once per `seriesWriteMs`, instead
 * of a new object each time; and each object has a token bucket (burst 25, one more every 5 minutes,
 * client-go's spam filter) so that no object floods etcd. Recording never fails a reconcile: an event
 * that cannot be written is logged and dropped.
 *
 * Unlike client-go's events.k8s.io recorder, the note is part of what makes two events the same: our
 * notes name the server or the Placement, and "f02 stale" is not another count of "s01 stale".
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { Kinds, microTime } from "../api/index.js";
import type { Kube } from "./kube.js";

export type ObjectReference = Readonly<{
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string | undefined;
  uid?: string | undefined;
}>;

export type NewEvent = Readonly<{
  /** The object the event is about; `kubectl describe` of it lists the event. */
  regarding: ObjectReference;
  related?: ObjectReference | undefined;
  type: "Normal" | "Warning";
  /** CamelCase, what people grep for: PlacementPlanned, ServerUnhealthy. */
  reason: string;
  /** What the controller did or failed to do: Plan, Fill, Promote. */
  action: string;
  note: string;
}>;

/** What controllers record events through. */
export interface EventRecorder {
  /** Resolves once the event is written, folded into a series, or dropped; never rejects. */
  record(e: NewEvent): Promise<void>;
}

export type SeriesPolicy = Readonly<{
  /** An event not seen again for this long ends its series; the next one is a new Event (client-go: 6 min). */
  seriesWindowMs: number;
  /** Series counts are written at most this often per series (the second occurrence is written at once). */
  seriesWriteMs: number;
  /** Spam filter per regarding object: this many events at once, then one per `refillMs`. */
  burst: number;
  refillMs: number;
  /** Series remembered at most (least recently seen forgotten first). */
  maxSeries: number;
}>;

export const defaultSeriesPolicy: SeriesPolicy = {
  seriesWindowMs: 6 * 60_000,
  seriesWriteMs: 60_000,
  burst: 25,
  refillMs: 5 * 60_000,
  maxSeries: 4096,
};

type Series = { name: string; first: number; last: number; count: number; written: number };

/** What to do with one occurrence: create a new Event, write a series' count, or nothing. */
export type Decision =
  | Readonly<{ write: "create"; name: string; count: 1; first: number; last: number }>
  | Readonly<{ write: "series"; name: string; count: number; first: number; last: number }>
  | Readonly<{ write: "none"; why: "series" | "spam" }>;

const refKey = (r: ObjectReference | undefined) =>
  r ? `${r.apiVersion}/${r.kind}/${r.namespace ?? ""}/${r.name}/${r.uid ?? ""}` : "";

/** Pure bookkeeping of series and spam buckets; the clock is passed in. */
export class EventCorrelator {
  readonly #p: SeriesPolicy;
  readonly #series = new Map<string, Series>();
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(policy: SeriesPolicy = defaultSeriesPolicy) {
    this.#p = policy;
  }

  observe(e: NewEvent, now: number, newName: () => string): Decision {
    this.#forgetEnded(now);
    const key = JSON.stringify([refKey(e.regarding), refKey(e.related), e.type, e.reason, e.action, e.note]);
    const s = this.#series.get(key);
    if (s) {
      s.count++;
      s.last = now;
      this.#series.delete(key); // re-insert: the map stays in least-recently-seen order
      this.#series.set(key, s);
      if (s.count > 2 && now - s.written < this.#p.seriesWriteMs) return { write: "none", why: "series" };
      s.written = now;
      return { write: "series", name: s.name, count: s.count, first: s.first, last: now };
    }
    if (!this.#take(refKey(e.regarding), now)) return { write: "none", why: "spam" };
    const name = newName();
    this.#series.set(key, { name, first: now, last: now, count: 1, written: now });
    if (this.#series.size > this.#p.maxSeries) this.#series.delete(this.#series.keys().next().value ?? "");
    return { write: "create", name, count: 1, first: now, last: now };
  }

  #forgetEnded(now: number): void {
    for (const [k, s] of this.#series) {
      if (now - s.last < this.#p.seriesWindowMs) break; // the rest were seen more recently
      this.#series.delete(k);
    }
  }

  #take(object: string, now: number): boolean {
    const b = this.#buckets.get(object) ?? { tokens: this.#p.burst, at: now };
    b.tokens = Math.min(this.#p.burst, b.tokens + (now - b.at) / this.#p.refillMs);
    b.at = now;
    this.#buckets.delete(object);
    this.#buckets.set(object, b);
    if (this.#buckets.size > this.#p.maxSeries) this.#buckets.delete(this.#buckets.keys().next().value ?? "");
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/** An Event's name: the regarding object's, and random hex (as client-go), within 253 characters. */
const eventName = (regarding: ObjectReference) => `${regarding.name.slice(0, 230)}.${randomBytes(8).toString("hex")}`;

/** The events.k8s.io/v1 Event for one decision. */
export function eventObject(
  e: NewEvent,
  d: Exclude<Decision, { write: "none" }>,
  reporting: Readonly<{ controller: string; instance: string }>,
) {
  const ref = (r: ObjectReference) => ({ ...r });
  return {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: { name: d.name, namespace: e.regarding.namespace ?? "default" },
    eventTime: microTime(new Date(d.first)),
    ...(d.count > 1 ? { series: { count: d.count, lastObservedTime: microTime(new Date(d.last)) } } : {}),
    reportingController: reporting.controller,
    reportingInstance: reporting.instance.slice(0, 128),
    action: e.action,
    reason: e.reason,
    type: e.type,
    // The API server refuses a note over 1 kB.
    note: Buffer.byteLength(e.note) <= 1024 ? e.note : `${Buffer.from(e.note).subarray(0, 1000).toString()}…`,
    regarding: ref(e.regarding),
    ...(e.related ? { related: ref(e.related) } : {}),
  };
}

export const eventsFieldManager = "edgefleet-events";

/** Records events through the API, one series per repeated event. */
export function eventRecorder(
  kube: Pick<Kube, "apply">,
  reporting: Readonly<{ controller: string; instance: string }>,
  log: Logger,
  opts: Readonly<{ policy?: SeriesPolicy; now?: () => number }> = {},
): EventRecorder {
  const correlator = new EventCorrelator(opts.policy);
  const now = opts.now ?? Date.now;
  return {
    async record(e) {
      const d = correlator.observe(e, now(), () => eventName(e.regarding));
      if (d.write === "none") {
        if (d.why === "spam") log.debug({ reason: e.reason, object: e.regarding.name }, "event dropped: too many");
        return;
      }
      try {
        // Server-side apply of the whole Event: creates it, or updates its series.
        await kube.apply(Kinds.Event, eventObject(e, d, reporting), eventsFieldManager);
      } catch (err) {
        log.warn({ err, reason: e.reason, object: e.regarding.name }, "could not record event");
      }
    },
  };
}

/** A reference to one of the objects controllers hold (its uid lets kubectl describe match it). */
export const referenceTo = (o: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string | undefined; uid?: string | undefined };
}): ObjectReference => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  namespace: o.metadata.namespace,
  uid: o.metadata.uid,
});
