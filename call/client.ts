/**
 * {@link CallClient} (typed calls and discovery over one connection) and
 * {@link fromCall}, which imports a peer's operations as local forwarding
 * handlers.
 *
 * @module
 */

import type { AccessSpec } from "./access.ts";
import type { Caller, CallOptions, CallSubscription } from "./caller.ts";
import type { OperationSummary, PeerList, ServiceList } from "./discovery.ts";
import type { PeerRouter } from "./env.ts";
import { SamePeerCollisionError } from "./errors.ts";
import type { OperationEntry } from "./router.ts";
import type { OperationSpec, OperationType, PeerInfo } from "./spec.ts";
import { type TypedApi, typedApi, type TypedOperation } from "./typed.ts";

/**
 * Calls and discovery on one connection.
 *
 * @example
 * ```ts
 * import {
 *   CallClient,
 *   connectCall,
 *   OperationRegistry,
 *   registerNodeOperations,
 *   serveCallTcp,
 * } from "@alknet/call";
 * const registry = new OperationRegistry();
 * registerNodeOperations(registry, { version: "0.1.0" });
 * const server = await serveCallTcp({ registry });
 * const client = new CallClient(await connectCall(server.url));
 * console.log((await client.list()).map((o) => o.name));
 * console.log(await client.call("node/ping", { hi: 1 }));
 * for await (const t of client.subscribe("node/ticks", { count: 3, interval_ms: 10 })) console.log(t);
 * await client.connection.close();
 * await server.close();
 * ```
 */
export class CallClient {
  /** The underlying connection. */
  readonly connection: Caller;

  /** Wraps a connection. */
  constructor(connection: Caller) {
    this.connection = connection;
  }

  /** Calls a typed query or mutation: the input is type-checked, the output typed. */
  call<I, O>(
    op: TypedOperation<"query" | "mutation", I, O>,
    input: NoInfer<I>,
    options?: CallOptions,
  ): Promise<O>;
  /** Calls a query or mutation by name. */
  call<O = unknown>(name: string, input: unknown, options?: CallOptions): Promise<O>;
  call(
    op: string | TypedOperation<OperationType, unknown, unknown>,
    input: unknown,
    options?: CallOptions,
  ): Promise<unknown> {
    return this.connection.call(typeof op === "string" ? op : op.name, input, options);
  }

  /** Subscribes to a typed subscription: the input is type-checked, the items typed. */
  subscribe<I, O>(
    op: TypedOperation<"subscription", I, O>,
    input: NoInfer<I>,
    options?: CallOptions,
  ): CallSubscription<O>;
  /** Subscribes to a subscription by name. */
  subscribe<O = unknown>(name: string, input: unknown, options?: CallOptions): CallSubscription<O>;
  subscribe(
    op: string | TypedOperation<OperationType, unknown, unknown>,
    input: unknown,
    options?: CallOptions,
  ): CallSubscription<unknown> {
    return this.connection.subscribe(typeof op === "string" ? op : op.name, input, options);
  }

  /** A typed client for a tree of declared operations (see {@link typedApi}). */
  typed<const Tree extends object>(tree: Tree): TypedApi<Tree> {
    return typedApi(this.connection, tree);
  }

  /** `services/list`: external operations this caller may call. */
  async list(): Promise<OperationSummary[]> {
    return (await this.connection.call<ServiceList>("services/list", {})).operations;
  }

  /** `services/schema`: the full spec of one operation. */
  schema(name: string): Promise<OperationSpec> {
    return this.connection.call<OperationSpec>("services/schema", { name });
  }

  /** `services/list-peers`: the peer's own peers. */
  async listPeers(): Promise<PeerInfo[]> {
    return (await this.connection.call<PeerList>("services/list-peers", {})).peers;
  }
}

/**
 * Options of {@link fromCall}.
 *
 * @example
 * ```ts
 * import type { FromCallOptions } from "@alknet/call";
 * const opts: FromCallOptions = { prefix: "worker1/", filter: (s) => s.name.startsWith("node/") };
 * ```
 */
export interface FromCallOptions {
  /** Prepended to every imported name (e.g. `"worker1/"`). */
  prefix?: string;
  /** Keeps only the operations it returns true for (after the default exclusion of `services/*`). */
  filter?: (spec: OperationSpec) => boolean;
  /** Access required of local callers; default: the peer's own requirement for each operation. */
  access?: AccessSpec;
  /** The peer id (default: the connection's id). */
  id?: string;
  /** Also import the peer's `services/*` discovery operations (default false). */
  includeDiscovery?: boolean;
}

/**
 * A peer's imported operations: attach it to a {@link CompositeEnv} to route
 * to it. Lookups stop finding anything once its connection has closed.
 *
 * @example
 * ```ts
 * import { CallConnection, fromCall, memoryTransportPair, OperationRegistry } from "@alknet/call";
 * const worker = new OperationRegistry();
 * worker.register({ name: "node/ping", type: "query", handler: (x) => x });
 * const [a, b] = memoryTransportPair();
 * new CallConnection(a, { router: worker });
 * const conn = new CallConnection(b);
 * const peer = await fromCall(conn, { prefix: "w/", id: "worker" });
 * console.log(peer.id, peer.list().map((e) => e.spec.name)); // "worker" ["w/node/ping"]
 * await conn.close();
 * ```
 */
export class PeerOperations implements PeerRouter {
  /** The peer's id. */
  readonly id: string;
  /** The connection calls are forwarded on. */
  readonly connection: Caller;
  #ops: Map<string, OperationEntry>;

  /** Use {@link fromCall} to build one. */
  constructor(id: string, connection: Caller, ops: Map<string, OperationEntry>) {
    this.id = id;
    this.connection = connection;
    this.#ops = ops;
  }

  /** False once the connection closed. */
  get open(): boolean {
    return !this.connection.isClosed;
  }

  /** {@inheritDoc OperationRouter.lookup} */
  lookup(name: string, peer?: string): OperationEntry | undefined {
    if (peer !== undefined && peer !== this.id) return undefined;
    return this.#ops.get(name);
  }

  /** {@inheritDoc OperationRouter.list} */
  list(): OperationEntry[] {
    return [...this.#ops.values()];
  }

  /** Itself, as one peer. */
  peers(): PeerInfo[] {
    return [{ id: this.id, operations: this.#ops.size, open: this.open }];
  }
}

/**
 * Imports a peer's external operations (those its `services/list` shows
 * this connection) as forwarding handlers: calls and subscriptions go to
 * the peer with the parent's deadline, `forwarded_for` set to the original
 * caller, and aborts forwarded. Throws {@link SamePeerCollisionError} when
 * the peer lists one name twice.
 *
 * @example
 * ```ts
 * import {
 *   CompositeEnv, connectCall, fromCall, OperationRegistry, registerNodeOperations, serveCallTcp,
 * } from "@alknet/call";
 * // A worker...
 * const worker = new OperationRegistry();
 * registerNodeOperations(worker, { version: "0.1.0" });
 * const workerServer = await serveCallTcp({ registry: worker });
 * // ...imported by a head under "worker1/".
 * const conn = await connectCall(workerServer.url);
 * const env = new CompositeEnv({ local: new OperationRegistry() });
 * env.attach(await fromCall(conn, { prefix: "worker1/" }));
 * console.log(await env.invoke("worker1/node/ping", { via: "head" }));
 * await conn.close();
 * await workerServer.close();
 * ```
 */
export async function fromCall(
  connection: Caller,
  options: FromCallOptions = {},
): Promise<PeerOperations> {
  const id = options.id ?? connection.id;
  const prefix = options.prefix ?? "";
  const { operations } = await connection.call<ServiceList>("services/list", {});
  const wanted = operations.filter((o) =>
    options.includeDiscovery || !o.name.startsWith("services/")
  );
  const seen = new Set<string>();
  for (const o of wanted) {
    if (seen.has(o.name)) throw new SamePeerCollisionError(id, prefix + o.name);
    seen.add(o.name);
  }
  const specs = await Promise.all(
    wanted.map((o) => connection.call<OperationSpec>("services/schema", { name: o.name })),
  );
  const ops = new Map<string, OperationEntry>();
  for (const remote of specs) {
    if (options.filter && !options.filter(remote)) continue;
    const localName = prefix + remote.name;
    if (ops.has(localName)) throw new SamePeerCollisionError(id, localName);
    ops.set(localName, forwardingEntry(connection, id, localName, remote, options.access));
  }
  return new PeerOperations(id, connection, ops);
}

function forwardingEntry(
  connection: Caller,
  peer: string,
  localName: string,
  remote: OperationSpec,
  access: AccessSpec | undefined,
): OperationEntry {
  const spec: OperationSpec = {
    ...remote,
    name: localName,
    visibility: "external",
    errors: remote.errors ?? [],
    access: access ?? remote.access ?? {},
  };
  const declared = new Set(spec.errors.map((e) => e.code));
  const remoteName = remote.name;
  return {
    spec,
    peer,
    allow: [],
    capabilities: Object.freeze({}),
    childPolicy: "abort-dependents",
    validateInput: () => null, // the peer validates against its own schema
    checkError: (code) => (declared.has(code) ? null : undefined),
    run(input, ctx) {
      const opts: CallOptions = {
        signal: ctx.signal,
        deadline: ctx.deadline,
        forwardedFor: ctx.forwardedFor ?? ctx.identity?.id,
      };
      return spec.type === "subscription"
        ? connection.subscribe(remoteName, input, opts)
        : connection.call(remoteName, input, opts);
    },
  };
}
