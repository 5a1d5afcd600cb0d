/**
 * The operation registry: specs, handlers, visibility, access
 * requirements, compiled input schemas and declared error codes. Both ends
 * of a connection dispatch into one.
 *
 * @module
 */

import type { CallContext } from "./context.ts";
import { registerDiscovery } from "./discovery.ts";
import { RegistrationError } from "./errors.ts";
import { invokeOperation, subscribeOperation } from "./local.ts";
import {
  type NodeCallConn,
  type NodeCallPeer,
  serveNodeCallStream,
  serveNodeCallWebSocket,
} from "./node_carriers.ts";
import type {
  CallObserver,
  LocalInvokeOptions,
  OperationDefinition,
  OperationEntry,
  OperationRouter,
} from "./router.ts";
import { SchemaCompiler, type ValidationIssue } from "./schema.ts";
import type { OperationSpec, PeerInfo } from "./spec.ts";

/**
 * Options of {@link OperationRegistry}.
 *
 * @example
 * ```ts
 * import { OperationRegistry, type RegistryOptions } from "@alknet/call";
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

const NAME_RE = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;

/**
 * Holds a node's operations. Both ends of a connection dispatch into one.
 *
 * @example
 * ```ts
 * import { OperationRegistry } from "@alknet/call";
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
          { wrongType: true },
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
          { wrongType: true },
        );
      }
      if (typeof def.handler !== "function") throw new RegistrationError(name, "missing `handler`");
      const ctorName = (def.handler as { constructor?: { name?: string } }).constructor?.name;
      if (ctorName === "AsyncGeneratorFunction" || ctorName === "GeneratorFunction") {
        throw new RegistrationError(
          name,
          `INVALID_OPERATION_TYPE: a generator handler streams items; declare type "subscription"`,
          { wrongType: true },
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

  /**
   * Serves these operations on one byte stream a node accepted (the SSH
   * `alknet-control` channel, an `alknet/call` stream): `serve({ calls })`
   * of `@alknet/core` calls it.
   */
  serveCallStream(
    conn: NodeCallConn,
    peer: NodeCallPeer,
  ): ReturnType<typeof serveNodeCallStream> {
    return serveNodeCallStream(this, conn, peer);
  }

  /**
   * Answers a node's `/alknet/call` WebSocket request (upgrade, or 401
   * saying why): `serve({ calls })` of `@alknet/core` calls it.
   */
  serveCallWebSocket(request: Request, peer: NodeCallPeer): Promise<Response> {
    return serveNodeCallWebSocket(this, request, peer);
  }
}
