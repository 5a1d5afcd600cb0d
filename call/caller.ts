/**
 * The caller's side of a connection, as a type: {@link Caller} (what
 * `CallConnection` is, and what a handler's `ctx.connection` offers to call
 * the peer back), its per-call {@link CallOptions} and a running
 * {@link CallSubscription}.
 *
 * @module
 */

import type { Identity } from "./access.ts";

/**
 * An abort source read through hooks: `link(hook)` calls `hook(reason)`
 * once when it aborts (at once when it has) and returns what unlinks it.
 *
 * @example
 * ```ts
 * import type { AbortLink } from "@alknet/call";
 * const never: AbortLink = { aborted: false, reason: undefined, link: () => () => {} };
 * console.log(never.aborted); // false
 * ```
 */
export interface AbortLink {
  /** True once aborted. */
  readonly aborted: boolean;
  /** Why it was aborted (undefined before). */
  readonly reason: unknown;
  /** Tells `hook` when this aborts; returns what unlinks it. */
  link(hook: (reason: unknown) => void): () => void;
}

/**
 * Options of {@link Caller.call} and {@link Caller.subscribe}.
 *
 * @example
 * ```ts
 * import type { CallOptions } from "@alknet/call";
 * const opts: CallOptions = { timeoutMs: 2_000, signal: AbortSignal.timeout(5_000) };
 * console.log(opts.timeoutMs);
 * ```
 */
export interface CallOptions {
  /** Aborting sends `call.aborted` and rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Like `signal` (ignored when `signal` is given), for an abort source that
   * tells hooks instead of dispatching events, so a call forwarded from a
   * handler needs no `AbortSignal` of its own (a head's forwarding passes
   * the running call's control).
   */
  abort?: AbortLink;
  /** Ask for a shorter deadline, in milliseconds (sent as `timeout_ms`). */
  timeoutMs?: number;
  /** An absolute deadline (epoch ms), e.g. inherited from a parent call. */
  deadline?: number;
  /** Identity id of the original caller when forwarding. */
  forwardedFor?: string;
}

/**
 * A running subscription: iterate it to get items; `cancel()` (or leaving
 * a `for await` loop) sends `call.aborted`.
 *
 * @example
 * ```ts
 * import {
 *   CallConnection,
 *   type CallSubscription,
 *   memoryTransportPair,
 *   OperationRegistry,
 * } from "@alknet/call";
 * const reg = new OperationRegistry();
 * reg.register({ name: "demo/count", type: "subscription", subscribe: async function* () { yield 1; yield 2; } });
 * const [a, b] = memoryTransportPair();
 * new CallConnection(a, { router: reg });
 * const conn = new CallConnection(b);
 * const sub: CallSubscription<number> = conn.subscribe<number>("demo/count", null);
 * for await (const n of sub) console.log(n);
 * await conn.close();
 * ```
 */
export interface CallSubscription<T = unknown> extends AsyncIterable<T> {
  /** The request id. */
  readonly id: string;
  /** Stops the subscription and tells the peer. */
  cancel(): void;
}

/**
 * One end of a call connection, seen from the code that calls through it.
 * `CallConnection` implements it.
 *
 * @example
 * ```ts
 * import { type Caller, OperationRegistry } from "@alknet/call";
 * const registry = new OperationRegistry();
 * registry.register({
 *   name: "demo/callback",
 *   type: "query",
 *   // The peer that called may be called back on the same connection.
 *   handler: async (_input, ctx) => {
 *     const peer: Caller | undefined = ctx.connection;
 *     return peer ? await peer.call("client/hello", null) : "called in-process";
 *   },
 * });
 * console.log(await registry.invoke("demo/callback", null)); // "called in-process"
 * ```
 */
export interface Caller {
  /** The connection's id (the peer id when imported with `fromCall`). */
  readonly id: string;
  /** The peer's identity, when it authenticated. */
  readonly identity: Identity | null;
  /** True once the connection is closed. */
  readonly isClosed: boolean;
  /** Resolves when the connection closes, with the error that closed it, if any. */
  readonly closed: Promise<Error | undefined>;
  /** Calls a query or mutation on the peer. */
  call<O = unknown>(name: string, input: unknown, opts?: CallOptions): Promise<O>;
  /** Subscribes to a subscription on the peer. */
  subscribe<O = unknown>(name: string, input: unknown, opts?: CallOptions): CallSubscription<O>;
  /** Closes the connection. */
  close(): Promise<Error | undefined>;
}
