/**
 * One place for each validation rule that JSON Schema cannot express: the CEL text the API server
 * runs (x-kubernetes-validations) next to the TypeScript predicate zod runs, reporting at the same
 * field path. Keep the two in step; the integration test feeds both the same invalid objects.
 */
import { z } from "zod";

export type Rule<T> = Readonly<{
  /** CEL, with `self` bound to the value of the schema the rule is attached to. */
  rule: string;
  message: string;
  /** JSONPath below this node where both sides report, e.g. ".servers"; the node itself when absent. */
  fieldPath?: string;
  /** The same rule in TypeScript: true when the value is valid. */
  test: (self: T) => boolean;
}>;

export type CELValidation = Readonly<{ rule: string; message: string; fieldPath?: string }>;

export const validationsKey = "x-kubernetes-validations";

/** Splits a fieldPath like ".fill.window.end" into zod path segments. */
function segments(fieldPath: string | undefined): string[] {
  return fieldPath ? fieldPath.slice(1).split(".") : [];
}

/** Attaches rules to a schema: zod checks them, and the CRD generator emits them as CEL. */
export function withRules<S extends z.ZodType>(schema: S, rules: readonly Rule<z.output<S>>[]): S {
  const previous = (z.globalRegistry.get(schema)?.[validationsKey] ?? []) as CELValidation[];
  const cel = rules.map(({ rule, message, fieldPath }) =>
    fieldPath ? { rule, message, fieldPath } : { rule, message },
  );
  return schema
    .superRefine((self, ctx) => {
      for (const r of rules) {
        if (!r.test(self)) ctx.addIssue({ code: "custom", message: r.message, path: segments(r.fieldPath) });
      }
    })
    .meta({ [validationsKey]: [...previous, ...cel] });
}
