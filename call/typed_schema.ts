/**
 * The TypeScript type a schema describes, computed by the compiler:
 * {@link SchemaType} reads TypeBox schemas (their `static` type) and
 * `as const` JSON Schemas (`type`, `properties`, `required`, `items`,
 * `enum`, `const`, `anyOf`, `oneOf`, `allOf`, `additionalProperties`,
 * `nullable` type lists). Anything it does not understand is `unknown`.
 *
 * @module
 */

/**
 * The property names an object schema's `required` lists.
 *
 * @example
 * ```ts
 * import type { SchemaRequired } from "@alknet/call";
 * const k: SchemaRequired<{ required: readonly ["a", "b"] }> = "a";
 * console.log(k);
 * ```
 */
export type SchemaRequired<S> = S extends { required: readonly (infer R)[] } ? R : never;

/**
 * The index signature an object schema's `additionalProperties` adds: none
 * unless it is `true` or a schema, explicitly.
 *
 * @example
 * ```ts
 * import type { SchemaExtra } from "@alknet/call";
 * const extra: SchemaExtra<{ additionalProperties: { type: "number" } }> = { x: 1 };
 * console.log(extra.x);
 * ```
 */
export type SchemaExtra<S> = S extends { additionalProperties: infer A } ? A extends false ? unknown
  : A extends true ? { [key: string]: unknown }
  : { [key: string]: SchemaType<A> }
  : unknown;

/**
 * The type of an object schema: required properties, optional ones, and
 * an index signature when `additionalProperties` asks for one.
 *
 * @example
 * ```ts
 * import type { SchemaObject } from "@alknet/call";
 * const o: SchemaObject<{ properties: { a: { type: "string" } }; required: readonly ["a"] }> = { a: "x" };
 * console.log(o.a);
 * ```
 */
export type SchemaObject<S> = S extends { properties: infer P } ?
    & {
      -readonly [K in keyof P & string as K extends SchemaRequired<S> ? K : never]: SchemaType<
        P[K]
      >;
    }
    & {
      -readonly [K in keyof P & string as K extends SchemaRequired<S> ? never : K]?: SchemaType<
        P[K]
      >;
    }
    & SchemaExtra<S>
  : S extends { additionalProperties: false } ? Record<string, never>
  : S extends { additionalProperties: infer A } ? { [key: string]: SchemaType<A> }
  : { [key: string]: unknown };

/**
 * The type of an array schema (`items`, or a tuple from `prefixItems`).
 *
 * @example
 * ```ts
 * import type { SchemaArray } from "@alknet/call";
 * const a: SchemaArray<{ items: { type: "integer" } }> = [1, 2];
 * console.log(a.length);
 * ```
 */
export type SchemaArray<S> = S extends { prefixItems: readonly unknown[] }
  ? { -readonly [K in keyof S["prefixItems"]]: SchemaType<S["prefixItems"][K]> }
  : S extends { items: infer I } ? SchemaType<I>[]
  : unknown[];

/**
 * The type of one `type` name of a schema (distributes over a list of names).
 *
 * @example
 * ```ts
 * import type { SchemaTypeName } from "@alknet/call";
 * const v: SchemaTypeName<{}, "string" | "null"> = null;
 * console.log(v);
 * ```
 */
export type SchemaTypeName<S, T> = T extends "string" ? string
  : T extends "number" | "integer" ? number
  : T extends "boolean" ? boolean
  : T extends "null" ? null
  : T extends "array" ? SchemaArray<S>
  : T extends "object" ? SchemaObject<S>
  : unknown;

/**
 * The intersection of a union's members (what `allOf` describes).
 *
 * @example
 * ```ts
 * import type { SchemaIntersection } from "@alknet/call";
 * const both: SchemaIntersection<{ a: number } | { b: string }> = { a: 1, b: "x" };
 * console.log(both.a, both.b);
 * ```
 */
export type SchemaIntersection<U> = (U extends unknown ? (x: U) => void : never) extends
  (x: infer I) => void ? I : never;

/**
 * The TypeScript type of values a schema accepts: a TypeBox schema's
 * static type, or what an `as const` JSON Schema describes. `{}` and
 * `true` are `unknown`.
 *
 * @example
 * ```ts
 * import type { SchemaType } from "@alknet/call";
 * const point = {
 *   type: "object",
 *   properties: { x: { type: "number" }, y: { type: "number" }, label: { type: "string" } },
 *   required: ["x", "y"],
 * } as const;
 * const p: SchemaType<typeof point> = { x: 1, y: 2 }; // label is optional
 * console.log(p.x + p.y); // 3
 * ```
 */
export type SchemaType<S> = S extends { readonly static: infer T } ? T
  : S extends true ? unknown
  : S extends false ? never
  : S extends { const: infer C } ? C
  : S extends { enum: readonly (infer E)[] } ? E
  : S extends { anyOf: readonly (infer A)[] } ? SchemaType<A>
  : S extends { oneOf: readonly (infer A)[] } ? SchemaType<A>
  : S extends { allOf: readonly (infer A)[] } ? SchemaIntersection<SchemaType<A>>
  : S extends { type: infer T }
    ? T extends readonly (infer U)[] ? SchemaTypeName<S, U> : SchemaTypeName<S, T>
  : unknown;
