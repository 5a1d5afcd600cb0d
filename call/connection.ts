/**
 * A call-protocol connection: the same dispatcher on both ends of any
 * envelope transport. Either side calls the other; requests run
 * concurrently; outgoing calls wait in a pending map swept for deadlines;
 * subscriptions stream with backpressure; aborts and connection loss are
 * propagated.
 *
 * @module
 */

import type { Identity } from "./access.ts";
import { CallError } from "./errors.ts";
import { deadlineError, startOperation } from "./dispatch.ts";
import { OperationRegistry, type OperationRouter } from "./registry.ts";
import type { EnvelopeTransport } from "./transport.ts";
import { type Envelope, newCallId, type RequestedPayload } from "./wire.ts";

/**
 * Verifies a token (DESIGN 4.5) and returns who it stands for, or null.
 *
 * @example
 * ```ts
 * import type { Authenticate } from "./connection.ts";
 * const authenticate: Authenticate = (token) =>
 *   token === "secret" ? { id: "me", scopes: ["relay:connect"], resources: {} } : null;
 * ```
 */
export type Authenticate = (token: string) => Identity | null | Promise<Identity | null>;

/**
 * Options of {@link CallConnection}.
 *
 * @example
 * ```ts
 * import type { ConnectionOptions } from "./connection.ts";
 * const opts: ConnectionOptions = { authToken: () => "fresh-token", sendToken: "each", defaultTimeoutMs: 10_000 };
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

/**
 * Options of {@link CallConnection.call} and {@link CallConnection.subscribe}.
 *
 * @example
 * ```ts
 * import type { CallOptions } from "./connection.ts";
 * const opts: CallOptions = { timeoutMs: 2_000, signal: AbortSignal.timeout(5_000) };
 * ```
 */
export interface CallOptions {
  /** Aborting sends `call.aborted` and rejects with the signal's reason. */
  signal?: AbortSignal;
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
 * import { CallConnection, type CallSubscription, memoryTransportPair, OperationRegistry } from "./mod.ts";
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

type PendingCall = {
  kind: "call";
  deadline: number;
  resolve(v: unknown): void;
  reject(e: unknown): void;
};
type PendingSub = { kind: "sub"; deadline?: number; sub: Subscription };
type Running = { controller: AbortController; name: string; deadline?: number };

const SUB_HIGH_WATER = 1024 * 1024;

function connectionClosed(): CallError {
  return new CallError("INTERNAL", "connection closed");
}

function toCallError(e: unknown): CallError {
  if (e instanceof CallError) return e;
  return new CallError("INTERNAL", "internal error");
}

/**
 * One end of a call-protocol connection.
 *
 * @example
 * ```ts
 * import { CallConnection, memoryTransportPair, OperationRegistry } from "./mod.ts";
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
export class CallConnection {
  /** This connection's id (also the peer id when imported with `fromCall`). */
  readonly id: string;
  #t: EnvelopeTransport;
  #router: OperationRouter;
  #identity: Identity | null;
  #authenticate?: Authenticate;
  #requireAuth: boolean;
  #authToken?: string | (() => string);
  #sendEach: boolean;
  #tokenSent = false;
  #defaultTimeout: number;
  #sweepMs: number;
  #maxBuffer: number;
  #pending = new Map<string, PendingCall | PendingSub>();
  #running = new Map<string, Running>();
  #sweep: ReturnType<typeof setInterval> | undefined;
  #idleSweeps = 0;
  #closed = false;
  #closeError: Error | undefined;
  #closedPromise: Promise<Error | undefined>;
  #resolveClosed!: (e: Error | undefined) => void;
  #authGate: Promise<void> | null = null;
  #tokenCache: { token: string; identity: Identity; at: number } | null = null;

  /** Starts serving `transport` at once. */
  constructor(transport: EnvelopeTransport, options: ConnectionOptions = {}) {
    this.id = options.id ?? newCallId();
    this.#t = transport;
    this.#router = options.router ?? new OperationRegistry();
    this.#identity = options.identity ?? null;
    this.#authenticate = options.authenticate;
    this.#requireAuth = options.requireAuth ?? false;
    this.#authToken = options.authToken;
    this.#sendEach = options.sendToken === "each";
    this.#defaultTimeout = options.defaultTimeoutMs ?? 30_000;
    this.#sweepMs = options.sweepIntervalMs ?? 50;
    this.#maxBuffer = options.maxSubscriptionBuffer ?? 65_536;
    this.#closedPromise = new Promise((r) => (this.#resolveClosed = r));
    transport.start({
      message: (e) => this.#onMessage(e),
      close: (err) => this.#onClose(err),
    });
  }

  /** The peer's identity: from the carrier, or from the first valid token it sent. */
  get identity(): Identity | null {
    return this.#identity;
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
    return { pending: this.#pending.size, running: this.#running.size };
  }

  /** Closes the connection: pending calls fail with INTERNAL "connection closed", handlers are aborted. */
  close(): Promise<Error | undefined> {
    this.#t.close();
    return this.#closedPromise;
  }

  #request(
    name: string,
    input: unknown,
    opts: CallOptions,
    deadline: number | undefined,
    id: string,
  ) {
    const payload: RequestedPayload = {
      operationId: name.startsWith("/") ? name : "/" + name,
      input: input === undefined ? null : input,
    };
    if (deadline !== undefined && (opts.timeoutMs !== undefined || opts.deadline !== undefined)) {
      payload.timeout_ms = Math.max(0, Math.ceil(deadline - Date.now()));
    }
    if (opts.forwardedFor !== undefined) payload.forwarded_for = opts.forwardedFor;
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
   * with a {@link CallError} (the peer's `call.error`, `TIMEOUT`, or INTERNAL
   * "connection closed"), or with the signal's reason when aborted.
   */
  call<O = unknown>(name: string, input: unknown, opts: CallOptions = {}): Promise<O> {
    if (this.#closed) return Promise.reject(connectionClosed());
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = newCallId();
    let deadline = Date.now() + (opts.timeoutMs ?? this.#defaultTimeout);
    if (opts.deadline !== undefined) deadline = Math.min(deadline, opts.deadline);
    return new Promise<O>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const pending: PendingCall = {
        kind: "call",
        deadline,
        resolve: (v) => {
          if (onAbort) signal!.removeEventListener("abort", onAbort);
          resolve(v as O);
        },
        reject: (e) => {
          if (onAbort) signal!.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      if (signal) {
        onAbort = () => {
          if (this.#pending.get(id) !== pending) return;
          this.#pending.delete(id);
          this.#t.send({ type: "call.aborted", id, payload: {} });
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
      this.#pending.set(id, pending);
      this.#ensureSweep();
      try {
        this.#request(name, input, opts, deadline, id);
      } catch (e) {
        this.#pending.delete(id);
        pending.reject(
          new CallError("INVALID_INPUT", `cannot send ${name}: ${(e as Error).message}`),
        );
      }
    });
  }

  /**
   * Subscribes to a subscription operation on the peer. The request is sent
   * at once; items are buffered until read (at most `maxSubscriptionBuffer`,
   * beyond which the subscription fails loudly rather than dropping items).
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
      sub.fail(connectionClosed());
      return sub as unknown as CallSubscription<O>;
    }
    const signal = opts.signal;
    if (signal?.aborted) {
      sub.fail(signal.reason);
      return sub as unknown as CallSubscription<O>;
    }
    let deadline: number | undefined;
    if (opts.timeoutMs !== undefined) deadline = Date.now() + opts.timeoutMs;
    if (opts.deadline !== undefined) deadline = Math.min(deadline ?? Infinity, opts.deadline);
    if (signal) {
      const onAbort = () => {
        if (this.#pending.delete(id)) this.#t.send({ type: "call.aborted", id, payload: {} });
        sub.fail(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      sub.onEnd = () => signal.removeEventListener("abort", onAbort);
    }
    this.#pending.set(id, { kind: "sub", deadline, sub });
    if (deadline !== undefined) this.#ensureSweep();
    try {
      this.#request(name, input, opts, deadline, id);
    } catch (e) {
      this.#pending.delete(id);
      sub.fail(new CallError("INVALID_INPUT", `cannot send ${name}: ${(e as Error).message}`));
    }
    return sub as unknown as CallSubscription<O>;
  }

  #ensureSweep(): void {
    if (this.#sweep !== undefined || this.#closed) return;
    const sweep = setInterval(() => this.#sweepPending(), this.#sweepMs);
    this.#sweep = sweep;
  }

  #sweepPending(): void {
    if (this.#pending.size === 0 && this.#running.size === 0) {
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
    // Handlers running for the peer: a passed deadline aborts them with TIMEOUT,
    // which their dispatch turns into the TIMEOUT answer.
    for (const r of this.#running.values()) {
      if (r.deadline === undefined || r.deadline > now) continue;
      r.deadline = undefined;
      r.controller.abort(deadlineError(r.name));
    }
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
        this.#onRequest(env.id, env.payload);
        return;
      case "call.aborted": {
        const r = this.#running.get(env.id);
        if (r) {
          this.#running.delete(env.id);
          r.controller.abort(new DOMException("call aborted by the caller", "AbortError"));
        }
        return;
      }
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

  #onRequest(id: string, payload: RequestedPayload): void {
    if (this.#running.has(id)) return; // a duplicate id from a confused peer: ignore it
    const token = payload.auth_token;
    if (token !== undefined && this.#authenticate) {
      const c = this.#tokenCache;
      if (c && c.token === token && Date.now() - c.at < 60_000) {
        this.#dispatch(id, payload, c.identity);
        return;
      }
      const auth = this.#authenticate;
      const gate = Promise.resolve()
        .then(() => auth(token))
        .catch(() => null)
        .then((identity) => {
          if (identity) {
            this.#tokenCache = { token, identity, at: Date.now() };
            if (this.#identity === null) this.#identity = identity;
          }
          return identity;
        });
      const myGate = gate.then(() => {});
      this.#authGate = myGate;
      void gate.then((identity) => {
        if (this.#authGate === myGate) this.#authGate = null;
        if (this.#closed) return;
        if (identity) this.#dispatch(id, payload, identity);
        else this.#authFailed(id, "invalid or expired token");
      });
      return;
    }
    if (this.#identity === null && this.#authGate !== null) {
      void this.#authGate.then(() => this.#untokened(id, payload));
      return;
    }
    this.#untokened(id, payload);
  }

  #untokened(id: string, payload: RequestedPayload): void {
    if (this.#closed) return;
    if (this.#identity === null && this.#requireAuth) {
      this.#authFailed(id, "authentication required");
      return;
    }
    this.#dispatch(id, payload, this.#identity);
  }

  #authFailed(id: string, reason: string): void {
    this.#t.send({
      type: "call.error",
      id,
      payload: {
        code: "FORBIDDEN",
        message: `authentication failed: ${reason}`,
        retryable: false,
        details: { authentication: "failed" },
      },
    });
    if (this.#identity === null) this.#t.close();
  }

  /** Sends one output; answers INTERNAL instead when it cannot be encoded (then false). */
  #respond(id: string, output: unknown): boolean {
    try {
      this.#t.send({ type: "call.responded", id, payload: { output } });
      return true;
    } catch (e) {
      this.#t.send({
        type: "call.error",
        id,
        payload: {
          code: "INTERNAL",
          message: `the output cannot be sent: ${(e as Error).message}`,
          retryable: false,
        },
      });
      return false;
    }
  }

  #sendError(id: string, e: unknown): void {
    const err = toCallError(e);
    try {
      this.#t.send({ type: "call.error", id, payload: err.toPayload() });
    } catch {
      // details that cannot be encoded: send the error without them
      this.#t.send({
        type: "call.error",
        id,
        payload: { code: err.code, message: err.message, retryable: err.retryable },
      });
    }
  }

  #dispatch(id: string, payload: RequestedPayload, identity: Identity | null): void {
    let name = payload.operationId;
    if (name.startsWith("/")) name = name.slice(1);
    const controller = new AbortController();
    const running: Running = { controller, name };
    this.#running.set(id, running);
    let started;
    try {
      started = startOperation({
        router: this.#router,
        name,
        input: payload.input,
        requestId: id,
        identity,
        principal: identity,
        fromWire: true,
        forwardedFor: payload.forwarded_for,
        controller,
        timeoutMs: payload.timeout_ms,
        defaultTimeoutMs: this.#defaultTimeout,
        connection: this,
        deadlineTimer: false,
      });
    } catch (e) {
      this.#running.delete(id);
      this.#sendError(id, e);
      return;
    }
    if (started.deadline !== undefined) {
      running.deadline = started.deadline;
      this.#ensureSweep();
    }
    if (started.kind === "call") {
      started.result.then(
        (output) => {
          if (this.#running.get(id) !== running) return;
          this.#running.delete(id);
          this.#respond(id, output);
        },
        (err) => {
          if (this.#running.get(id) !== running) return;
          this.#running.delete(id);
          this.#sendError(id, err);
        },
      );
    } else {
      void this.#pump(id, running, started.items);
    }
  }

  async #pump(id: string, running: Running, items: AsyncIterator<unknown>): Promise<void> {
    try {
      for (;;) {
        const r = await items.next();
        if (this.#running.get(id) !== running) {
          await items.return?.();
          return;
        }
        if (r.done) break;
        if (!this.#respond(id, r.value === undefined ? null : r.value)) {
          this.#running.delete(id);
          running.controller.abort(new CallError("INTERNAL", "an item could not be sent"));
          await items.return?.();
          return;
        }
        if (this.#t.bufferedAmount > SUB_HIGH_WATER) await this.#t.drained();
      }
      if (this.#running.get(id) !== running) return;
      this.#running.delete(id);
      this.#t.send({ type: "call.completed", id, payload: {} });
    } catch (e) {
      if (this.#running.get(id) !== running) return;
      this.#running.delete(id);
      this.#sendError(id, e);
    }
  }

  #onClose(err: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = err;
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweep = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      if (p.kind === "call") p.reject(connectionClosed());
      else p.sub.fail(connectionClosed());
    }
    const running = [...this.#running.values()];
    this.#running.clear();
    for (const r of running) r.controller.abort(connectionClosed());
    this.#resolveClosed(err);
  }
}

/** Client-side state of one subscription: a bounded queue read by one consumer. */
class Subscription implements CallSubscription<unknown>, AsyncIterator<unknown> {
  readonly id: string;
  onEnd: (() => void) | undefined;
  #items: unknown[] = [];
  #head = 0;
  #waiter: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: unknown) => void } | null =
    null;
  #done = false;
  #error: unknown = undefined;
  #failed = false;
  #max: number;
  #cancelUpstream: () => void;

  constructor(id: string, max: number, cancelUpstream: () => void) {
    this.id = id;
    this.#max = max;
    this.#cancelUpstream = cancelUpstream;
  }

  push(item: unknown): void {
    if (this.#done) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      w.resolve({ value: item, done: false });
      return;
    }
    if (this.#items.length - this.#head >= this.#max) {
      this.#cancelUpstream();
      this.fail(
        new CallError(
          "INTERNAL",
          `subscription buffer overflow: more than ${this.#max} unread items`,
          {
            details: { reason: "consumer too slow" },
          },
        ),
      );
      return;
    }
    this.#items.push(item);
  }

  complete(): void {
    if (this.#done) return;
    this.#done = true;
    this.onEnd?.();
    if (this.#waiter && this.#head >= this.#items.length) {
      const w = this.#waiter;
      this.#waiter = null;
      w.resolve({ value: undefined, done: true });
    }
  }

  fail(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#failed = true;
    this.#error = error;
    this.onEnd?.();
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      w.reject(error);
    }
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.#head < this.#items.length && !this.#failed) {
      const value = this.#items[this.#head];
      this.#items[this.#head++] = undefined;
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#failed) {
      this.#items = [];
      this.#head = 0;
      return Promise.reject(this.#error);
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<unknown>> {
    this.cancel();
    return Promise.resolve({ value: undefined, done: true });
  }

  cancel(): void {
    if (this.#done) return;
    this.#cancelUpstream();
    this.#done = true;
    this.#items = [];
    this.#head = 0;
    this.onEnd?.();
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      w.resolve({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this;
  }
}
