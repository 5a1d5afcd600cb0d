/**
 * How names resolve to runnable operations: handlers and the definition
 * they are registered with, the routable {@link OperationEntry}, the
 * {@link OperationRouter} a registry, a peer or a composite environment
 * implements, and the {@link CallEvent}s routers report.
 *
 * @module
 */

import type { AccessSpec, Identity, Principal } from "./access.ts";
import type { CallContext, ChildPolicy, InvokeOptions } from "./context.ts";
import type { InvalidOutputReporter, OutputValidation } from "./output_check.ts";
import type { JsonSchema, ValidationIssue } from "./schema.ts";
import type { ErrorSpec, OperationSpec, OperationType, PeerInfo, Visibility } from "./spec.ts";

/**
 * A query or mutation handler.
 *
 * @example
 * ```ts
 * import type { CallHandler } from "@alknet/call";
 * const add: CallHandler<{ a: number; b: number }, number> = ({ a, b }) => a + b;
 * console.log(typeof add);
 * ```
 */
export type CallHandler<I = unknown, O = unknown> = (input: I, ctx: CallContext) => O | Promise<O>;

/**
 * A subscription handler: an async iterable of items (typically an async generator).
 *
 * @example
 * ```ts
 * import type { SubscriptionHandler } from "@alknet/call";
 * const count: SubscriptionHandler<{ n: number }, number> = async function* ({ n }) {
 *   for (let i = 0; i < n; i++) yield i;
 * };
 * console.log(typeof count);
 * ```
 */
export type SubscriptionHandler<I = unknown, O = unknown> = (
  input: I,
  ctx: CallContext,
) => AsyncIterable<O>;

/**
 * Everything needed to register an operation: the spec fields (all but
 * `name` and `type` have defaults), the handler, and the registration's
 * composition rights.
 *
 * @example
 * ```ts
 * import type { OperationDefinition } from "@alknet/call";
 * const def: OperationDefinition<{ n: number }, number> = {
 *   name: "math/inc", type: "query",
 *   input_schema: { type: "object", properties: { n: { type: "number" } }, required: ["n"] },
 *   handler: ({ n }) => n + 1,
 * };
 * console.log(def.name);
 * ```
 */
export interface OperationDefinition<I = unknown, O = unknown> {
  /** `ns/op`. */
  name: string;
  /** Query, mutation or subscription. */
  type: OperationType;
  /** Default `external`. */
  visibility?: Visibility;
  /** Default `{}` (anything). */
  input_schema?: JsonSchema;
  /** Default `{}` (anything). */
  output_schema?: JsonSchema;
  /** Default none. */
  errors?: ErrorSpec[];
  /** Default `{}` (no requirement). */
  access?: AccessSpec;
  /** Human-readable description. */
  description?: string;
  /** Handler for queries and mutations. */
  handler?: CallHandler<I, O>;
  /** Handler for subscriptions. */
  subscribe?: SubscriptionHandler<I, O>;
  /** Injected into `ctx.capabilities`; never sent on the wire. */
  capabilities?: Record<string, unknown>;
  /** Operations the handler may call through `ctx.env`: exact names, `ns/*` or `*`. */
  allow?: string[];
  /** Scopes and resources nested calls are checked against (default: the caller's identity). */
  authority?: Principal;
  /** Default policy for this handler's child calls when it is aborted. */
  childPolicy?: ChildPolicy;
}

/**
 * One routable operation, local or imported from a peer: what the
 * dispatcher needs to check and run it.
 *
 * @example
 * ```ts
 * import { OperationRegistry } from "@alknet/call";
 * const reg = new OperationRegistry();
 * reg.register({ name: "demo/x", type: "query", handler: () => 1 });
 * const entry = reg.lookup("demo/x");
 * console.log(entry?.spec.type, entry?.validateInput({})); // "query" null
 * ```
 */
export interface OperationEntry {
  /** The public spec. */
  readonly spec: OperationSpec;
  /** The peer it forwards to, for imported operations. */
  readonly peer?: string;
  /** Names its handler may invoke. */
  readonly allow: readonly string[];
  /** Declared authority for nested calls. */
  readonly authority?: Principal;
  /** Injected capabilities. */
  readonly capabilities: Readonly<Record<string, unknown>>;
  /** Default child policy. */
  readonly childPolicy: ChildPolicy;
  /** Validation issues for `input`, or null when valid (or not checked here). */
  validateInput(input: unknown): ValidationIssue[] | null;
  /**
   * Validation issues of an output (each item of a subscription) against
   * `output_schema`, or null when valid; absent when not checked here (no
   * schema, or an operation forwarded to a peer that checks it).
   */
  validateOutput?(output: unknown): ValidationIssue[] | null;
  /** `undefined` when `code` is not declared; else the issues of `details` against its schema, or null. */
  checkError(code: string, details: unknown): ValidationIssue[] | null | undefined;
  /** Runs the handler: a value or promise for calls, an async iterable for subscriptions. */
  run(input: unknown, ctx: CallContext): unknown;
}

/**
 * One step in a call's life, for call graphs and tracing: `requested`, then
 * `running` once the checks passed, then `completed`, `failed` (with the
 * error code) or `aborted`. A call refused by a check goes straight from
 * `requested` to `failed`.
 *
 * @example
 * ```ts
 * import type { CallEvent } from "@alknet/call";
 * const e: CallEvent = { type: "running", id: "1", operation: "node/ping", at: Date.now() };
 * console.log(e.type);
 * ```
 */
export interface CallEvent {
  /** What happened. */
  type: "requested" | "running" | "completed" | "failed" | "aborted";
  /** The call's id. */
  id: string;
  /** The composing call's id, for child calls. */
  parentId?: string;
  /** The operation. */
  operation: string;
  /** Epoch milliseconds. */
  at: number;
  /** The error code, for `failed`. */
  code?: string;
}

/**
 * Receives {@link CallEvent}s; set it as `observer` on a registry or a
 * composite environment. Exceptions it throws are ignored.
 *
 * @example
 * ```ts
 * import { OperationRegistry } from "@alknet/call";
 * const reg = new OperationRegistry({ observer: (e) => console.log(e.type, e.operation, e.code ?? "") });
 * reg.register({ name: "demo/x", type: "query", handler: () => 1 });
 * await reg.invoke("demo/x", null);
 * ```
 */
export type CallObserver = (event: CallEvent) => void;

/**
 * Resolves operation names to entries: a registry, a peer's imported
 * operations, or a composite of layers.
 *
 * @example
 * ```ts
 * import { OperationRegistry, type OperationRouter } from "@alknet/call";
 * const router: OperationRouter = new OperationRegistry();
 * console.log(router.list().map((e) => e.spec.name));
 * ```
 */
export interface OperationRouter {
  /** The entry for `name`, optionally only from peer `peer`. */
  lookup(name: string, peer?: string): OperationEntry | undefined;
  /** Every entry, first-wins per name in routing order. */
  list(): OperationEntry[];
  /** Attached peers in routing order. */
  peers(): PeerInfo[];
  /** Told about every call dispatched through this router (for call graphs). */
  readonly observer?: CallObserver;
  /** How outputs are checked against `output_schema` (default `warn`, see `OutputValidation`). */
  readonly validateOutput?: OutputValidation;
  /** Told about mismatching outputs in `warn` mode (default: one `console.warn` per operation). */
  readonly onInvalidOutput?: InvalidOutputReporter;
}

/**
 * Options of in-process calls (`registry.invoke`, `env.invoke`).
 *
 * @example
 * ```ts
 * import type { LocalInvokeOptions } from "@alknet/call";
 * const opts: LocalInvokeOptions = { identity: { id: "admin", scopes: ["*"], resources: {} }, timeoutMs: 1_000 };
 * console.log(opts.timeoutMs);
 * ```
 */
export interface LocalInvokeOptions extends InvokeOptions {
  /** The caller; access is checked against it (default: unauthenticated). */
  identity?: Identity | null;
}

/**
 * True when `name` matches an allow-list pattern: exact, `prefix/*` or `*`.
 *
 * @example
 * ```ts
 * import { allowed } from "@alknet/call";
 * console.log(allowed(["vault/*"], "vault/derive"), allowed(["a/b"], "a/c")); // true false
 * ```
 */
export function allowed(patterns: readonly string[], name: string): boolean {
  for (const p of patterns) {
    if (p === "*" || p === name) return true;
    if (p.endsWith("/*") && name.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}
