/**
 * Typed operations: one declaration ({@link operation}) with TypeBox or
 * `as const` JSON Schemas gives a handler whose input and output are
 * typed ({@link TypedOperation.implement}) and a client whose calls are
 * type-checked ({@link typedApi}, `CallClient.call(op, input)`).
 *
 * @module
 */

import type { AccessSpec, Principal } from "./access.ts";
import type { Caller, CallOptions, CallSubscription } from "./caller.ts";
import type { ChildPolicy } from "./context.ts";
import type { CallHandler, OperationDefinition, SubscriptionHandler } from "./router.ts";
import type { JsonSchema } from "./schema.ts";
import type { ErrorSpec, OperationType, Visibility } from "./spec.ts";
import type { SchemaType } from "./typed_schema.ts";

/**
 * What {@link operation} takes: the spec fields of an operation, with
 * schemas whose types become the handler's and the client's.
 *
 * @example
 * ```ts
 * import type { OperationDeclaration } from "@alknet/call";
 * const d: OperationDeclaration<"query", { type: "string" }, { type: "number" }> = {
 *   name: "text/length", type: "query", input_schema: { type: "string" }, output_schema: { type: "number" },
 * };
 * console.log(d.name);
 * ```
 */
export interface OperationDeclaration<T extends OperationType, IS, OS> {
  /** `ns/op`. */
  name: string;
  /** Query, mutation or subscription. */
  type: T;
  /** The input schema (TypeBox or JSON Schema); default `{}` (anything, `unknown`). */
  input_schema?: IS;
  /** The output schema (of each item, for subscriptions); default `{}`. */
  output_schema?: OS;
  /** Default `external`. */
  visibility?: Visibility;
  /** Declared error codes. */
  errors?: ErrorSpec[];
  /** Access requirements. */
  access?: AccessSpec;
  /** Human-readable description. */
  description?: string;
}

/**
 * Registration extras of {@link TypedOperation.implement} (what
 * `OperationDefinition` has besides the spec and the handler).
 *
 * @example
 * ```ts
 * import type { ImplementOptions } from "@alknet/call";
 * const extras: ImplementOptions = { allow: ["math/*"], capabilities: { db: "handle" } };
 * console.log(extras.allow);
 * ```
 */
export interface ImplementOptions {
  /** Injected into `ctx.capabilities`; never sent on the wire. */
  capabilities?: Record<string, unknown>;
  /** Operations the handler may call through `ctx.env`. */
  allow?: string[];
  /** Scopes and resources nested calls are checked against. */
  authority?: Principal;
  /** Default policy for this handler's child calls when it is aborted. */
  childPolicy?: ChildPolicy;
}

/**
 * The handler an operation of kind `T` takes: a subscription handler for
 * subscriptions, a call handler otherwise.
 *
 * @example
 * ```ts
 * import type { HandlerOf } from "@alknet/call";
 * const h: HandlerOf<"query", { n: number }, number> = ({ n }) => n * 2;
 * console.log(typeof h);
 * ```
 */
export type HandlerOf<T extends OperationType, I, O> = T extends "subscription"
  ? SubscriptionHandler<I, O>
  : CallHandler<I, O>;

/**
 * A declared operation with its input type `I` and output type `O`: hand
 * it to a client to call it type-checked, and `implement` it to register
 * it with a typed handler.
 *
 * @example
 * ```ts
 * import { operation, type TypedOperation } from "@alknet/call";
 * const echo: TypedOperation<"query", string, string> = operation({
 *   name: "text/echo", type: "query", input_schema: { type: "string" }, output_schema: { type: "string" },
 * });
 * console.log(echo.name, echo.type); // "text/echo" "query"
 * ```
 */
export interface TypedOperation<T extends OperationType, I, O> {
  /** `ns/op`. */
  readonly name: string;
  /** Query, mutation or subscription. */
  readonly type: T;
  /** The declaration (schemas, access, errors, ...), as given. */
  readonly declaration: Readonly<OperationDeclaration<T, unknown, unknown>>;
  /** Carries the types only; always undefined at run time. */
  readonly types?: { input: I; output: O };
  /** The registration of this operation with `handler` (typed from the schemas). */
  implement(handler: HandlerOf<T, I, O>, options?: ImplementOptions): OperationDefinition<I, O>;
}

/**
 * Declares an operation. Its schemas (TypeBox, or JSON Schemas written
 * inline or `as const`) type the handler given to `implement` and the
 * calls of a typed client; plain JSON Schemas held in variables of type
 * `JsonSchema` make both `unknown`.
 *
 * @example Server and typed client from one declaration
 * ```ts
 * import { Type } from "@sinclair/typebox";
 * import {
 *   CallClient,
 *   CallConnection,
 *   memoryTransportPair,
 *   operation,
 *   OperationRegistry,
 *   typedApi,
 * } from "@alknet/call";
 *
 * const add = operation({
 *   name: "math/add",
 *   type: "query",
 *   input_schema: Type.Object({ a: Type.Number(), b: Type.Number() }),
 *   output_schema: Type.Number(),
 * });
 * const countdown = operation({
 *   name: "math/countdown",
 *   type: "subscription",
 *   input_schema: { type: "object", properties: { from: { type: "integer" } }, required: ["from"] },
 *   output_schema: { type: "integer" },
 * });
 *
 * const registry = new OperationRegistry();
 * registry.register(add.implement(({ a, b }) => a + b)); // a, b: number; must return a number
 * registry.register(countdown.implement(async function* ({ from }) {
 *   for (let i = from; i > 0; i--) yield i;
 * }));
 *
 * const [a, b] = memoryTransportPair();
 * new CallConnection(a, { router: registry });
 * const conn = new CallConnection(b);
 * const sum: number = await new CallClient(conn).call(add, { a: 1, b: 2 });
 * const api = typedApi(conn, { math: { add, countdown } });
 * console.log(sum, await api.math.add({ a: 20, b: 22 })); // 3 42
 * for await (const n of api.math.countdown({ from: 3 })) console.log(n); // 3 2 1
 * await conn.close();
 * ```
 */
export function operation<
  const T extends OperationType,
  const IS = Record<never, never>,
  const OS = Record<never, never>,
>(
  declaration: OperationDeclaration<T, IS, OS>,
): TypedOperation<T, SchemaType<IS>, SchemaType<OS>> {
  type I = SchemaType<IS>;
  type O = SchemaType<OS>;
  const decl = { ...declaration } as OperationDeclaration<T, unknown, unknown>;
  return {
    name: decl.name,
    type: decl.type,
    declaration: decl,
    implement(handler: HandlerOf<T, I, O>, options: ImplementOptions = {}) {
      const def: OperationDefinition<I, O> = {
        ...options,
        name: decl.name,
        type: decl.type,
        visibility: decl.visibility,
        input_schema: decl.input_schema as JsonSchema | undefined,
        output_schema: decl.output_schema as JsonSchema | undefined,
        errors: decl.errors,
        access: decl.access,
        description: decl.description,
      };
      if (decl.type === "subscription") def.subscribe = handler as SubscriptionHandler<I, O>;
      else def.handler = handler as CallHandler<I, O>;
      return def;
    },
  };
}

/**
 * The input type of a typed operation.
 *
 * @example
 * ```ts
 * import { operation, type InputOf } from "@alknet/call";
 * const op = operation({ name: "a/b", type: "query", input_schema: { type: "integer" } });
 * const n: InputOf<typeof op> = 3;
 * console.log(n);
 * ```
 */
export type InputOf<Op> = Op extends TypedOperation<OperationType, infer I, unknown> ? I : never;

/**
 * The output type of a typed operation (each item's, for a subscription).
 *
 * @example
 * ```ts
 * import { operation, type OutputOf } from "@alknet/call";
 * const op = operation({ name: "a/b", type: "query", output_schema: { type: "string" } });
 * const s: OutputOf<typeof op> = "text";
 * console.log(s);
 * ```
 */
export type OutputOf<Op> = Op extends TypedOperation<OperationType, unknown, infer O> ? O : never;

/**
 * A client for a tree of typed operations: each operation becomes a
 * function taking its input (queries and mutations resolve to the output,
 * subscriptions return a stream of items); nested objects stay nested.
 *
 * @example
 * ```ts
 * import { operation, type TypedApi } from "@alknet/call";
 * const ping = operation({ name: "node/ping", type: "query", input_schema: { type: "string" }, output_schema: { type: "string" } });
 * type Api = TypedApi<{ node: { ping: typeof ping } }>;
 * const call = (api: Api) => api.node.ping("hi"); // Promise<string>
 * console.log(typeof call);
 * ```
 */
export type TypedApi<Tree> = {
  readonly [K in keyof Tree]: Tree[K] extends TypedOperation<infer T, infer I, infer O>
    ? T extends "subscription" ? (input: I, options?: CallOptions) => CallSubscription<O>
    : (input: I, options?: CallOptions) => Promise<O>
    : TypedApi<Tree[K]>;
};

function isOperation(v: unknown): v is TypedOperation<OperationType, unknown, unknown> {
  return typeof v === "object" && v !== null &&
    typeof (v as { implement?: unknown }).implement === "function" &&
    typeof (v as { name?: unknown }).name === "string";
}

/**
 * Builds a {@link TypedApi} over a connection: `api.math.add({a, b})`
 * calls `math/add` with a type-checked input and a typed result.
 *
 * @example
 * ```ts
 * import {
 *   CallConnection,
 *   memoryTransportPair,
 *   operation,
 *   OperationRegistry,
 *   typedApi,
 * } from "@alknet/call";
 * const greet = operation({
 *   name: "demo/greet", type: "query",
 *   input_schema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
 *   output_schema: { type: "string" },
 * });
 * const registry = new OperationRegistry();
 * registry.register(greet.implement(({ name }) => `hello, ${name}`));
 * const [a, b] = memoryTransportPair();
 * new CallConnection(a, { router: registry });
 * const conn = new CallConnection(b);
 * const api = typedApi(conn, { demo: { greet } });
 * console.log(await api.demo.greet({ name: "alk" })); // "hello, alk"
 * await conn.close();
 * ```
 */
export function typedApi<const Tree extends object>(caller: Caller, tree: Tree): TypedApi<Tree> {
  const build = (node: object): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (isOperation(value)) {
        const { name, type } = value;
        out[key] = type === "subscription"
          ? (input: unknown, options?: CallOptions) => caller.subscribe(name, input, options)
          : (input: unknown, options?: CallOptions) => caller.call(name, input, options);
      } else if (typeof value === "object" && value !== null) {
        out[key] = build(value);
      }
    }
    return out;
  };
  return build(tree) as TypedApi<Tree>;
}
