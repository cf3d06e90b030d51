/**
 * Validation at the edge: an object from the API server, a file, or a test goes in; a typed object
 * or a list of errors naming each field (as the API server names it: spec.servers[1].class) comes out.
 */
import { isDeepStrictEqual } from "node:util";
import type { z } from "zod";
import { type KindName, kinds } from "./kinds.js";
import type { OCACluster } from "./ocacluster.js";
import type { Placement } from "./placement.js";
import type { Popularity } from "./popularity.js";
import type { Title } from "./title.js";

export type Objects = { OCACluster: OCACluster; Title: Title; Placement: Placement; Popularity: Popularity };

export type FieldError = Readonly<{ path: string; message: string }>;
export type ParseResult<T> = Readonly<{ ok: true; value: T }> | Readonly<{ ok: false; errors: readonly FieldError[] }>;

export class ValidationError extends Error {
  override name = "ValidationError";
  readonly errors: readonly FieldError[];
  constructor(kind: string, name: string, errors: readonly FieldError[]) {
    super(`invalid ${kind} ${JSON.stringify(name)}: ${formatFieldErrors(errors)}`);
    this.errors = errors;
  }
}

/** Formats a zod path the way the API server does: `spec.servers[1].class`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** One line naming each bad field and its rule: `spec.servers[1].class: …; spec.region: …`. */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join("; ");
}

/** The same line for a zod error of a settings file, its paths dotted under `prefix`: `fill.files.3.sha256: …`. */
export function describeIssues(prefix: string, error: z.ZodError): string {
  return formatFieldErrors(
    error.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].join("."), message: i.message })),
  );
}

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((iss) =>
    iss.code === "unrecognized_keys"
      ? iss.keys.map((k) => ({ path: formatPath([...iss.path, k]), message: "unknown field" }))
      : [{ path: formatPath(iss.path), message: iss.message }],
  );
}

/** Validates `obj` with `schema`; errors name each field as the API server does. */
export function parseWith<T>(schema: z.ZodType<T>, obj: unknown): ParseResult<T> {
  const r = schema.safeParse(obj);
  return r.success ? { ok: true, value: r.data } : { ok: false, errors: fieldErrors(r.error) };
}

const objectSchemas: { [K in KindName]: z.ZodType<Objects[K]> } = {
  OCACluster: kinds.OCACluster.object,
  Title: kinds.Title.object,
  Placement: kinds.Placement.object,
  Popularity: kinds.Popularity.object,
};

/** Validates a whole object (apiVersion, kind, metadata, spec, status) of the given kind. */
export function parseObject<K extends KindName>(kind: K, obj: unknown): ParseResult<Objects[K]> {
  return parseWith(objectSchemas[kind], obj);
}

/** Like parseObject, but throws a ValidationError listing every field error. */
export function mustParse<K extends KindName>(kind: K, obj: unknown): Objects[K] {
  const r = parseObject(kind, obj);
  if (r.ok) return r.value;
  const name = (obj as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
  throw new ValidationError(kind, typeof name === "string" ? name : "<unnamed>", r.errors);
}

function at(obj: unknown, jsonPath: string): unknown {
  let v = obj;
  for (const seg of jsonPath.split(".").slice(1)) v = (v as Record<string, unknown> | undefined)?.[seg];
  return v;
}

/** The immutable-field checks the CRD runs on update (CEL `self == oldSelf`), on two parsed objects. */
export function checkUpdate<K extends KindName>(kind: K, before: Objects[K], after: Objects[K]): FieldError[] {
  return kinds[kind].immutable
    .filter((p) => !isDeepStrictEqual(at(before.spec, p), at(after.spec, p)))
    .map((p) => ({ path: `spec${p}`, message: immutableMessage(p) }));
}

export function immutableMessage(jsonPath: string): string {
  return jsonPath === "" ? "spec is immutable; create a new object instead" : `${jsonPath.slice(1)} is immutable`;
}
