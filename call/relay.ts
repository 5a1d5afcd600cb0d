/**
 * Relaying a call to a peer without dispatching it: how a mesh head
 * serves `NAME/op` from the wire. The request is checked (visibility, kind,
 * access) and reported to the router's observer as the dispatcher would,
 * then sent on the worker's connection as one `call.requested`; the
 * worker's answer goes back to the caller from the worker connection's
 * read, with no handler context, promise or abort link per call. Deadlines
 * come from the caller's connection sweep, aborts from the caller's
 * `call.aborted` or its connection closing; each sends `call.aborted` to
 * the worker. Internal (not exported by `@alknet/call`).
 *
 * @module
 */

import type { Identity } from "./access.ts";
import { checkEntry, emitStep, mapRunError } from "./checks.ts";
import { CallError, ConnectionClosedError } from "./errors.ts";
import { deadlineError } from "./request.ts";
import type { CallObserver, OperationEntry } from "./router.ts";
import type { RequestedPayload } from "./wire.ts";

/** Where a relayed call goes: a connection's side of {@link RelayLink}. */
export interface RelayConnection {
  /**
   * Sends `call` as a request for `name` with `input` and `forwarded_for`
   * (its id when free on this connection, else a new one) and keeps it
   * pending; returns the id used.
   */
  relaySend(
    name: string,
    input: unknown,
    forwardedFor: string | undefined,
    call: RelayedCall,
  ): string;
  /** Drops pending call `id` (when it is still `call`) and sends `call.aborted`. */
  relayAbandon(id: string, call: RelayedCall): void;
}

/** A forwarding entry's peer: the connection, the name there, and what its loss is told as. */
export interface RelayLink {
  readonly connection: RelayConnection;
  readonly name: string;
  lostError(cause: ConnectionClosedError): CallError;
}

const links = new WeakMap<OperationEntry, RelayLink>();

/**
 * Marks `entry` as relayed to `link`. Kept by identity: an entry made by
 * spreading this one (say an `any/` route) is not relayed.
 */
export function setRelayLink(entry: OperationEntry, link: RelayLink): void {
  links.set(entry, link);
}

/** The link `entry` is relayed to, if it is. */
export function relayLinkOf(entry: OperationEntry): RelayLink | undefined {
  return links.get(entry);
}

/** What a relayed call reports to: the caller's side (`IncomingCalls`). */
export interface RelayServer {
  /** Answers `call`'s output if it is still served. */
  answer(call: RelayedCall, output: unknown): void;
  /** Answers `call`'s error if it is still served. */
  answerError(call: RelayedCall, error: unknown): void;
}

/**
 * One call relayed to a peer: served for the caller (aborted, swept for
 * its deadline) and pending on the peer's connection (answered, failed, or
 * lost), told once either way.
 */
export class RelayedCall {
  readonly kind = "call" as const;
  readonly id: string;
  readonly name: string;
  /** The deadline, epoch ms (read by both connections' sweeps; cleared by the caller's once passed). */
  deadline: number | undefined;
  #peerId = "";
  #done = false;
  readonly #server: RelayServer;
  readonly #entry: OperationEntry;
  readonly #link: RelayLink;
  readonly #observer: CallObserver | undefined;

  constructor(
    server: RelayServer,
    id: string,
    name: string,
    entry: OperationEntry,
    link: RelayLink,
    observer: CallObserver | undefined,
    deadline: number,
  ) {
    this.#server = server;
    this.id = id;
    this.name = name;
    this.deadline = deadline;
    this.#entry = entry;
    this.#link = link;
    this.#observer = observer;
  }

  /** Sends the request on the peer's connection. */
  start(input: unknown, forwardedFor: string | undefined): void {
    this.#peerId = this.#link.connection.relaySend(this.#link.name, input, forwardedFor, this);
  }

  #end(type: "completed" | "failed" | "aborted", err?: unknown): boolean {
    if (this.#done) return false;
    this.#done = true;
    const o = this.#observer;
    if (o !== undefined) emitStep(o, type, this.id, this.name, Date.now(), undefined, err, this);
    return true;
  }

  /** The peer answered (its connection's read). */
  resolve(output: unknown): void {
    if (this.#end("completed")) this.#server.answer(this, output);
  }

  /** The peer answered an error, or its connection closed (its connection). */
  reject(e: unknown): void {
    const err = e instanceof ConnectionClosedError
      ? this.#link.lostError(e)
      : mapRunError(this.#entry, e);
    if (this.#end("failed", err)) this.#server.answerError(this, err);
  }

  /** The caller aborted, its deadline passed, or its connection closed (the caller's side). */
  abort(reason: unknown): void {
    if (!this.#end(reason instanceof CallError ? "failed" : "aborted", reason)) return;
    this.#link.connection.relayAbandon(this.#peerId, this);
    this.#server.answerError(this, reason);
  }
}

/**
 * Starts relaying request `id` for `name` from `identity` to `link` for
 * `server`: the deadline, and the checks and events the dispatcher makes
 * (a deadline already passed fails as `TIMEOUT`, as it does there).
 * Returns the call, which the caller's side keeps and then sends with
 * {@link RelayedCall.start}, or throws the {@link CallError} of a failed
 * check (reported to the observer as failed).
 */
export function startRelay(
  server: RelayServer,
  entry: OperationEntry,
  link: RelayLink,
  observer: CallObserver | undefined,
  id: string,
  name: string,
  payload: RequestedPayload,
  identity: Identity | null,
  defaultTimeoutMs: number,
): RelayedCall {
  const now = Date.now();
  const t = payload.timeout_ms;
  const ms = t === undefined ? defaultTimeoutMs : Math.min(t, defaultTimeoutMs);
  const call = new RelayedCall(server, id, name, entry, link, observer, now + ms);
  if (observer !== undefined) {
    emitStep(observer, "requested", id, name, now, undefined, undefined, call);
  }
  try {
    checkEntry(entry, name, true, payload.expect, identity);
  } catch (e) {
    if (observer !== undefined) emitStep(observer, "failed", id, name, now, undefined, e, call);
    throw e;
  }
  if (observer !== undefined) {
    emitStep(observer, "running", id, name, now, undefined, undefined, call);
  }
  if (ms <= 0) {
    const e = deadlineError(name);
    if (observer !== undefined) emitStep(observer, "failed", id, name, now, undefined, e, call);
    throw e;
  }
  return call;
}
