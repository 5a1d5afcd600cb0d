/**
 * The composite operation environment: a session layer, then
 * peers in attach order, then the local registry. A call may pin one peer.
 *
 * @module
 */

import { RegistrationError } from "./errors.ts";
import { invokeOperation, subscribeOperation } from "./local.ts";
import type { InvalidOutputReporter, OutputValidation } from "./output_check.ts";
import type {
  CallObserver,
  LocalInvokeOptions,
  OperationEntry,
  OperationRouter,
} from "./router.ts";
import type { PeerInfo } from "./spec.ts";

/**
 * A router that stands for one peer (see `fromCall`).
 *
 * @example
 * ```ts
 * import type { PeerRouter } from "@alknet/call";
 * const empty: PeerRouter = { id: "none", open: true, lookup: () => undefined, list: () => [], peers: () => [] };
 * console.log(empty.id);
 * ```
 */
export interface PeerRouter extends OperationRouter {
  /** The peer's id. */
  readonly id: string;
  /** False once its connection closed; closed peers are skipped. */
  readonly open: boolean;
}

/**
 * Options of {@link CompositeEnv}.
 *
 * @example
 * ```ts
 * import { type CompositeEnvOptions, OperationRegistry } from "@alknet/call";
 * const opts: CompositeEnvOptions = { local: new OperationRegistry() };
 * console.log(typeof opts.local.lookup);
 * ```
 */
export interface CompositeEnvOptions {
  /** The node's own operations (searched last). */
  local: OperationRouter;
  /** A session- or connection-scoped overlay (searched first). */
  session?: OperationRouter;
  /** Told about every call dispatched through this environment. */
  observer?: CallObserver;
  /** Check outputs against `output_schema` (default `warn`; see `OutputValidation`). */
  validateOutput?: OutputValidation;
  /** Told about mismatching outputs in `warn` mode. */
  onInvalidOutput?: InvalidOutputReporter;
}

/**
 * Routes names through a session layer, attached peers (in attach order),
 * then local operations. Serve it on a connection with `{ router: env }`.
 *
 * @example
 * ```ts
 * import { CompositeEnv, OperationRegistry } from "@alknet/call";
 * const local = new OperationRegistry();
 * local.register({ name: "demo/who", type: "query", handler: () => "local" });
 * const session = new OperationRegistry({ discovery: false });
 * session.register({ name: "demo/who", type: "query", handler: () => "session" });
 * const env = new CompositeEnv({ local, session });
 * console.log(await env.invoke("demo/who", null)); // "session"
 * ```
 */
export class CompositeEnv implements OperationRouter {
  readonly #local: OperationRouter;
  readonly #session?: OperationRouter;
  readonly #peers: PeerRouter[];
  /** Told about every call dispatched through this environment (settable). */
  observer?: CallObserver;
  /** How outputs are checked against `output_schema` (settable). */
  validateOutput?: OutputValidation;
  /** Told about mismatching outputs in `warn` mode (settable). */
  onInvalidOutput?: InvalidOutputReporter;

  /** Builds the environment; peers are attached later. */
  constructor(options: CompositeEnvOptions, peers: PeerRouter[] = []) {
    this.#local = options.local;
    this.#session = options.session;
    this.#peers = peers;
    this.observer = options.observer;
    this.validateOutput = options.validateOutput;
    this.onInvalidOutput = options.onInvalidOutput;
  }

  /** Adds a peer after the ones already attached. Throws `RegistrationError` when its id is taken. */
  attach(peer: PeerRouter): void {
    if (this.#peers.some((p) => p.id === peer.id)) {
      throw new RegistrationError(peer.id, "a peer with this id is already attached");
    }
    this.#peers.push(peer);
  }

  /** Removes a peer by id; returns whether it was attached. */
  detach(id: string): boolean {
    const i = this.#peers.findIndex((p) => p.id === id);
    if (i < 0) return false;
    this.#peers.splice(i, 1);
    return true;
  }

  /** The same peers and local operations with another session layer (e.g. one per connection). */
  withSession(session: OperationRouter | undefined): CompositeEnv {
    return new CompositeEnv({
      local: this.#local,
      session,
      observer: this.observer,
      validateOutput: this.validateOutput,
      onInvalidOutput: this.onInvalidOutput,
    }, this.#peers);
  }

  /** {@inheritDoc OperationRouter.lookup} */
  lookup(name: string, peer?: string): OperationEntry | undefined {
    if (peer !== undefined) {
      const p = this.#peers.find((x) => x.id === peer);
      return p && p.open ? p.lookup(name) : undefined;
    }
    const s = this.#session?.lookup(name);
    if (s) return s;
    for (const p of this.#peers) {
      if (!p.open) continue;
      const e = p.lookup(name);
      if (e) return e;
    }
    return this.#local.lookup(name);
  }

  /** {@inheritDoc OperationRouter.list} */
  list(): OperationEntry[] {
    const seen = new Map<string, OperationEntry>();
    const layers: OperationRouter[] = [];
    if (this.#session) layers.push(this.#session);
    for (const p of this.#peers) if (p.open) layers.push(p);
    layers.push(this.#local);
    for (const l of layers) {
      for (const e of l.list()) if (!seen.has(e.spec.name)) seen.set(e.spec.name, e);
    }
    return [...seen.values()];
  }

  /** {@inheritDoc OperationRouter.peers} */
  peers(): PeerInfo[] {
    return this.#peers.map((p) => ({ id: p.id, operations: p.list().length, open: p.open }));
  }

  /** Calls a query or mutation in-process through this environment. */
  invoke(name: string, input: unknown, options: LocalInvokeOptions = {}): Promise<unknown> {
    return invokeOperation(this, name, input, options);
  }

  /** Starts a subscription in-process through this environment. */
  subscribe(
    name: string,
    input: unknown,
    options: LocalInvokeOptions = {},
  ): AsyncIterable<unknown> {
    return subscribeOperation(this, name, input, options);
  }
}
