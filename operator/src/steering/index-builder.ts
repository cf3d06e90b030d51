/**
 * Builds steering indexes in a worker thread, so that a full table (a million prefixes, seconds of
 * work) never holds answers up: the event loop only packs the announcements (a cluster at a time,
 * yielding between clusters), hands them over as one string and one typed array, and takes back typed
 * arrays without a copy. The caller swaps the finished index in whole (store.ts `setIndex`).
 */
import { Worker } from "node:worker_threads";
import type { BuildReply, BuildRequest } from "./index-build-worker.js";
import type { ClusterView } from "./snapshot.js";
import {
  assembleIndex,
  type PackedAnnouncements,
  packAnnouncements,
  type SteeringIndex,
  SteeringInputError,
  sortClusters,
} from "./steering-index.js";

const yieldToRequests = () => new Promise<void>((r) => setImmediate(r));

/** The worker's module: its .ts source under tsx (tests, benchmarks), the compiled .js in the image. */
function workerUrl(): { url: URL; execArgv: string[] } {
  const ts = import.meta.url.endsWith(".ts");
  return {
    url: new URL(ts ? "./index-build-worker.ts" : "./index-build-worker.js", import.meta.url),
    execArgv: ts ? ["--import", "tsx"] : [],
  };
}

export class IndexBuilder {
  #worker: Worker | undefined;
  #next = 0;
  readonly #waiting = new Map<number, { resolve: (r: BuildReply) => void; reject: (e: unknown) => void }>();

  /** The index of these clusters; throws SteeringInputError (naming the field) on bad input. */
  async build(input: readonly ClusterView[]): Promise<SteeringIndex> {
    const clusters = sortClusters(input);
    const pack = packAnnouncements(clusters);
    let step = pack.next();
    while (step.done !== true) {
      await yieldToRequests();
      step = pack.next();
    }
    const reply = await this.#send(step.value);
    if ("error" in reply) {
      throw reply.input ? new SteeringInputError(reply.error) : new Error(`index build failed: ${reply.error}`);
    }
    return assembleIndex(clusters, reply.parts);
  }

  #send(packed: PackedAnnouncements): Promise<BuildReply> {
    const worker = this.#worker ?? this.#start();
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ id, packed } satisfies BuildRequest, [packed.attrs.buffer as ArrayBuffer]);
    });
  }

  #start(): Worker {
    const { url, execArgv } = workerUrl();
    const worker = new Worker(url, { execArgv });
    // Idle between builds, it must not keep the process alive.
    worker.unref();
    worker.on("message", (r: BuildReply) => {
      this.#waiting.get(r.id)?.resolve(r);
      this.#waiting.delete(r.id);
    });
    const fail = (err: unknown) => {
      for (const w of this.#waiting.values()) w.reject(err);
      this.#waiting.clear();
      this.#worker = undefined;
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the index build thread exited (code ${code})`)));
    this.#worker = worker;
    return worker;
  }

  /** Ends the worker thread; builds still running are rejected. */
  async stop(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    if (w !== undefined) await w.terminate();
  }
}
