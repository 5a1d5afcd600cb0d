/**
 * The serving side of a connection: requests from the peer are
 * authenticated (the carrier's identity, or a token in `auth_token`,
 * checked once and cached), dispatched concurrently, answered, streamed
 * with backpressure, aborted on `call.aborted`, and swept for deadlines.
 *
 * @module
 */

import type { Identity } from "./access.ts";
import type { Caller } from "./caller.ts";
import { dispatchCall } from "./dispatch.ts";
import { CallError } from "./errors.ts";
import { CallControl, type CallSink, deadlineError, type DispatchRequest } from "./request.ts";
import { type RelayedCall, type RelayLink, relayLinkOf, startRelay } from "./relay.ts";
import type { OperationEntry, OperationRouter } from "./router.ts";
import type { EnvelopeTransport } from "./transport.ts";
import type { RequestedPayload } from "./wire.ts";

/**
 * Verifies a token or API key and returns who it stands for, or null.
 *
 * @example
 * ```ts
 * import type { Authenticate } from "@alknet/call";
 * const authenticate: Authenticate = (token) =>
 *   token === "secret" ? { id: "me", scopes: ["relay:connect"], resources: {} } : null;
 * console.log(authenticate("secret"));
 * ```
 */
export type Authenticate = (token: string) => Identity | null | Promise<Identity | null>;

/** What {@link IncomingCalls} needs from its connection. */
export interface IncomingOptions {
  transport: EnvelopeTransport;
  router: OperationRouter;
  identity: Identity | null;
  authenticate?: Authenticate;
  requireAuth: boolean;
  defaultTimeoutMs: number;
  /** The connection, handed to handlers as `ctx.connection`. */
  connection: Caller;
  /** Called when a running call got a deadline (the connection sweeps for it). */
  onDeadline: () => void;
}

/**
 * One request being served: its abort state, and where the dispatcher
 * reports a query's outcome (answered unless the call stopped being
 * served: aborted by the peer, or the connection closed).
 */
class Running extends CallControl implements CallSink {
  deadline: number | undefined = undefined;
  readonly id: string;
  readonly name: string;
  readonly #calls: IncomingCalls;

  constructor(calls: IncomingCalls, id: string, name: string) {
    super();
    this.#calls = calls;
    this.id = id;
    this.name = name;
  }

  resolve(value: unknown): void {
    this.#calls.answer(this, value);
  }

  reject(error: unknown): void {
    this.#calls.answerError(this, error);
  }
}

const SUB_HIGH_WATER = 1024 * 1024;
/** How long a verified token stays cached (it is valid for ±300 s anyway). */
const TOKEN_CACHE_MS = 60_000;

function toCallError(e: unknown): CallError {
  if (e instanceof CallError) return e;
  return new CallError("INTERNAL", "internal error");
}

/** Requests the peer sent: authentication, dispatch, answers and aborts. */
export class IncomingCalls {
  #t: EnvelopeTransport;
  #router: OperationRouter;
  #identity: Identity | null;
  #authenticate?: Authenticate;
  #requireAuth: boolean;
  #defaultTimeout: number;
  #connection: Caller;
  #onDeadline: () => void;
  #running = new Map<string, Running | RelayedCall>();
  #authGate: Promise<void> | null = null;
  #tokenCache: { token: string; identity: Identity; at: number } | null = null;
  #closed = false;

  constructor(options: IncomingOptions) {
    this.#t = options.transport;
    this.#router = options.router;
    this.#identity = options.identity;
    this.#authenticate = options.authenticate;
    this.#requireAuth = options.requireAuth;
    this.#defaultTimeout = options.defaultTimeoutMs;
    this.#connection = options.connection;
    this.#onDeadline = options.onDeadline;
  }

  /** The peer's identity: from the carrier, or from the first valid token it sent. */
  get identity(): Identity | null {
    return this.#identity;
  }

  /** Handlers running for the peer. */
  get size(): number {
    return this.#running.size;
  }

  /** A `call.requested` arrived. */
  request(id: string, payload: RequestedPayload): void {
    if (this.#running.has(id)) return; // a duplicate id from a confused peer: ignore it
    const token = payload.auth_token;
    if (token !== undefined && this.#authenticate) {
      const c = this.#tokenCache;
      if (c && c.token === token && Date.now() - c.at < TOKEN_CACHE_MS) {
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

  /** A `call.aborted` arrived: abort that handler (unknown ids are ignored). */
  abort(id: string): void {
    const r = this.#running.get(id);
    if (!r) return;
    this.#running.delete(id);
    r.abort(new DOMException("call aborted by the caller", "AbortError"));
  }

  /** Aborts handlers whose deadline passed (their dispatch answers TIMEOUT). */
  sweep(now: number): void {
    const due: (Running | RelayedCall)[] = [];
    for (const r of this.#running.values()) {
      if (r.deadline === undefined || r.deadline > now) continue;
      r.deadline = undefined;
      due.push(r);
    }
    for (const r of due) r.abort(deadlineError(r.name));
  }

  /** The connection closed: abort every handler with `reason`. */
  close(reason: unknown): void {
    this.#closed = true;
    const running = [...this.#running.values()];
    this.#running.clear();
    for (const r of running) r.abort(reason);
  }

  /** A query's output: answered if `r` is still served. */
  answer(r: Running | RelayedCall, output: unknown): void {
    if (this.#running.get(r.id) !== r) return;
    this.#running.delete(r.id);
    this.#respond(r.id, output);
  }

  /** A query's error (or abort reason): answered if `r` is still served. */
  answerError(r: Running | RelayedCall, error: unknown): void {
    if (this.#running.get(r.id) !== r) return;
    this.#running.delete(r.id);
    this.#sendError(r.id, error);
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
    if (name.charCodeAt(0) === 47) name = name.slice(1); // "/"
    const entry = this.#router.lookup(name);
    // Only a peer's entries can be relayed (a local one has no peer).
    const link = entry?.peer === undefined ? undefined : relayLinkOf(entry);
    if (link !== undefined) {
      this.#relay(id, name, payload, identity, entry!, link);
      return;
    }
    const running = new Running(this, id, name);
    this.#running.set(id, running);
    const req: DispatchRequest = {
      router: this.#router,
      entry,
      name,
      input: payload.input,
      requestId: id,
      identity,
      principal: identity,
      fromWire: true,
      forwardedFor: payload.forwarded_for,
      controller: running,
      timeoutMs: payload.timeout_ms,
      defaultTimeoutMs: this.#defaultTimeout,
      connection: this.#connection,
      expect: payload.expect,
      deadlineTimer: false,
    };
    let items;
    try {
      items = dispatchCall(req, running);
    } catch (e) {
      this.#running.delete(id);
      this.#sendError(id, e);
      return;
    }
    // A query may have been answered already (a handler that returned a value).
    if (running.deadline !== undefined && this.#running.get(id) === running) this.#onDeadline();
    if (items !== undefined) void this.#pump(id, running, items);
  }

  /** A call the router relays to a peer as it is (a mesh head's worker operation). */
  #relay(
    id: string,
    name: string,
    payload: RequestedPayload,
    identity: Identity | null,
    entry: OperationEntry,
    link: RelayLink,
  ): void {
    let call: RelayedCall;
    try {
      const observer = this.#router.observer;
      call = startRelay(
        this,
        entry,
        link,
        observer,
        id,
        name,
        payload,
        identity,
        this.#defaultTimeout,
      );
    } catch (e) {
      this.#sendError(id, e);
      return;
    }
    this.#running.set(id, call);
    call.start(payload.input, payload.forwarded_for ?? identity?.id);
    if (this.#running.get(id) === call) this.#onDeadline();
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
          running.abort(new CallError("INTERNAL", "an item could not be sent"));
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
}
