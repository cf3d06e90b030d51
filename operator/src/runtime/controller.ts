/**
 * The reconciler contract and the loop that drives it (controller-runtime's is the reference).
 *
 * Reconciliation is level-based: a Request names an object, never an event. A reconcile that throws is
 * retried with per-key exponential back-off; one that throws TerminalError is not retried (the object
 * is invalid until someone changes it, which queues it again); `requeueAfterMs` asks for a timed
 * re-check (watches do not fire on time passing). Workers never reconcile one key concurrently.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { withRequestSignal } from "./kube.js";
import type { Metrics } from "./metrics.js";
import type { Cache, Entry } from "./store.js";
import type { WorkQueue } from "./workqueue.js";

export type Request = Readonly<{ namespace: string; name: string }>;
export type Result = Readonly<{ requeueAfterMs?: number }>;
export interface Reconciler {
  reconcile(req: Request, ctx: ReconcileContext): Promise<Result>;
}
export type ReconcileContext = Readonly<{ log: Logger; signal: AbortSignal }>;

/** A failure that retrying cannot fix. */
export class TerminalError extends Error {
  override name = "TerminalError";
}

export function requestOf(key: string): Request {
  const slash = key.indexOf("/");
  return slash < 0 ? { namespace: "", name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The cache and queue key of a request: "<namespace>/<name>" (or the name of a cluster-scoped object). */
export const requestKey = (r: Request): string => (r.namespace ? `${r.namespace}/${r.name}` : r.name);

/**
 * A reconciler of the objects of one cache: `fn` gets the requested object as cached; one that is gone
 * or being deleted has nothing to reconcile ({}).
 */
export function reconcilerOf<T>(
  cache: Pick<Cache<T>, "get">,
  fn: (entry: Entry<T>, req: Request, ctx: ReconcileContext) => Promise<Result>,
): Reconciler {
  return {
    reconcile(req, ctx) {
      const entry = cache.get(requestKey(req));
      return !entry || entry.object.metadata.deletionTimestamp ? Promise.resolve({}) : fn(entry, req, ctx);
    },
  };
}

export type ControllerOptions = Readonly<{
  name: string;
  queue: WorkQueue;
  reconciler: Reconciler;
  log: Logger;
  metrics: Metrics;
  workers?: number;
  /** Bounds one reconcile; it then fails and is retried with back-off. */
  timeoutMs?: number;
}>;

/** Runs workers until the queue is shut down; resolves when every worker has finished. */
export async function runController(opts: ControllerOptions, signal: AbortSignal): Promise<void> {
  const { name, queue, reconciler, metrics } = opts;
  const log = opts.log.child({ controller: name });
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const reconcileId = randomUUID();
      const rlog = log.child({ key, reconcileId });
      const stopTimer = metrics.reconcileTime.startTimer({ controller: name });
      const timeout = AbortSignal.timeout(opts.timeoutMs ?? 120_000);
      try {
        // Every API request of the reconcile carries this signal (withRequestSignal): losing the
        // leadership or the deadline cancels it for real.
        const stop = AbortSignal.any([signal, timeout]);
        const res = await withRequestSignal(stop, () =>
          reconciler.reconcile(requestOf(key), { log: rlog, signal: stop }),
        );
        queue.forget(key);
        if (res.requeueAfterMs !== undefined) {
          queue.addAfter(key, res.requeueAfterMs);
          metrics.reconcileTotal.inc({ controller: name, result: "requeue_after" });
        } else {
          metrics.reconcileTotal.inc({ controller: name, result: "success" });
        }
      } catch (err) {
        if (signal.aborted) {
          // Cut short by the end of the term (shutdown, or the Lease lost): no failure of the object's,
          // and the next term starts from every object anyway.
          rlog.debug({ err }, "reconcile stopped with the term");
          continue;
        }
        metrics.reconcileErrors.inc({ controller: name });
        if (err instanceof TerminalError) {
          queue.forget(key);
          metrics.terminalErrors.inc({ controller: name });
          metrics.reconcileTotal.inc({ controller: name, result: "error" });
          rlog.error({ err }, "reconcile failed; not retrying");
        } else {
          const delayMs = queue.addRateLimited(key);
          metrics.reconcileTotal.inc({ controller: name, result: "error" });
          rlog.warn({ err, delayMs, failures: queue.failures(key) }, "reconcile failed; retrying");
        }
      } finally {
        stopTimer();
        queue.done(key);
        metrics.queueDepth.set({ name }, queue.depth);
      }
    }
  };
  const onAbort = () => queue.shutDown();
  signal.addEventListener("abort", onAbort, { once: true });
  await Promise.all(Array.from({ length: opts.workers ?? 2 }, worker));
  signal.removeEventListener("abort", onAbort);
}
