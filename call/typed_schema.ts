/**
 * The TypeScript type a schema describes, computed by the compiler:
 * {@link SchemaType} reads TypeBox schemas (their `static` type) and
 * `as const` JSON Schemas (`type`, `properties`, `required`, `items`,
 * `enum`, `const`, `anyOf`, `oneOf`, `allOf`, `additionalProperties`,
 * `nullable` type lists). Anything it does not understand is `unknown`.
 *
 * @module
 */

/** Makes intersections readable in editor hovers. */
type Simplify<T> = { [K in keyof T]: T[K] } & unknown;

/** The names in `required`. */
type RequiredKeys<S> = S extends { required: readonly (infer R)[] } ? R : never;

/** An index signature only when `additionalProperties` is a schema or `true`, explicitly. */
type Extra<S> = S extends { additionalProperties: infer A } ? A extends false ? unknown
  : A extends true ? { [key: string]: unknown }
  : { [key: string]: SchemaType<A> }
  : unknown;

type ObjectOf<S> = S extends { properties: infer P } ? Simplify<
    & {
      -readonly [K in keyof P & string as K extends RequiredKeys<S> ? K : never]: SchemaType<P[K]>;
    }
    & {
      -readonly [K in keyof P & string as K extends RequiredKeys<S> ? never : K]?: SchemaType<P[K]>;
    }
    & Extra<S>
  >
  : S extends { additionalProperties: false } ? Record<string, never>
  : S extends { additionalProperties: infer A } ? { [key: string]: SchemaType<A> }
  : { [key: string]: unknown };

type ArrayOf<S> = S extends { prefixItems: readonly unknown[] }
  ? { -readonly [K in keyof S["prefixItems"]]: SchemaType<S["prefixItems"][K]> }
  : S extends { items: infer I } ? SchemaType<I>[]
  : unknown[];

/** One `type` name (distributes over a list of names). */
type OfTypeName<S, T> = T extends "string" ? string
  : T extends "number" | "integer" ? number
  : T extends "boolean" ? boolean
  : T extends "null" ? null
  : T extends "array" ? ArrayOf<S>
  : T extends "object" ? ObjectOf<S>
  : unknown;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends
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
  : S extends { allOf: readonly (infer A)[] } ? UnionToIntersection<SchemaType<A>>
  : S extends { type: infer T }
    ? T extends readonly (infer U)[] ? OfTypeName<S, U> : OfTypeName<S, T>
  : unknown;
