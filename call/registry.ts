/**
 * The operation registry (DESIGN 5.3): specs, handlers, visibility, access
 * requirements, compiled input schemas and declared error codes.
 *
 * @module
 */

import type { Identity } from "./access.ts";
import type { AccessSpec, Principal } from "./access.ts";
import type { CallContext, ChildPolicy, InvokeOptions } from "./context.ts";
import { type JsonSchema, SchemaCompiler, type ValidationIssue } from "./schema.ts";
import { RegistrationError } from "./errors.ts";
import { type CallObserver, invokeOperation, subscribeOperation } from "./dispatch.ts";
import { registerDiscovery } from "./discovery.ts";

/**
 * Queries and mutations answer once; subscriptions stream items.
 *
 * @example
 * ```ts
 * import type { OperationType } from "./registry.ts";
 * const t: OperationType = "subscription";
 * ```
 */
export type OperationType = "query" | "mutation" | "subscription";

/**
 * `internal` operations are only reachable by composition, never from the wire.
 *
 * @example
 * ```ts
 * import type { Visibility } from "./registry.ts";
 * const v: Visibility = "internal";
 * ```
 */
export type Visibility = "external" | "internal";

/**
 * An error code an operation may answer, with a schema for its `details`.
 *
 * @example
 * ```ts
 * import type { ErrorSpec } from "./registry.ts";
 * const e: ErrorSpec = { code: "OUT_OF_STOCK", details_schema: { type: "object", required: ["sku"] } };
 * ```
 */
export interface ErrorSpec {
  /** The code, e.g. `OUT_OF_STOCK`. */
  code: string;
  /** What it means. */
  description?: string;
  /** Whether the caller may retry (default false). */
  retryable?: boolean;
  /** JSON Schema the `details` must satisfy. */
  details_schema?: JsonSchema;
}

/**
 * The public description of an operation, as `services/schema` returns it.
 *
 * @example
 * ```ts
 * import type { OperationSpec } from "./registry.ts";
 * const spec: OperationSpec = {
 *   name: "demo/echo", type: "query", visibility: "external",
 *   input_schema: {}, output_schema: {}, errors: [], access: {},
 * };
 * ```
 */
export interface OperationSpec {
  /** `ns/op`. */
  name: string;
  /** Query, mutation or subscription. */
  type: OperationType;
  /** External (callable from the wire) or internal (composition only). */
  visibility: Visibility;
  /** JSON Schema 2020-12 for the input. */
  input_schema: JsonSchema;
  /** JSON Schema 2020-12 for the output (each item for subscriptions). */
  output_schema: JsonSchema;
  /** Declared error codes. */
  errors: ErrorSpec[];
  /** Access requirements. */
  access: AccessSpec;
  /** Human-readable description. */
  description?: string;
}

/**
 * A query or mutation handler.
 *
 * @example
 * ```ts
 * import type { CallHandler } from "./registry.ts";
 * const add: CallHandler<{ a: number; b: number }, number> = ({ a, b }) => a + b;
 * ```
 */
export type CallHandler<I = unknown, O = unknown> = (input: I, ctx: CallContext) => O | Promise<O>;

/**
 * A subscription handler: an async iterable of items (typically an async generator).
 *
 * @example
 * ```ts
 * import type { SubscriptionHandler } from "./registry.ts";
 * const count: SubscriptionHandler<{ n: number }, number> = async function* ({ n }) {
 *   for (let i = 0; i < n; i++) yield i;
 * };
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
 * import type { OperationDefinition } from "./registry.ts";
 * const def: OperationDefinition<{ n: number }, number> = {
 *   name: "math/inc", type: "query",
 *   input_schema: { type: "object", properties: { n: { type: "number" } }, required: ["n"] },
 *   handler: ({ n }) => n + 1,
 * };
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
 * import { OperationRegistry } from "./registry.ts";
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
  /** `undefined` when `code` is not declared; else the issues of `details` against its schema, or null. */
  checkError(code: string, details: unknown): ValidationIssue[] | null | undefined;
  /** Runs the handler: a value or promise for calls, an async iterable for subscriptions. */
  run(input: unknown, ctx: CallContext): unknown;
}

/**
 * A peer attached to an environment, as `services/list-peers` reports it.
 *
 * @example
 * ```ts
 * import type { PeerInfo } from "./registry.ts";
 * const p: PeerInfo = { id: "worker-1", operations: 4, open: true };
 * ```
 */
export interface PeerInfo {
  /** The peer's id. */
  id: string;
  /** How many operations it contributes. */
  operations: number;
  /** Whether its connection is still open. */
  open: boolean;
}

/**
 * Resolves operation names to entries: a registry, a peer's imported
 * operations, or a composite of layers.
 *
 * @example
 * ```ts
 * import type { OperationRouter } from "./registry.ts";
 * import { OperationRegistry } from "./registry.ts";
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
}

/**
 * Options of {@link OperationRegistry}.
 *
 * @example
 * ```ts
 * import { OperationRegistry, type RegistryOptions } from "./registry.ts";
 * const opts: RegistryOptions = { discovery: false };
 * console.log(new OperationRegistry(opts).list().length); // 0
 * ```
 */
export interface RegistryOptions {
  /** Register `services/list`, `services/schema` and `services/list-peers` (default true). */
  discovery?: boolean;
  /** Told about every call dispatched through this registry. */
  observer?: CallObserver;
}

/**
 * Options of {@link OperationRegistry.invoke}.
 *
 * @example
 * ```ts
 * import type { LocalInvokeOptions } from "./registry.ts";
 * const opts: LocalInvokeOptions = { identity: { id: "admin", scopes: ["*"], resources: {} }, timeoutMs: 1_000 };
 * ```
 */
export interface LocalInvokeOptions extends InvokeOptions {
  /** The caller; access is checked against it (default: unauthenticated). */
  identity?: Identity | null;
}

const NAME_RE = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;

/**
 * True when `name` matches an allow-list pattern: exact, `prefix/*` or `*`.
 *
 * @example
 * ```ts
 * import { allowed } from "./registry.ts";
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

/**
 * Holds a node's operations. Both ends of a connection dispatch into one.
 *
 * @example
 * ```ts
 * import { OperationRegistry } from "./registry.ts";
 * const reg = new OperationRegistry();
 * reg.register<{ text: string }, { text: string }>({
 *   name: "demo/echo",
 *   type: "query",
 *   input_schema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
 *   handler: (input) => input,
 * });
 * reg.register<{ count: number }, number>({
 *   name: "demo/count",
 *   type: "subscription",
 *   subscribe: async function* ({ count }) {
 *     for (let i = 0; i < count; i++) yield i;
 *   },
 * });
 * console.log(await reg.invoke("demo/echo", { text: "hi" }));
 * for await (const n of reg.subscribe("demo/count", { count: 3 })) console.log(n);
 * ```
 */
export class OperationRegistry implements OperationRouter {
  #ops = new Map<string, OperationEntry>();
  #schemas = new SchemaCompiler();
  /** Told about every call dispatched through this registry (settable). */
  observer?: CallObserver;

  /** A registry, with the discovery operations unless `discovery: false`. */
  constructor(options: RegistryOptions = {}) {
    this.observer = options.observer;
    if (options.discovery !== false) registerDiscovery(this);
  }

  /**
   * Registers an operation and returns its spec. Throws
   * {@link RegistrationError} for a bad or duplicate name, an invalid schema,
   * or a handler whose kind does not match `type` (a `subscribe` handler for
   * a query, an async generator as a query handler, ...).
   */
  register<I = unknown, O = unknown>(def: OperationDefinition<I, O>): OperationSpec {
    const name = def.name;
    if (typeof name !== "string" || !NAME_RE.test(name)) {
      throw new RegistrationError(String(name), "names look like ns/op (letters, digits, . _ -)");
    }
    if (this.#ops.has(name)) {
      throw new RegistrationError(name, "an operation with this name exists");
    }
    if (def.type !== "query" && def.type !== "mutation" && def.type !== "subscription") {
      throw new RegistrationError(name, `unknown operation type ${JSON.stringify(def.type)}`);
    }
    const visibility = def.visibility ?? "external";
    if (visibility !== "external" && visibility !== "internal") {
      throw new RegistrationError(name, `unknown visibility ${JSON.stringify(visibility)}`);
    }
    let run: (input: unknown, ctx: CallContext) => unknown;
    if (def.type === "subscription") {
      if (def.handler !== undefined) {
        throw new RegistrationError(
          name,
          "INVALID_OPERATION_TYPE: a subscription needs a `subscribe` handler, not `handler`",
        );
      }
      if (typeof def.subscribe !== "function") {
        throw new RegistrationError(name, "missing `subscribe` handler");
      }
      run = def.subscribe as (input: unknown, ctx: CallContext) => unknown;
    } else {
      if (def.subscribe !== undefined) {
        throw new RegistrationError(
          name,
          `INVALID_OPERATION_TYPE: a ${def.type} needs a \`handler\`, not \`subscribe\``,
        );
      }
      if (typeof def.handler !== "function") throw new RegistrationError(name, "missing `handler`");
      const ctorName = (def.handler as { constructor?: { name?: string } }).constructor?.name;
      if (ctorName === "AsyncGeneratorFunction" || ctorName === "GeneratorFunction") {
        throw new RegistrationError(
          name,
          `INVALID_OPERATION_TYPE: a generator handler streams items; declare type "subscription"`,
        );
      }
      run = def.handler as (input: unknown, ctx: CallContext) => unknown;
    }
    const input_schema = def.input_schema ?? {};
    const output_schema = def.output_schema ?? {};
    let validate;
    try {
      validate = this.#schemas.compile(input_schema);
      this.#schemas.compile(output_schema);
    } catch (e) {
      throw new RegistrationError(name, `invalid schema: ${(e as Error).message}`);
    }
    const errors = (def.errors ?? []).map((e) => ({ ...e }));
    const errorCheck = new Map<string, ((v: unknown) => ValidationIssue[] | null) | null>();
    for (const e of errors) {
      if (typeof e.code !== "string" || e.code.length === 0) {
        throw new RegistrationError(name, "error codes must be non-empty strings");
      }
      try {
        errorCheck.set(
          e.code,
          e.details_schema === undefined ? null : this.#schemas.compile(e.details_schema),
        );
      } catch (err) {
        throw new RegistrationError(
          name,
          `invalid details schema for ${e.code}: ${(err as Error).message}`,
        );
      }
    }
    const spec: OperationSpec = {
      name,
      type: def.type,
      visibility,
      input_schema,
      output_schema,
      errors,
      access: { ...(def.access ?? {}) },
    };
    if (def.description !== undefined) spec.description = def.description;
    const entry: OperationEntry = {
      spec,
      allow: [...(def.allow ?? [])],
      authority: def.authority,
      capabilities: Object.freeze({ ...(def.capabilities ?? {}) }),
      childPolicy: def.childPolicy ?? "abort-dependents",
      validateInput: validate,
      checkError(code, details) {
        if (!errorCheck.has(code)) return undefined;
        const check = errorCheck.get(code);
        return check ? check(details) : null;
      },
      run,
    };
    this.#ops.set(name, entry);
    return spec;
  }

  /** Removes an operation; returns whether it existed. */
  unregister(name: string): boolean {
    return this.#ops.delete(name);
  }

  /** The spec of `name`, if registered. */
  spec(name: string): OperationSpec | undefined {
    return this.#ops.get(name)?.spec;
  }

  /** {@inheritDoc OperationRouter.lookup} */
  lookup(name: string, peer?: string): OperationEntry | undefined {
    return peer === undefined ? this.#ops.get(name) : undefined;
  }

  /** {@inheritDoc OperationRouter.list} */
  list(): OperationEntry[] {
    return [...this.#ops.values()];
  }

  /** A registry has no peers. */
  peers(): PeerInfo[] {
    return [];
  }

  /**
   * Calls a query or mutation in-process (not from the wire: internal
   * operations are reachable), with the same checks as a wire call.
   */
  invoke(name: string, input: unknown, options: LocalInvokeOptions = {}): Promise<unknown> {
    return invokeOperation(this, name, input, options);
  }

  /** Starts a subscription in-process; iterate to receive its items. */
  subscribe(
    name: string,
    input: unknown,
    options: LocalInvokeOptions = {},
  ): AsyncIterable<unknown> {
    return subscribeOperation(this, name, input, options);
  }
}
