/**
 * The operation registry: specs, handlers, visibility, access
 * requirements, compiled input schemas and declared error codes. Both ends
 * of a connection dispatch into one.
 *
 * @module
 */

import { registerDiscovery } from "./discovery.ts";
import { RegistrationError } from "./errors.ts";
import { invokeOperation, subscribeOperation } from "./local.ts";
import { compileOperation } from "./operation_entry.ts";
import { serveWorkerStream, type WorkerLink, type WorkerStreamOptions } from "./mesh_worker.ts";
import type { InvalidOutputReporter, OutputValidation } from "./output_check.ts";
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
import { SchemaCompiler } from "./schema.ts";
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
  /**
   * Check outputs against `output_schema`: `error`, `warn` or `off`
   * (default `warn`, or `ALKNET_VALIDATE_OUTPUT` when set).
   */
  validateOutput?: OutputValidation;
  /** Told about mismatching outputs in `warn` mode (default: one `console.warn` per operation). */
  onInvalidOutput?: InvalidOutputReporter;
}

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
  /** How outputs are checked against `output_schema` (settable; see {@link RegistryOptions}). */
  validateOutput?: OutputValidation;
  /** Told about mismatching outputs in `warn` mode (settable). */
  onInvalidOutput?: InvalidOutputReporter;

  /** A registry, with the discovery operations unless `discovery: false`. */
  constructor(options: RegistryOptions = {}) {
    this.observer = options.observer;
    this.validateOutput = options.validateOutput;
    this.onInvalidOutput = options.onInvalidOutput;
    if (options.discovery !== false) registerDiscovery(this);
  }

  /**
   * Registers an operation and returns its spec. Throws
   * {@link RegistrationError} for a bad or duplicate name, an invalid schema,
   * or a handler whose kind does not match `type` (a `subscribe` handler for
   * a query, an async generator as a query handler, ...).
   */
  register<I = unknown, O = unknown>(def: OperationDefinition<I, O>): OperationSpec {
    if (typeof def.name === "string" && this.#ops.has(def.name)) {
      throw new RegistrationError(def.name, "an operation with this name exists");
    }
    const entry = compileOperation(def, this.#schemas);
    this.#ops.set(entry.spec.name, entry);
    return entry.spec;
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
   * Serves these operations as worker `options.name` on a byte stream this
   * node dialled to a mesh head, and registers there: `connect(target,
   * { worker })` of `@alknet/core` calls it on the SSH `alknet-control`
   * channel.
   */
  serveWorker(conn: NodeCallConn, options: WorkerStreamOptions): WorkerLink {
    return serveWorkerStream(this, conn, options);
  }

  /**
   * Answers a node's `/alknet/call` WebSocket request (upgrade, or 401
   * saying why): `serve({ calls })` of `@alknet/core` calls it.
   */
  serveCallWebSocket(request: Request, peer: NodeCallPeer): Promise<Response> {
    return serveNodeCallWebSocket(this, request, peer);
  }
}
