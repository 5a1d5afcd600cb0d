/**
 * The head of a mesh: a registry that also routes to workers. A worker
 * dials the head (so it may sit behind NAT), calls `mesh/register {name}`
 * on that connection, and from then on the head serves its operations as
 * `NAME/<op>` over the worker's own connection, plus `any/<op>`
 * round-robin over the live workers offering `<op>`. Workers vanish when
 * their connection closes.
 *
 * @module
 */

import type { AccessSpec, Identity } from "./access.ts";
import type { Caller } from "./caller.ts";
import type { CallContext } from "./context.ts";
import { CallError } from "./errors.ts";
import { anyRoute } from "./mesh_any.ts";
import { importWorkerOperations, isGone, WorkerGoneError } from "./mesh_forward.ts";
import {
  defaultWorkerPolicy,
  workerNameProblem,
  type WorkerPolicy,
  type WorkerRegistration,
} from "./mesh_policy.ts";
import { OperationRegistry, type RegistryOptions } from "./registry.ts";
import type { OperationEntry } from "./router.ts";
import type { PeerInfo } from "./spec.ts";

export { WorkerGoneError };

/**
 * Something that happened to a worker, for logs: it `registered`, was
 * `refused` (with the reason), or is `gone`.
 *
 * @example
 * ```ts
 * import type { WorkerEvent } from "@alknet/call";
 * const e: WorkerEvent = { type: "registered", name: "w1", identity: "SHA256:k", operations: 3 };
 * console.log(e.type);
 * ```
 */
export interface WorkerEvent {
  /** What happened. */
  type: "registered" | "refused" | "gone";
  /** The worker's name (as claimed, for `refused`). */
  name: string;
  /** The identity id of the worker's connection, when it has one. */
  identity?: string;
  /** For `registered`: how many operations it offers. */
  operations?: number;
  /** For `refused`: why. */
  reason?: string;
}

/**
 * Options of {@link MeshHead}: a registry's, plus who may be a worker.
 *
 * @example
 * ```ts
 * import { MeshHead, type MeshHeadOptions } from "@alknet/call";
 * const options: MeshHeadOptions = { onWorker: (e) => console.log(e.type, e.name), rememberGone: 8 };
 * console.log(new MeshHead(options).peers()); // []
 * ```
 */
export interface MeshHeadOptions extends RegistryOptions {
  /** Who may register as which name (default {@link defaultWorkerPolicy}). */
  workerPolicy?: WorkerPolicy;
  /** Access required of callers for every worker operation (default: each operation's own). */
  workerAccess?: AccessSpec;
  /** Told when workers register, are refused or go. */
  onWorker?: (event: WorkerEvent) => void;
  /** How many gone workers `services/list-peers` keeps showing (default 32). */
  rememberGone?: number;
}

interface Worker {
  name: string;
  identity: Identity | null;
  connection: Caller;
  ops: Map<string, OperationEntry>;
  since: number;
  gone: boolean;
}

/**
 * A registry that is also the head of a mesh. Serve it like any registry
 * (`serve({ calls: head })` in `@alknet/core`, or the call servers); a
 * worker registers by calling `mesh/register {name}` on its connection to
 * the head (`connect(url, { worker })` in `@alknet/core`, or
 * {@link joinMesh}). Then:
 *
 * - `NAME/ns/op` is forwarded to worker `NAME` over the worker's own
 *   connection, with the caller's deadline, abort and `forwarded_for`;
 *   subscriptions are streamed;
 * - `any/ns/op` goes to the live workers offering `ns/op` in turn
 *   (round-robin), skipping workers that are gone before they answer;
 * - `services/list` shows the head's operations and every live worker's,
 *   prefixed; `services/list-peers` lists the workers (`live` or `gone`).
 *
 * A worker needs the scope `mesh:worker` and a name it may claim (see
 * {@link defaultWorkerPolicy}); a name held by a live worker is refused
 * (`NAME_TAKEN`). When its connection closes the worker's names answer
 * `NOT_FOUND` and its calls in flight fail with {@link WorkerGoneError}.
 *
 * @example A worker registers over an in-memory connection
 * ```ts
 * import {
 *   CallConnection,
 *   MeshHead,
 *   memoryTransportPair,
 *   OperationRegistry,
 *   registerWorker,
 * } from "@alknet/call";
 * const head = new MeshHead({ onWorker: (e) => console.log(e.type, e.name) });
 * const worker = new OperationRegistry();
 * worker.register({ name: "math/double", type: "query", handler: (n) => (n as number) * 2 });
 * const [a, b] = memoryTransportPair();
 * // The head's end: the worker authenticated with the scope mesh:worker.
 * new CallConnection(a, { router: head, identity: { id: "w", scopes: ["mesh:worker"], resources: {} } });
 * const toHead = new CallConnection(b, { router: worker });
 * console.log(await registerWorker(toHead, "w1")); // { name: "w1", operations: 1 }
 * console.log(await head.invoke("w1/math/double", 21)); // 42
 * console.log(await head.invoke("any/math/double", 4)); // 8
 * await toHead.close();
 * await head.invoke("w1/math/double", 1).catch((e) => console.log(e.code)); // "NOT_FOUND"
 * ```
 */
export class MeshHead extends OperationRegistry {
  #policy: WorkerPolicy;
  #workerAccess?: AccessSpec;
  #onWorker?: (event: WorkerEvent) => void;
  #remember: number;
  #live = new Map<string, Worker>();
  #pending = new Set<string>();
  #gone: Worker[] = [];
  /** `any/<op>` routes, built when first called, dropped when a worker comes or goes. */
  #any = new Map<string, { entry: OperationEntry; live(): boolean }>();

  /** A head with the discovery operations and `mesh/register`. */
  constructor(options: MeshHeadOptions = {}) {
    super(options);
    this.#policy = options.workerPolicy ?? defaultWorkerPolicy;
    this.#workerAccess = options.workerAccess;
    this.#onWorker = options.onWorker;
    this.#remember = options.rememberGone ?? 32;
    this.register<{ name: string }, WorkerRegistration>({
      name: "mesh/register",
      type: "mutation",
      description: "Registers the calling connection as worker NAME of this head",
      input_schema: {
        type: "object",
        properties: { name: { type: "string" } },
        required: ["name"],
        additionalProperties: false,
      },
      output_schema: {
        type: "object",
        properties: { name: { type: "string" }, operations: { type: "integer" } },
        required: ["name", "operations"],
      },
      errors: [
        {
          code: "NAME_TAKEN",
          retryable: true,
          description: "a live worker holds this name",
          details_schema: { type: "object", properties: { name: { type: "string" } } },
        },
        {
          code: "NAME_REFUSED",
          description: "the name is invalid, reserved, or not granted to this identity",
          details_schema: { type: "object", properties: { name: { type: "string" } } },
        },
      ],
      access: { scopes_all: ["mesh:worker"] },
      handler: ({ name }, ctx) => this.#register(name, ctx),
    });
  }

  /** The live workers' names, in registration order. */
  workers(): string[] {
    return [...this.#live.keys()];
  }

  #emit(event: WorkerEvent): void {
    try {
      this.#onWorker?.(event);
    } catch {
      // a listener must not break registration
    }
  }

  #refuse(code: "NAME_TAKEN" | "NAME_REFUSED", name: string, reason: string, id?: string): never {
    this.#emit({ type: "refused", name, identity: id, reason });
    throw new CallError(code, reason, { details: { name } });
  }

  async #register(name: string, ctx: CallContext): Promise<WorkerRegistration> {
    const id = ctx.identity?.id;
    const connection = ctx.connection;
    if (connection === undefined) {
      this.#refuse("NAME_REFUSED", name, "mesh/register is called by a worker over its connection");
    }
    const problem = workerNameProblem(name) ??
      (super.list().some((e) => e.spec.name.startsWith(name + "/"))
        ? `'${name}' is a namespace of the head's own operations`
        : null) ??
      this.#policy(ctx.identity, name);
    if (problem !== null) this.#refuse("NAME_REFUSED", name, problem, id);
    for (const w of this.#live.values()) {
      if (w.connection === connection) {
        this.#refuse("NAME_REFUSED", name, `this connection is already worker ${w.name}`, id);
      }
    }
    const holder = this.#live.get(name);
    if (holder?.connection.isClosed) this.#leave(holder);
    if (this.#live.has(name) || this.#pending.has(name)) {
      this.#refuse("NAME_TAKEN", name, `a live worker is registered as ${name}`, id);
    }
    this.#pending.add(name);
    let ops: Map<string, OperationEntry>;
    try {
      ops = await importWorkerOperations(connection, name, this.#workerAccess);
    } catch (e) {
      this.#pending.delete(name);
      if (isGone(e)) throw new WorkerGoneError(name, { cause: e });
      throw e;
    }
    this.#pending.delete(name);
    if (connection.isClosed) throw new WorkerGoneError(name);
    const worker: Worker = {
      name,
      identity: ctx.identity,
      connection,
      ops,
      since: Date.now(),
      gone: false,
    };
    this.#live.set(name, worker);
    this.#any.clear();
    this.#gone = this.#gone.filter((w) => w.name !== name);
    void connection.closed.then(() => this.#leave(worker));
    this.#emit({ type: "registered", name, identity: id, operations: ops.size });
    return { name, operations: ops.size };
  }

  #leave(worker: Worker): void {
    if (this.#live.get(worker.name) !== worker) return;
    this.#live.delete(worker.name);
    this.#any.clear();
    worker.gone = true;
    worker.since = Date.now();
    if (this.#remember > 0) {
      this.#gone.push(worker);
      if (this.#gone.length > this.#remember) this.#gone.shift();
    }
    this.#emit({ type: "gone", name: worker.name, identity: worker.identity?.id });
  }

  /**
   * `NAME/...` of a live worker, `any/...` over the live workers offering
   * it, else the head's own operations. With `peer`, only worker `peer`.
   */
  override lookup(name: string, peer?: string): OperationEntry | undefined {
    if (peer !== undefined) {
      const w = this.#live.get(peer);
      return w && !w.connection.isClosed ? w.ops.get(name) : undefined;
    }
    const slash = name.indexOf("/");
    if (slash > 0 && this.#live.size > 0) {
      const first = name.slice(0, slash);
      if (first === "any") {
        const op = name.slice(slash + 1);
        let route = this.#any.get(op);
        if (route === undefined) {
          route = anyRoute(op, this.#live.values());
          if (route === undefined) return undefined;
          this.#any.set(op, route);
        }
        return route.live() ? route.entry : undefined;
      }
      const w = this.#live.get(first);
      if (w) return w.connection.isClosed ? undefined : w.ops.get(name);
    }
    return super.lookup(name);
  }

  /** The head's own operations, then every live worker's (prefixed). */
  override list(): OperationEntry[] {
    const out = super.list();
    for (const w of this.#live.values()) out.push(...w.ops.values());
    return out;
  }

  /** The workers: live ones in registration order, then recently gone ones. */
  override peers(): PeerInfo[] {
    const info = (w: Worker): PeerInfo => {
      const p: PeerInfo = {
        id: w.name,
        operations: w.ops.size,
        open: !w.gone,
        state: w.gone ? "gone" : "live",
        since: new Date(w.since).toISOString(),
      };
      if (w.identity) p.identity = w.identity.id;
      return p;
    };
    return [...[...this.#live.values()].map(info), ...this.#gone.map(info)];
  }
}
