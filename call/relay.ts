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

import type { Principal } from "./access.ts";
import { checkEntry, emitStep, mapRunError } from "./checks.ts";
import { CallError, ConnectionClosedError } from "./errors.ts";
import type { ExpectedKind } from "./request.ts";
import type { CallObserver, OperationEntry } from "./router.ts";

/** Where a relayed call goes: a connection's side of {@link RelayLink}. */
export interface RelayConnection {
  /**
   * Sends `call` as a request for `name` (its id when free on this
   * connection, else a new one) and keeps it pending; returns the id used.
   */
  relaySend(name: string, call: RelayedCall): string;
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

/** The fields of a request a relay needs. */
export interface RelayRequest {
  id: string;
  name: string;
  input: unknown;
  expect: ExpectedKind | undefined;
  principal: Principal | null;
  forwardedFor: string | undefined;
  timeoutMs: number | undefined;
  defaultTimeoutMs: number;
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
  /** Input, until sent. */
  input: unknown;
  /** `forwarded_for` of the request to the peer. */
  readonly forwardedFor: string | undefined;
  #peerId = "";
  #done = false;
  readonly #server: RelayServer;
  readonly #entry: OperationEntry;
  readonly #link: RelayLink;
  readonly #observer: CallObserver | undefined;

  constructor(
    server: RelayServer,
    req: RelayRequest,
    entry: OperationEntry,
    link: RelayLink,
    observer: CallObserver | undefined,
    deadline: number,
  ) {
    this.#server = server;
    this.id = req.id;
    this.name = req.name;
    this.input = req.input;
    this.forwardedFor = req.forwardedFor;
    this.deadline = deadline;
    this.#entry = entry;
    this.#link = link;
    this.#observer = observer;
  }

  /** Sends the request on the peer's connection. */
  start(): void {
    this.#peerId = this.#link.connection.relaySend(this.#link.name, this);
    this.input = undefined;
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
 * Starts relaying `req` to `link` for `server`: the deadline, and the
 * checks and events the dispatcher makes. Returns the call, which the
 * caller's side keeps and then sends with {@link RelayedCall.start}, or
 * throws the {@link CallError} of a failed check (reported to the observer
 * as failed).
 */
export function startRelay(
  server: RelayServer,
  req: RelayRequest,
  entry: OperationEntry,
  link: RelayLink,
  observer: CallObserver | undefined,
): RelayedCall {
  const now = Date.now();
  const def = req.defaultTimeoutMs;
  const deadline = now + (req.timeoutMs === undefined ? def : Math.min(req.timeoutMs, def));
  const call = new RelayedCall(server, req, entry, link, observer, deadline);
  if (observer !== undefined) {
    emitStep(observer, "requested", req.id, req.name, now, undefined, undefined, call);
  }
  try {
    checkEntry(entry, req.name, true, req.expect, req.principal);
  } catch (e) {
    if (observer !== undefined) {
      emitStep(observer, "failed", req.id, req.name, now, undefined, e, call);
    }
    throw e;
  }
  if (observer !== undefined) {
    emitStep(observer, "running", req.id, req.name, now, undefined, undefined, call);
  }
  return call;
}
