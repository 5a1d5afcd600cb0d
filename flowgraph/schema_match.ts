/**
 * Structural comparison of two JSON Schemas: does every value an operation
 * may output satisfy another operation's input schema? The rules are in
 * `docs/decisions/flowgraph.md`; in short, the keywords understood are
 * `type`, `enum`, `const`, `properties`, `required`, `additionalProperties`
 * and `items`. A schema that is absent, `true`, `{}`, or built with `$ref`,
 * `anyOf`, `oneOf`, `allOf`, `not` or `if` is unknown: it never produces an
 * edge at the top and is given the benefit of the doubt inside.
 *
 * @module
 */

/**
 * A JSON Schema as operation specs carry it: an object or a boolean.
 *
 * @example
 * ```ts
 * import type { JsonSchemaLike } from "@alknet/flowgraph";
 * const s: JsonSchemaLike = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };
 * ```
 */
export type JsonSchemaLike = boolean | { readonly [keyword: string]: unknown };

/**
 * The verdict on feeding one operation's output to another's input.
 *
 * - `compatible`: every output value satisfies the input (as far as the
 *   understood keywords say); `fields` are the property names they share.
 * - `incompatible`: they are related (shared field names, or the same
 *   non-object type) but something provably does not fit: `path` (a JSON
 *   Pointer into the input, `*` for array items) and `reason` say what.
 * - `unrelated`: no edge (unknown schemas, disjoint types, or objects with
 *   no field name in common).
 *
 * @example
 * ```ts
 * import type { SchemaMatch } from "@alknet/flowgraph";
 * const m: SchemaMatch = { kind: "incompatible", fields: ["id"], path: "/id", reason: "output may be integer; input accepts string" };
 * ```
 */
export type SchemaMatch =
  | { kind: "compatible"; fields: string[] }
  | { kind: "incompatible"; fields: string[]; path: string; reason: string }
  | { kind: "unrelated" };

type Obj = { readonly [keyword: string]: unknown };
type Mismatch = { path: string; reason: string };

const UNKNOWN_KEYWORDS = ["$ref", "$dynamicRef", "anyOf", "oneOf", "allOf", "not", "if"];
const KNOWN_KEYWORDS = [
  "type",
  "enum",
  "const",
  "properties",
  "required",
  "additionalProperties",
  "items",
];

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The schema as an object when it says something we understand, else null (unknown). */
function known(schema: unknown): Obj | null {
  if (!isObj(schema)) return null;
  if (UNKNOWN_KEYWORDS.some((k) => k in schema)) return null;
  return KNOWN_KEYWORDS.some((k) => k in schema) ? schema : null;
}

function typeOfValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v; // string, boolean, object
}

/** The JSON types a schema allows, explicit or implied by its keywords. */
function typesOf(s: Obj): Set<string> {
  if (typeof s.type === "string") return new Set([s.type]);
  if (Array.isArray(s.type)) return new Set(s.type.filter((t) => typeof t === "string"));
  const values = valuesOf(s);
  if (values !== undefined) return new Set(values.map(typeOfValue));
  if ("properties" in s || "required" in s || "additionalProperties" in s) {
    return new Set(["object"]);
  }
  return new Set(["array"]); // only `items` is left
}

function accepts(types: Set<string>, t: string): boolean {
  return types.has(t) || (t === "integer" && types.has("number"));
}

function valuesOf(s: Obj): unknown[] | undefined {
  if ("const" in s) return [s.const];
  return Array.isArray(s.enum) ? s.enum : undefined;
}

/** JSON text with object keys sorted: equal values give equal text. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObj(v)) {
    return `{${
      Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")
    }}`;
  }
  return JSON.stringify(v) ?? "null";
}

function properties(s: Obj): Obj {
  return isObj(s.properties) ? s.properties : {};
}

function required(s: Obj): string[] {
  return Array.isArray(s.required) ? s.required.filter((r) => typeof r === "string") : [];
}

function pointer(path: string, field: string): string {
  return `${path}/${field.replaceAll("~", "~0").replaceAll("/", "~1")}`;
}

function list(types: Set<string>): string {
  return [...types].join("|");
}

/** The first way an `output` value may fail `input` at `path`, or null. */
function mismatch(output: unknown, input: unknown, path: string): Mismatch | null {
  if (input === false) return { path, reason: "input accepts nothing" };
  const i = known(input);
  const o = known(output);
  if (i === null || o === null) return null;

  const ti = typesOf(i);
  const to = typesOf(o);
  for (const t of to) {
    if (!accepts(ti, t)) return { path, reason: `output may be ${t}; input accepts ${list(ti)}` };
  }

  const vi = valuesOf(i);
  if (vi !== undefined) {
    const allowed = new Set(vi.map(canonical));
    const vo = valuesOf(o);
    const shown = vi.map((v) => JSON.stringify(v)).join(", ");
    if (vo === undefined) {
      return { path, reason: `input accepts only ${shown}; output is not limited to them` };
    }
    for (const v of vo) {
      if (!allowed.has(canonical(v))) {
        return { path, reason: `output may be ${JSON.stringify(v)}; input accepts only ${shown}` };
      }
    }
  }

  if (ti.has("object") && to.has("object")) {
    const m = objectMismatch(o, i, path);
    if (m !== null) return m;
  }
  if (ti.has("array") && to.has("array") && "items" in i && "items" in o) {
    const m = mismatch(o.items, i.items, `${path}/*`);
    if (m !== null) return m;
  }
  return null;
}

function objectMismatch(o: Obj, i: Obj, path: string): Mismatch | null {
  const op = properties(o);
  const or = required(o);
  // An output object that names no fields: its contents are unknown.
  if (Object.keys(op).length === 0 && or.length === 0) return null;
  const ip = properties(i);
  for (const r of required(i)) {
    if (or.includes(r)) continue;
    return {
      path: pointer(path, r),
      reason: r in op
        ? `input requires ${r}; output may omit it`
        : `input requires ${r}; output does not provide it`,
    };
  }
  for (const [name, schema] of Object.entries(op)) {
    if (name in ip) {
      const m = mismatch(schema, ip[name], pointer(path, name));
      if (m !== null) return m;
    } else if (i.additionalProperties === false) {
      return { path: pointer(path, name), reason: `input does not accept the field ${name}` };
    } else if (isObj(i.additionalProperties)) {
      const m = mismatch(schema, i.additionalProperties, pointer(path, name));
      if (m !== null) return m;
    }
  }
  return null;
}

/**
 * Judges whether `output` (one operation's output schema) can feed `input`
 * (another's input schema). See {@link SchemaMatch} for the three verdicts.
 *
 * @example
 * ```ts
 * import { matchSchemas } from "@alknet/flowgraph";
 * const user = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };
 * console.log(matchSchemas(user, { type: "object", properties: { id: { type: "string" } }, required: ["id"] }));
 * // { kind: "compatible", fields: ["id"] }
 * console.log(matchSchemas(user, { type: "object", properties: { id: { type: "integer" } } }).kind);
 * // "incompatible"
 * console.log(matchSchemas(user, {}).kind); // "unrelated"
 * ```
 */
export function matchSchemas(
  output: JsonSchemaLike | undefined,
  input: JsonSchemaLike | undefined,
): SchemaMatch {
  const i = known(input);
  const o = known(output);
  if (i === null || o === null) return { kind: "unrelated" };
  const ti = typesOf(i);
  const to = typesOf(o);
  if (![...to].some((t) => accepts(ti, t))) return { kind: "unrelated" };
  let fields: string[] = [];
  if (ti.has("object") && to.has("object")) {
    const outNames = new Set([...Object.keys(properties(o)), ...required(o)]);
    const inNames = new Set([...Object.keys(properties(i)), ...required(i)]);
    fields = [...inNames].filter((n) => outNames.has(n)).sort();
    if (fields.length === 0) return { kind: "unrelated" };
  }
  const m = mismatch(o, i, "");
  return m === null ? { kind: "compatible", fields } : { kind: "incompatible", fields, ...m };
}
