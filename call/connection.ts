/**
 * A call-protocol connection: the same dispatcher on both ends of any
 * envelope transport. Either side calls the other; outgoing calls wait in a
 * pending map swept for deadlines; incoming requests are served by
 * {@link IncomingCalls}; connection loss fails everything in flight.
 *
 * @module
 */

import type { Identity } from "./access.ts";
import type { AbortLink, Caller, CallOptions, CallSubscription } from "./caller.ts";
import { discoveryRouter } from "./discovery.ts";
import { CallError, ConnectionClosedError } from "./errors.ts";
import { type Authenticate, IncomingCalls } from "./incoming.ts";
import type { ExpectedKind } from "./request.ts";
import type { RelayConnection, RelayedCall } from "./relay.ts";
import type { OperationRouter } from "./router.ts";
import { Subscription } from "./subscription.ts";
import type { EnvelopeTransport } from "./transport.ts";
import { type Envelope, newCallId, type RequestedPayload } from "./wire.ts";

/**
 * Options of {@link CallConnection}.
 *
 * @example
 * ```ts
 * import type { ConnectionOptions } from "@alknet/call";
 * const opts: ConnectionOptions = { authToken: () => "fresh-token", sendToken: "each", defaultTimeoutMs: 10_000 };
 * console.log(opts.sendToken);
 * ```
 */
export interface ConnectionOptions {
  /** The operations this end serves to the peer (default: a registry with discovery only). */
  router?: OperationRouter;
  /** The peer's identity as its carrier authenticated it (SSH key, WebSocket bearer token). */
  identity?: Identity | null;
  /** Verifies `auth_token` of incoming requests. */
  authenticate?: Authenticate;
  /** Refuse requests from a peer without identity (FORBIDDEN, then close). Default false. */
  requireAuth?: boolean;
  /** Token sent in `auth_token` of outgoing requests (a function is called for each token sent). */
  authToken?: string | (() => string);
  /** Send the token with the first request only (default) or with each. */
  sendToken?: "first" | "each";
  /** Deadline of calls without `timeoutMs`, both ways (default 30 000 ms). */
  defaultTimeoutMs?: number;
  /**
   * How often deadlines are checked, for calls in flight and for handlers
   * running for the peer (default 50 ms; deadlines fire up to this late).
   */
  sweepIntervalMs?: number;
  /** Items a subscription may hold unread before it fails (default 65 536). */
  maxSubscriptionBuffer?: number;
  /** A name for this connection (peer id), default a UUID. */
  id?: string;
}

type PendingSub = { kind: "sub"; deadline?: number; sub: Subscription };

let portOf: (connection: CallConnection) => RelayConnection;

/**
 * The side of `connection` that relays calls to its peer (internal: a mesh
 * head's forwarding entries use it).
 */
export function relayPortOf(connection: CallConnection): RelayConnection {
  return portOf(connection);
}

/** The deadline a request tells its peer: only one the caller asked for. */
function told(opts: CallOptions, deadline: number | undefined): number | undefined {
  return opts.timeoutMs !== undefined || opts.deadline !== undefined ? deadline : undefined;
}

/** A call in flight: its pending entry, which settles the call's promise and unlinks its abort source. */
class PendingCall {
  readonly kind = "call" as const;
  readonly deadline: number;
  unlink: (() => void) | undefined = undefined;
  readonly #resolve: (v: unknown) => void;
  readonly #reject: (e: unknown) => void;

  constructor(deadline: number, resolve: (v: unknown) => void, reject: (e: unknown) => void) {
    this.deadline = deadline;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  resolve(v: unknown): void {
    this.unlink?.();
    this.#resolve(v);
  }

  reject(e: unknown): void {
    this.unlink?.();
    this.#reject(e);
  }
}

const NO_OPTIONS: CallOptions = Object.freeze({});

/** The abort source of `opts`: its `signal` read as an {@link AbortLink}, else its `abort`. */
function abortOf(opts: CallOptions): AbortLink | undefined {
  const signal = opts.signal;
  if (signal === undefined) return opts.abort;
  return {
    get aborted() {
      return signal.aborted;
    },
    get reason() {
      return signal.reason;
    },
    link(hook) {
      const onAbort = () => hook(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      return () => signal.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * One end of a call-protocol connection.
 *
 * @example
 * ```ts
 * import { CallConnection, memoryTransportPair, OperationRegistry } from "@alknet/call";
 * const server = new OperationRegistry();
 * server.register({ name: "demo/echo", type: "query", handler: (x) => x });
 * const client = new OperationRegistry();
 * client.register({ name: "client/hello", type: "query", handler: () => "hello from the client" });
 * const [a, b] = memoryTransportPair();
 * const serverEnd = new CallConnection(a, { router: server });
 * const clientEnd = new CallConnection(b, { router: client });
 * console.log(await clientEnd.call("demo/echo", { x: 1 }));
 * console.log(await serverEnd.call("client/hello", null)); // the server calls the client
 * await clientEnd.close();
 * ```
 */
export class CallConnection implements Caller {
  /** This connection's id (also the peer id when imported with `fromCall`). */
  readonly id: string;
  #t: EnvelopeTransport;
  #incoming: IncomingCalls;
  #authToken?: string | (() => string);
  #sendEach: boolean;
  #tokenSent = false;
  #defaultTimeout: number;
  #sweepMs: number;
  #maxBuffer: number;
  #pending = new Map<string, PendingCall | RelayedCall | PendingSub>();
  #sweep: ReturnType<typeof setInterval> | undefined;
  #idleSweeps = 0;
  #closed = false;
  #closedPromise: Promise<Error | undefined>;
  #resolveClosed!: (e: Error | undefined) => void;

  static {
    portOf = (c) => ({
      relaySend: (name, input, forwardedFor, call) => c.#relaySend(name, input, forwardedFor, call),
      relayAbandon: (id, call) => c.#relayAbandon(id, call),
    });
  }

  /** Starts serving `transport` at once. */
  constructor(transport: EnvelopeTransport, options: ConnectionOptions = {}) {
    this.id = options.id ?? newCallId();
    this.#t = transport;
    this.#authToken = options.authToken;
    this.#sendEach = options.sendToken === "each";
    this.#defaultTimeout = options.defaultTimeoutMs ?? 30_000;
    this.#sweepMs = options.sweepIntervalMs ?? 50;
    this.#maxBuffer = options.maxSubscriptionBuffer ?? 65_536;
    this.#closedPromise = new Promise((r) => (this.#resolveClosed = r));
    this.#incoming = new IncomingCalls({
      transport,
      router: options.router ?? discoveryRouter(),
      identity: options.identity ?? null,
      authenticate: options.authenticate,
      requireAuth: options.requireAuth ?? false,
      defaultTimeoutMs: this.#defaultTimeout,
      connection: this,
      onDeadline: () => this.#ensureSweep(),
    });
    transport.start({
      message: (e) => this.#onMessage(e),
      close: (err) => this.#onClose(err),
    });
  }

  /** The peer's identity: from the carrier, or from the first valid token it sent. */
  get identity(): Identity | null {
    return this.#incoming.identity;
  }

  /** True once the connection is closed. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Resolves when the connection closes, with the error that closed it, if any. */
  get closed(): Promise<Error | undefined> {
    return this.#closedPromise;
  }

  /** Calls in flight from this end and handlers running for the peer. */
  get stats(): { pending: number; running: number } {
    return { pending: this.#pending.size, running: this.#incoming.size };
  }

  /** Closes the connection: pending calls fail with INTERNAL "connection closed", handlers are aborted. */
  close(): Promise<Error | undefined> {
    this.#t.close();
    return this.#closedPromise;
  }

  /** Sends a request; `timeoutAt` is the deadline the peer is told (as `timeout_ms`), if any. */
  #request(
    name: string,
    input: unknown,
    timeoutAt: number | undefined,
    forwardedFor: string | undefined,
    id: string,
    expect: ExpectedKind,
  ) {
    const payload: RequestedPayload = {
      operationId: name.startsWith("/") ? name : "/" + name,
      input: input === undefined ? null : input,
      expect,
    };
    if (timeoutAt !== undefined) {
      payload.timeout_ms = Math.max(0, Math.ceil(timeoutAt - Date.now()));
    }
    if (forwardedFor !== undefined) payload.forwarded_for = forwardedFor;
    if (this.#authToken !== undefined && (this.#sendEach || !this.#tokenSent)) {
      this.#tokenSent = true;
      payload.auth_token = typeof this.#authToken === "function"
        ? this.#authToken()
        : this.#authToken;
    }
    this.#t.send({ type: "call.requested", id, payload });
  }

  /**
   * Calls a query or mutation on the peer. Resolves with its output; rejects
   * with a {@link CallError} (the peer's `call.error`, `TIMEOUT`,
   * `INVALID_OPERATION_TYPE` for a subscription, or a
   * {@link ConnectionClosedError}), or with the signal's reason when aborted.
   */
  call<O = unknown>(name: string, input: unknown, opts: CallOptions = NO_OPTIONS): Promise<O> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError());
    const link = abortOf(opts);
    if (link?.aborted) return Promise.reject(link.reason);
    const id = newCallId();
    let deadline = Date.now() + (opts.timeoutMs ?? this.#defaultTimeout);
    if (opts.deadline !== undefined) deadline = Math.min(deadline, opts.deadline);
    return new Promise<O>((resolve, reject) => {
      const pending = new PendingCall(deadline, resolve as (v: unknown) => void, reject);
      if (link) {
        pending.unlink = link.link((reason) => {
          if (this.#pending.get(id) !== pending) return;
          this.#pending.delete(id);
          this.#t.send({ type: "call.aborted", id, payload: {} });
          reject(reason);
        });
      }
      this.#pending.set(id, pending);
      this.#ensureSweep();
      try {
        this.#request(name, input, told(opts, deadline), opts.forwardedFor, id, "call");
      } catch (e) {
        this.#pending.delete(id);
        pending.reject(
          new CallError("INVALID_INPUT", `cannot send ${name}: ${(e as Error).message}`),
        );
      }
    });
  }

  #relaySend(
    name: string,
    input: unknown,
    forwardedFor: string | undefined,
    call: RelayedCall,
  ): string {
    if (this.#closed) {
      call.reject(new ConnectionClosedError());
      return "";
    }
    // The caller's id when it is free here (ids are UUIDs: a clash is a
    // caller reusing one), which saves making one per relayed call.
    const id = this.#pending.has(call.id) ? newCallId() : call.id;
    this.#pending.set(id, call);
    this.#ensureSweep();
    try {
      this.#request(name, input, call.deadline, forwardedFor, id, "call");
    } catch (e) {
      this.#pending.delete(id);
      call.reject(new CallError("INVALID_INPUT", `cannot send ${name}: ${(e as Error).message}`));
    }
    return id;
  }

  #relayAbandon(id: string, call: RelayedCall): void {
    if (this.#pending.get(id) !== call) return;
    this.#pending.delete(id);
    this.#t.send({ type: "call.aborted", id, payload: {} });
  }

  /**
   * Subscribes to a subscription operation on the peer. The request is sent
   * at once; items are buffered until read (at most `maxSubscriptionBuffer`,
   * beyond which the subscription fails loudly rather than dropping items).
   * Iterating rejects with `INVALID_OPERATION_TYPE` when the operation is a
   * query or mutation.
   */
  subscribe<O = unknown>(
    name: string,
    input: unknown,
    opts: CallOptions = {},
  ): CallSubscription<O> {
    const id = newCallId();
    const sub = new Subscription(id, this.#maxBuffer, () => {
      if (this.#pending.delete(id)) this.#t.send({ type: "call.aborted", id, payload: {} });
    });
    if (this.#closed) {
      sub.fail(new ConnectionClosedError());
      return sub as unknown as CallSubscription<O>;
    }
    const link = abortOf(opts);
    if (link?.aborted) {
      sub.fail(link.reason);
      return sub as unknown as CallSubscription<O>;
    }
    let deadline: number | undefined;
    if (opts.timeoutMs !== undefined) deadline = Date.now() + opts.timeoutMs;
    if (opts.deadline !== undefined) deadline = Math.min(deadline ?? Infinity, opts.deadline);
    if (link) {
      sub.onEnd = link.link((reason) => {
        if (this.#pending.delete(id)) this.#t.send({ type: "call.aborted", id, payload: {} });
        sub.fail(reason);
      });
    }
    this.#pending.set(id, { kind: "sub", deadline, sub });
    if (deadline !== undefined) this.#ensureSweep();
    try {
      this.#request(name, input, told(opts, deadline), opts.forwardedFor, id, "subscription");
    } catch (e) {
      this.#pending.delete(id);
      sub.fail(new CallError("INVALID_INPUT", `cannot send ${name}: ${(e as Error).message}`));
    }
    return sub as unknown as CallSubscription<O>;
  }

  #ensureSweep(): void {
    if (this.#sweep !== undefined || this.#closed) return;
    this.#sweep = setInterval(() => this.#sweepPending(), this.#sweepMs);
  }

  #sweepPending(): void {
    if (this.#pending.size === 0 && this.#incoming.size === 0) {
      // Idle: stop after a while (restarted by the next call).
      if (++this.#idleSweeps >= 20) {
        clearInterval(this.#sweep);
        this.#sweep = undefined;
        this.#idleSweeps = 0;
      }
      return;
    }
    this.#idleSweeps = 0;
    const now = Date.now();
    this.#incoming.sweep(now);
    // Calls in flight: the peer answers TIMEOUT itself at the deadline; give it
    // two sweeps of grace before answering locally (a silent or stuck peer).
    const grace = 2 * this.#sweepMs;
    for (const [id, p] of this.#pending) {
      if (p.deadline === undefined || p.deadline + grace > now) continue;
      this.#pending.delete(id);
      this.#t.send({ type: "call.aborted", id, payload: {} });
      const err = new CallError("TIMEOUT", "the call did not finish before its deadline");
      if (p.kind === "call") p.reject(err);
      else p.sub.fail(err);
    }
  }

  #onMessage(env: Envelope): void {
    switch (env.type) {
      case "call.requested":
        this.#incoming.request(env.id, env.payload);
        return;
      case "call.aborted":
        this.#incoming.abort(env.id);
        return;
      case "call.responded": {
        const p = this.#pending.get(env.id);
        if (!p) return;
        if (p.kind === "call") {
          this.#pending.delete(env.id);
          p.resolve(env.payload.output);
        } else p.sub.push(env.payload.output);
        return;
      }
      case "call.completed": {
        const p = this.#pending.get(env.id);
        if (!p) return;
        this.#pending.delete(env.id);
        if (p.kind === "call") {
          p.reject(new CallError("INTERNAL", "the peer completed the call without a response"));
        } else p.sub.complete();
        return;
      }
      case "call.error": {
        const p = this.#pending.get(env.id);
        if (!p) return;
        this.#pending.delete(env.id);
        const { code, message, retryable, details } = env.payload;
        const err = new CallError(code, message, { retryable, details });
        if (p.kind === "call") p.reject(err);
        else p.sub.fail(err);
        return;
      }
    }
  }

  #onClose(err: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweep = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      if (p.kind === "call") p.reject(new ConnectionClosedError());
      else p.sub.fail(new ConnectionClosedError());
    }
    this.#incoming.close(new ConnectionClosedError());
    this.#resolveClosed(err);
  }
}
