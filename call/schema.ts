/**
 * JSON Schema 2020-12 validation (ajv), one compiled validator per schema.
 *
 * @module
 */

import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/**
 * A JSON Schema: an object, or `true`/`false`.
 *
 * @example
 * ```ts
 * import type { JsonSchema } from "@alknet/call";
 * const s: JsonSchema = { type: "object", properties: { n: { type: "integer" } }, required: ["n"] };
 * ```
 */
export type JsonSchema = boolean | { [key: string]: unknown };

/**
 * One validation problem, as sent in `INVALID_INPUT` details.
 *
 * @example
 * ```ts
 * import type { ValidationIssue } from "@alknet/call";
 * const i: ValidationIssue = { path: "/n", keyword: "type", message: "must be integer" };
 * ```
 */
export interface ValidationIssue {
  /** JSON Pointer to the offending value (`""` is the whole input). */
  path: string;
  /** The schema keyword that failed (`type`, `required`, ...). */
  keyword: string;
  /** Human-readable description. */
  message: string;
}

/**
 * A compiled validator: returns the issues, or null when the value is valid.
 *
 * @example
 * ```ts
 * import { SchemaCompiler, type Validator } from "@alknet/call";
 * const v: Validator = new SchemaCompiler().compile({ type: "string" });
 * console.log(v("ok"), v(1)?.length); // null 1
 * ```
 */
export type Validator = (value: unknown) => ValidationIssue[] | null;

type AjvErr = { instancePath: string; keyword: string; message?: string; params?: unknown };
type AjvFn = ((v: unknown) => boolean) & { errors?: AjvErr[] | null };
type AjvInstance = { compile(schema: JsonSchema): AjvFn };

/**
 * Compiles JSON Schemas once and hands out fast validators.
 *
 * @example
 * ```ts
 * import { SchemaCompiler } from "@alknet/call";
 * const v = new SchemaCompiler().compile({ type: "object", required: ["x"] });
 * console.log(v({ x: 1 }), v({})?.[0].keyword); // null "required"
 * ```
 */
export class SchemaCompiler {
  #ajv: AjvInstance;

  /** A compiler with formats enabled and ajv's strict mode off (unknown keywords are allowed). */
  constructor() {
    const Ctor = Ajv2020 as unknown as new (o: Record<string, unknown>) => AjvInstance;
    this.#ajv = new Ctor({ allErrors: true, strict: false, validateFormats: true });
    (addFormats as unknown as (a: AjvInstance) => void)(this.#ajv);
  }

  /** Compiles `schema`; throws when it is not a valid schema. Trivial schemas skip ajv. */
  compile(schema: JsonSchema): Validator {
    if (schema === true || (typeof schema === "object" && Object.keys(schema).length === 0)) {
      return () => null;
    }
    const fn = this.#ajv.compile(schema);
    return (value) => {
      if (fn(value)) return null;
      return (fn.errors ?? []).slice(0, 20).map((e) => ({
        path: e.instancePath,
        keyword: e.keyword,
        message: e.message ?? "is invalid",
      }));
    };
  }
}
