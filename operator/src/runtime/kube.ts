/**
 * The one place that talks to the Kubernetes API. @kubernetes/client-node loads the kubeconfig (files,
 * in-cluster service accounts, exec plugins) and supplies TLS material and credentials; requests are
 * plain HTTPS so that server-side apply, the status subresource and streaming watches need no
 * per-type generated client.
 *
 * Controllers never see HTTP codes: get() maps 404 to undefined and every failure is an ApiError.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import type { Kind } from "../api/resources.js";

export type ObjectKey = Readonly<{ namespace?: string; name: string }>;

export type ObjectMeta = {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }[];
  creationTimestamp?: string;
};

export type KubeObject = { apiVersion: string; kind: string; metadata: ObjectMeta; [field: string]: unknown };

export type WatchEvent<T> = Readonly<{ type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"; object: T }>;

/** A failed API call, with the server's Status reason and, for invalid objects, the offending fields. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly reason: string;
  readonly causes: readonly { field?: string; message?: string; reason?: string }[];
  constructor(
    status: number,
    reason: string,
    message: string,
    causes: ApiError["causes"] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.status = status;
    this.reason = reason;
    this.causes = causes;
  }
}

/** A watch whose resourceVersion is too old (HTTP 410 Gone): the caller must list again. */
export class WatchExpiredError extends Error {
  override name = "WatchExpiredError";
}

export const apiVersionOf = (k: Kind): string => (k.group ? `${k.group}/${k.version}` : k.version);

export function keyOf(o: { metadata: ObjectMeta }): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

type Query = Record<string, string | number | boolean | undefined>;

export type WatchOptions = Readonly<{
  namespace?: string | undefined;
  resourceVersion: string;
  timeoutSeconds?: number | undefined;
  /** Only objects with these labels (the operator caches only its own Jobs and Leases). */
  labelSelector?: string | undefined;
  /** Called once the server has accepted the watch (its stream is open), before any event. */
  onOpen?: (() => void) | undefined;
}>;

/**
 * Sees every request the client sends, once: when the response headers arrive (for a watch, when its
 * stream opens), or with status 0 when the connection fails. What client-go counts as
 * rest_client_requests_total; `path` has no query string, and `watch` tells a watch from a list.
 */
export type RequestObserver = (r: Readonly<{ method: string; path: string; watch: boolean; status: number }>) => void;

/** Everything the processes ask of the API, as one narrow type that tests can fake. */
export type KubeClient = Pick<Kube, "get" | "list" | "watch" | "apply" | "create" | "update" | "delete">;

/**
 * How long a request other than a watch may take before it fails (ApiError "ConnectionError"): an API
 * server that accepts connections but never answers (stalled, partitioned) must not hang a reconcile
 * or a lease renewal forever.
 */
export const defaultRequestTimeoutMs = 30_000;

const requestScope = new AsyncLocalStorage<AbortSignal>();

/**
 * Runs `fn` so that every API request it makes, however deep, is aborted when `signal` aborts: the
 * controller loop wraps each reconcile in its term's and its timeout's signal, so a reconcile that
 * outlives its leadership or its deadline stops talking to the API server at once (its requests fail
 * with ApiError "Aborted") instead of finishing writes another leader may be making.
 */
export function withRequestSignal<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  const outer = requestScope.getStore();
  return requestScope.run(outer ? AbortSignal.any([outer, signal]) : signal, fn);
}

export class Kube {
  readonly #server: URL;
  readonly #options: RequestOptions;
  readonly #onRequest: RequestObserver | undefined;
  readonly #timeoutMs: number;

  private constructor(server: URL, options: RequestOptions, onRequest?: RequestObserver, timeoutMs?: number) {
    this.#server = server;
    this.#options = options;
    this.#onRequest = onRequest;
    this.#timeoutMs = timeoutMs ?? defaultRequestTimeoutMs;
  }

  /** From a kubeconfig file, or the default chain (KUBECONFIG, ~/.kube/config, in-cluster). */
  static async connect(
    kubeconfigPath?: string,
    opts: { onRequest?: RequestObserver; requestTimeoutMs?: number } = {},
  ): Promise<Kube> {
    const kc = new KubeConfig();
    if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
    else kc.loadFromDefault();
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`kubeconfig ${kubeconfigPath ?? "(default)"} has no current cluster`);
    const http: RequestOptions & { headers: Record<string, string> } = { headers: {} };
    await kc.applyToHTTPSOptions(http);
    // client-node's https.Agent does not keep connections alive: every request paid a TLS handshake
    // (and a new secure context) on both ends, most of the operator's CPU and much of the API
    // server's. Ours keeps them, as client-go does. A proxy agent (kubeconfig proxy-url) is kept as is.
    if (http.agent instanceof HttpsAgent && !cluster.proxyUrl) {
      http.agent = new HttpsAgent({ ...http.agent.options, keepAlive: true, scheduling: "lifo" });
    }
    return new Kube(new URL(cluster.server), http, opts.onRequest, opts.requestTimeoutMs);
  }

  /** The REST path of a collection (no name) or of one object. */
  path(kind: Kind, key?: Partial<ObjectKey>, subresource?: string): string {
    const base = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
    const ns = kind.namespaced && key?.namespace ? `/namespaces/${encodeURIComponent(key.namespace)}` : "";
    const name = key?.name ? `/${encodeURIComponent(key.name)}` : "";
    return `${base}${ns}/${kind.plural}${name}${subresource && key?.name ? `/${subresource}` : ""}`;
  }

  async get<T extends KubeObject>(kind: Kind, key: ObjectKey): Promise<T | undefined> {
    try {
      return (await this.#json("GET", this.path(kind, key))) as T;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject>(
    kind: Kind,
    opts: { namespace?: string | undefined; labelSelector?: string | undefined; signal?: AbortSignal } = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let resourceVersion = "";
    let cont: string | undefined;
    do {
      const query = { limit: 500, continue: cont, labelSelector: opts.labelSelector };
      const page = (await this.#json("GET", this.path(kind, { namespace: opts.namespace }), undefined, query, {
        signal: opts.signal,
      })) as { items: T[]; metadata: { resourceVersion: string; continue?: string } };
      // Lists omit apiVersion/kind on items; restore them so objects look the same as from get().
      for (const it of page.items) items.push({ ...it, apiVersion: apiVersionOf(kind), kind: kind.kind });
      resourceVersion = page.metadata.resourceVersion;
      cont = page.metadata.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  /** Server-side apply of the fields this manager owns; `force` takes over conflicting fields. */
  async apply<T extends KubeObject>(
    kind: Kind,
    obj: KubeObject,
    fieldManager: string,
    opts: { force?: boolean; subresource?: "status" } = {},
  ): Promise<T> {
    const key = { namespace: obj.metadata.namespace, name: obj.metadata.name };
    return (await this.#json("PATCH", this.path(kind, key, opts.subresource), obj, {
      fieldManager,
      force: opts.force ?? true,
    })) as T;
  }

  async create<T extends KubeObject>(kind: Kind, obj: KubeObject, fieldManager?: string): Promise<T> {
    return (await this.#json("POST", this.path(kind, { namespace: obj.metadata.namespace }), obj, {
      fieldManager,
    })) as T;
  }

  /** Replaces an object, failing with 409 Conflict when its resourceVersion is stale (optimistic concurrency). */
  async update<T extends KubeObject>(kind: Kind, obj: KubeObject, subresource?: "status"): Promise<T> {
    return (await this.#json("PUT", this.path(kind, obj.metadata, subresource), obj)) as T;
  }

  /** Deletes; a missing object is not an error. */
  async delete(kind: Kind, key: ObjectKey, propagationPolicy = "Background"): Promise<void> {
    try {
      await this.#json("DELETE", this.path(kind, key), { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
  }

  /**
   * Streams watch events from `resourceVersion` until the server ends the watch (it does so after
   * timeoutSeconds) or `signal` aborts; `onOpen` is called once the server has accepted it. Throws
   * WatchExpiredError when the version is too old, and ApiError "Timeout" when the server does not
   * answer within the request timeout (an API server that accepts connections but never answers must
   * not hold a watch, and whoever waits on it, forever).
   */
  async watch<T extends KubeObject>(
    kind: Kind,
    opts: WatchOptions,
    onEvent: (e: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const path = this.path(kind, { namespace: opts.namespace });
    const unanswered = new AbortController();
    const timer = setTimeout(() => unanswered.abort(), this.#timeoutMs);
    let res: IncomingMessage;
    try {
      res = await this.#send(
        "GET",
        path,
        undefined,
        {
          watch: true,
          allowWatchBookmarks: true,
          resourceVersion: opts.resourceVersion,
          timeoutSeconds: opts.timeoutSeconds ?? 300,
          labelSelector: opts.labelSelector,
        },
        AbortSignal.any([signal, unanswered.signal]),
      );
    } catch (err) {
      if (!unanswered.signal.aborted || signal.aborted) throw err;
      throw new ApiError(0, "Timeout", `watch ${path}: no answer within ${this.#timeoutMs / 1000} s`, [], {
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
    if (res.statusCode === 410) throw new WatchExpiredError(`watch ${kind.plural}: resourceVersion expired`);
    if (res.statusCode !== 200) throw await apiErrorOf(res);
    opts.onOpen?.();
    let buf = "";
    res.setEncoding("utf8");
    try {
      for await (const chunk of res) {
        buf += chunk as string;
        let nl = buf.indexOf("\n");
        while (nl >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          nl = buf.indexOf("\n");
          if (!line) continue;
          const ev = JSON.parse(line) as { type: string; object: T & { code?: number; message?: string } };
          if (ev.type === "ERROR") {
            if (ev.object.code === 410) throw new WatchExpiredError(`watch ${kind.plural}: ${ev.object.message}`);
            throw new ApiError(ev.object.code ?? 500, "WatchError", `watch ${kind.plural}: ${ev.object.message}`);
          }
          onEvent(ev as WatchEvent<T>);
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
  }

  async #json(
    method: string,
    path: string,
    body?: unknown,
    query?: Query,
    opts: { signal?: AbortSignal | undefined } = {},
  ): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const callers = [opts.signal, requestScope.getStore()].filter((x): x is AbortSignal => x !== undefined);
    const signal = AbortSignal.any([...callers, timeout]);
    try {
      const res = await this.#send(method, path, body, query, signal);
      if (res.statusCode === undefined || res.statusCode >= 300) throw await apiErrorOf(res, `${method} ${path}`);
      const text = await readAll(res);
      return text ? JSON.parse(text) : undefined;
    } catch (err) {
      const aborted = callers.find((c) => c.aborted);
      if (aborted) throw new ApiError(0, "Aborted", `${method} ${path}: aborted by its caller`, [], { cause: err });
      if (!timeout.aborted) throw err;
      throw new ApiError(0, "Timeout", `${method} ${path}: no answer within ${this.#timeoutMs / 1000} s`, [], {
        cause: err,
      });
    }
  }

  #send(method: string, path: string, body: unknown, query?: Query, signal?: AbortSignal): Promise<IncomingMessage> {
    const url = new URL(this.#server);
    url.pathname = `${url.pathname.replace(/\/$/, "")}${path}`;
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...(this.#options.headers as Record<string, string>),
      accept: "application/json",
    };
    if (payload !== undefined) {
      headers["content-type"] = method === "PATCH" ? "application/apply-patch+yaml" : "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const observe = (status: number) => this.#onRequest?.({ method, path, watch: query?.watch === true, status });
    return new Promise((resolve, reject) => {
      const req = send(url, { ...this.#options, method, headers, signal }, (res) => {
        observe(res.statusCode ?? 0);
        resolve(res);
      });
      req.on("error", (err) => {
        if (!signal?.aborted) observe(0);
        reject(new ApiError(0, "ConnectionError", `${method} ${path}: ${err.message}`, [], { cause: err }));
      });
      req.end(payload);
    });
  }
}

async function readAll(res: IncomingMessage): Promise<string> {
  res.setEncoding("utf8");
  let s = "";
  for await (const c of res) s += c as string;
  return s;
}

async function apiErrorOf(res: IncomingMessage, what = ""): Promise<ApiError> {
  const text = await readAll(res);
  try {
    const st = JSON.parse(text) as {
      reason?: string;
      message?: string;
      details?: { causes?: ApiError["causes"] };
    };
    return new ApiError(res.statusCode ?? 0, st.reason ?? "Unknown", st.message ?? text, st.details?.causes ?? []);
  } catch {
    return new ApiError(res.statusCode ?? 0, "Unknown", `${what}: HTTP ${res.statusCode}: ${text.slice(0, 500)}`);
  }
}
