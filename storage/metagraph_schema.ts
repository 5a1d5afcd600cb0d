/**
 * JSON Schema 2020-12 validation of metagraph attributes (ajv with
 * formats), one compiled validator per distinct schema text, with errors
 * that name the attribute path.
 *
 * @module
 */

import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { type AttributeIssue, StorageError } from "./errors.ts";

/**
 * A JSON Schema: an object, or `true` / `false`.
 *
 * @example
 * ```ts
 * import type { JsonSchema } from "@alknet/storage";
 * const schema: JsonSchema = { type: "object", properties: { port: { type: "integer" } }, required: ["port"] };
 * console.log(Object.keys(schema)); // [ "type", "properties", "required" ]
 * ```
 */
export type JsonSchema = boolean | { [keyword: string]: unknown };

/**
 * Checks a value; returns the problems, or null when it is valid.
 *
 * @example
 * ```ts
 * import { type AttributeValidator, SchemaCache } from "@alknet/storage/metagraph";
 * const check: AttributeValidator = new SchemaCache().validator({ type: "object", properties: { n: { type: "number" } } });
 * console.log(check({ n: 1 })); // null
 * ```
 */
export type AttributeValidator = (value: unknown) => AttributeIssue[] | null;

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params?: Record<string, unknown>;
}
type AjvValidate = ((value: unknown) => boolean) & { errors?: AjvError[] | null };
interface AjvLike {
  compile(schema: JsonSchema): AjvValidate;
}

function pointerSegment(name: string): string {
  return "/" + name.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Turns ajv errors into issues; a missing or extra property gets its own path. */
function issuesOf(errors: readonly AjvError[]): AttributeIssue[] {
  return errors.map((e) => {
    const p = e.params ?? {};
    if (e.keyword === "required" && typeof p.missingProperty === "string") {
      return { path: e.instancePath + pointerSegment(p.missingProperty), message: "is required" };
    }
    if (e.keyword === "additionalProperties" && typeof p.additionalProperty === "string") {
      return {
        path: e.instancePath + pointerSegment(p.additionalProperty),
        message: "is not allowed",
      };
    }
    return { path: e.instancePath, message: e.message ?? `fails ${e.keyword}` };
  });
}

/**
 * Compiles attribute schemas once per distinct schema text.
 *
 * @example
 * ```ts
 * import { SchemaCache } from "@alknet/storage/metagraph";
 * const cache = new SchemaCache();
 * const check = cache.validator({
 *   type: "object",
 *   properties: { port: { type: "integer" } },
 *   required: ["port"],
 * });
 * console.log(check({ port: "22" })); // [ { path: "/port", message: "must be integer" } ]
 * console.log(check({})); // [ { path: "/port", message: "is required" } ]
 * ```
 */
export class SchemaCache {
  readonly #ajv: AjvLike;
  readonly #byText = new Map<string, AttributeValidator>();

  /** An empty cache with its own ajv instance (formats on, strict mode off). */
  constructor() {
    const Ajv = Ajv2020 as unknown as new (options: Record<string, unknown>) => AjvLike;
    this.#ajv = new Ajv({ allErrors: true, strict: false, addUsedSchema: false });
    (addFormats as unknown as (ajv: AjvLike) => void)(this.#ajv);
  }

  /** The validator of `schema` (a schema object or its JSON text); `invalid-schema` if it does not compile. */
  validator(schema: JsonSchema | string): AttributeValidator {
    const text = typeof schema === "string" ? schema : JSON.stringify(schema);
    let v = this.#byText.get(text);
    if (v) return v;
    const parsed: JsonSchema = typeof schema === "string" ? JSON.parse(schema) : schema;
    if (parsed === true || (typeof parsed === "object" && Object.keys(parsed).length === 0)) {
      v = () => null;
    } else {
      let fn: AjvValidate;
      try {
        fn = this.#ajv.compile(parsed);
      } catch (e) {
        throw new StorageError(
          "invalid-schema",
          `not a valid JSON Schema: ${(e as Error)?.message ?? e}`,
          { cause: e },
        );
      }
      v = (value) => fn(value) ? null : issuesOf(fn.errors ?? []);
    }
    if (this.#byText.size >= 1024) this.#byText.clear();
    this.#byText.set(text, v);
    return v;
  }
}

/**
 * Checks that `schema` is a JSON Schema (object or boolean) that compiles; returns its text.
 *
 * @example
 * ```ts
 * import { SchemaCache, schemaText } from "@alknet/storage/metagraph";
 * console.log(schemaText(new SchemaCache(), "node type 'x'", { type: "object" })); // '{"type":"object"}'
 * ```
 */
export function schemaText(cache: SchemaCache, what: string, schema: unknown): string {
  const s = schema === undefined ? {} : schema;
  if (typeof s !== "boolean" && (s === null || typeof s !== "object" || Array.isArray(s))) {
    throw new StorageError("invalid-schema", `${what}: a schema is an object or a boolean`);
  }
  const text = JSON.stringify(s);
  try {
    cache.validator(text);
  } catch (e) {
    if (e instanceof StorageError) {
      throw new StorageError("invalid-schema", `${what}: ${e.message}`, { cause: e.cause });
    }
    throw e;
  }
  return text;
}

/**
 * Throws `invalid-attributes` naming `what` and every failing path.
 *
 * @example
 * ```ts
 * import { SchemaCache, validateAttributes } from "@alknet/storage/metagraph";
 * const check = new SchemaCache().validator({ type: "object", properties: { port: { type: "integer" } } });
 * validateAttributes(check, "node 'web1'", { port: 22 }); // passes: no throw
 * console.log("ok"); // "ok"
 * ```
 */
export function validateAttributes(
  validate: AttributeValidator,
  what: string,
  attributes: unknown,
): void {
  const issues = validate(attributes);
  if (!issues) return;
  const list = issues.map((i) => `${i.path || "(attributes)"} ${i.message}`).join("; ");
  throw new StorageError("invalid-attributes", `${what}: ${list}`, { issues });
}
