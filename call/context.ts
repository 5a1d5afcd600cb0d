/**
 * What a handler receives: the call's context and its scoped view of the
 * operation environment.
 *
 * @module
 */

import type { Identity } from "./access.ts";
import type { Caller } from "./caller.ts";
import type { OperationSpec, PeerInfo } from "./spec.ts";

/**
 * What happens to a child call when its parent is aborted:
 * `abort-dependents` (default) aborts it too, `continue-running` lets it
 * finish on its own (its deadline still applies).
 *
 * @example
 * ```ts
 * import type { ChildPolicy } from "@alknet/call";
 * const policy: ChildPolicy = "continue-running";
 * console.log(policy);
 * ```
 */
export type ChildPolicy = "abort-dependents" | "continue-running";

/**
 * Options of {@link ScopedEnv.invoke} and {@link ScopedEnv.subscribe}.
 *
 * @example
 * ```ts
 * import type { InvokeOptions } from "@alknet/call";
 * const opts: InvokeOptions = { onParentAbort: "continue-running", timeoutMs: 500 };
 * console.log(opts.timeoutMs);
 * ```
 */
export interface InvokeOptions {
  /** What happens to this child if the parent is aborted (default: the registration's policy). */
  onParentAbort?: ChildPolicy;
  /** A shorter deadline for this child, in milliseconds from now. */
  timeoutMs?: number;
  /** An extra signal that aborts the child. */
  signal?: AbortSignal;
  /** Route to this peer only (its id from `services/list-peers`). */
  peer?: string;
}

/**
 * A handler's view of the operations it may compose: only the names its
 * registration allows, checked against its declared authority.
 *
 * @example
 * ```ts
 * import { OperationRegistry } from "@alknet/call";
 * const reg = new OperationRegistry();
 * reg.register({ name: "math/double", type: "query", visibility: "internal", handler: (n) => (n as number) * 2 });
 * reg.register({
 *   name: "math/quad", type: "query", allow: ["math/double"],
 *   handler: async (n, ctx) => ctx.env.invoke("math/double", await ctx.env.invoke("math/double", n)),
 * });
 * console.log(await reg.invoke("math/quad", 3)); // 12
 * ```
 */
export interface ScopedEnv {
  /** Calls a query or mutation; rejects with a `CallError`. */
  invoke(name: string, input: unknown, options?: InvokeOptions): Promise<unknown>;
  /** Starts a subscription; iterating yields its items. */
  subscribe(name: string, input: unknown, options?: InvokeOptions): AsyncIterable<unknown>;
  /** Every operation reachable through this environment (for discovery). */
  list(): OperationSpec[];
  /** The peers attached to this environment, in routing order. */
  peers(): PeerInfo[];
}

/**
 * The context of one running call.
 *
 * @example
 * ```ts
 * import type { CallContext } from "@alknet/call";
 * const handler = (input: unknown, ctx: CallContext) => ({ you: ctx.identity?.id ?? null, id: ctx.requestId });
 * console.log(typeof handler);
 * ```
 */
export interface CallContext {
  /** This call's id (the wire id for calls from a peer). */
  readonly requestId: string;
  /** The composing call's id, for child calls. */
  readonly parentId?: string;
  /** The operation's name. */
  readonly operation: string;
  /** The authenticated caller, or null. */
  readonly identity: Identity | null;
  /** Identity id of the original caller when this call was forwarded by another node. */
  readonly forwardedFor?: string;
  /** Aborted when the caller aborts, the deadline passes, a parent aborts or the connection drops. */
  readonly signal: AbortSignal;
  /** Epoch milliseconds by which the call must finish, when it has a deadline. */
  readonly deadline?: number;
  /** Values injected at registration (secrets, handles); never serialized. */
  readonly capabilities: Readonly<Record<string, unknown>>;
  /** Composition: the operations this handler may call. */
  readonly env: ScopedEnv;
  /** The connection the call arrived on, to call the peer back; absent for local calls. */
  readonly connection?: Caller;
}
