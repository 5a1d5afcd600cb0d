/**
 * The one error base class of `@alknet/call`, {@link CallError}, with a
 * `code`: the protocol's own codes (`NOT_FOUND`, `TIMEOUT`, ...), codes an
 * operation declares (`OUT_OF_STOCK`), and the local codes of the errors
 * that never travel on the wire: framing ({@link ProtocolError}),
 * registration ({@link RegistrationError}), peer import
 * ({@link SamePeerCollisionError}) and connecting ({@link ConnectError}).
 * Code branches on `code` or `instanceof`, never on message text.
 *
 * @module
 */

/**
 * The protocol's own error codes. `TIMEOUT` is the only retryable one;
 * unknown codes from a peer are treated as `INTERNAL`.
 *
 * @example
 * ```ts
 * import type { ProtocolErrorCode } from "@alknet/call";
 * const code: ProtocolErrorCode = "INVALID_OPERATION_TYPE";
 * console.log(code);
 * ```
 */
export type ProtocolErrorCode =
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "INVALID_INPUT"
  | "INVALID_OPERATION_TYPE"
  | "INTERNAL"
  | "TIMEOUT";

/**
 * Why {@link connectCall} failed:
 *
 * - `invalid-target`: the URL is malformed, or its scheme is not one of
 *   ssh, tcp, tls, quic, ws, wss, iroh
 * - `options`: an option is missing, malformed or does not fit the scheme
 *   (the message names it)
 * - `pin-mismatch`: the TLS certificate (`tlsFingerprint`) or the SSH host
 *   key (`hostKeyFingerprint`) is not the pinned one
 * - `host-key`: the SSH host key is not trusted by `knownHosts` (changed,
 *   revoked, unreadable file)
 * - `unauthorized`: the node refused the credentials (HTTP 401 on the
 *   WebSocket, the SSH login)
 * - `transport`: anything else on the way: refused, unreachable, timed
 *   out, the proxy, the TLS or SSH handshake (an untrusted certificate
 *   included), a channel the node refused
 *
 * @example
 * ```ts
 * import type { ConnectErrorCode } from "@alknet/call";
 * const code: ConnectErrorCode = "pin-mismatch";
 * console.log(code);
 * ```
 */
export type ConnectErrorCode =
  | "invalid-target"
  | "options"
  | "pin-mismatch"
  | "host-key"
  | "unauthorized"
  | "transport";

/**
 * Codes of the errors that stay local (never sent on the wire): `protocol`
 * (a framing or envelope violation), `registration` (an operation could
 * not be registered), `same-peer-collision` (a peer offers one name twice)
 * and the {@link ConnectErrorCode}s.
 *
 * @example
 * ```ts
 * import type { LocalErrorCode } from "@alknet/call";
 * const code: LocalErrorCode = "registration";
 * console.log(code);
 * ```
 */
export type LocalErrorCode =
  | "protocol"
  | "registration"
  | "same-peer-collision"
  | ConnectErrorCode;

/**
 * Every code a {@link CallError} carries: a protocol code, a local code, or
 * a code an operation declares in its `errors` (any other string).
 *
 * @example
 * ```ts
 * import { CallError, type CallErrorCode } from "@alknet/call";
 * const code: CallErrorCode = "NOT_FOUND";
 * console.log(new CallError(code, "no such operation: x/y").code);
 * ```
 */
export type CallErrorCode =
  | ProtocolErrorCode
  | LocalErrorCode
  | (string & Record<never, never>);

/**
 * The protocol's own error codes, as a list.
 *
 * @example
 * ```ts
 * import { PROTOCOL_ERROR_CODES } from "@alknet/call";
 * console.log(PROTOCOL_ERROR_CODES.includes("TIMEOUT")); // true
 * ```
 */
export const PROTOCOL_ERROR_CODES: readonly ProtocolErrorCode[] = [
  "NOT_FOUND",
  "FORBIDDEN",
  "INVALID_INPUT",
  "INVALID_OPERATION_TYPE",
  "INTERNAL",
  "TIMEOUT",
];

/**
 * True for the six protocol error codes.
 *
 * @example
 * ```ts
 * import { isProtocolErrorCode } from "@alknet/call";
 * console.log(isProtocolErrorCode("TIMEOUT"), isProtocolErrorCode("OUT_OF_STOCK")); // true false
 * ```
 */
export function isProtocolErrorCode(code: string): code is ProtocolErrorCode {
  return (PROTOCOL_ERROR_CODES as readonly string[]).includes(code);
}

/**
 * Options of a {@link CallError}.
 *
 * @example
 * ```ts
 * import { CallError, type CallErrorOptions } from "@alknet/call";
 * const opts: CallErrorOptions = { retryable: true, details: { retry_after_ms: 100 } };
 * console.log(new CallError("BUSY", "try later", opts).retryable); // true
 * ```
 */
export interface CallErrorOptions {
  /** Whether the caller may retry; defaults to `code === "TIMEOUT"`. */
  retryable?: boolean;
  /** Structured details (validation errors, the original code, ...). */
  details?: unknown;
  /** The underlying cause, kept locally and never sent. */
  cause?: unknown;
}

/**
 * The shape of a `call.error` payload.
 *
 * @example
 * ```ts
 * import type { ErrorPayloadShape } from "@alknet/call";
 * const p: ErrorPayloadShape = { code: "NOT_FOUND", message: "no such operation: x/y", retryable: false };
 * console.log(p.code);
 * ```
 */
export interface ErrorPayloadShape {
  /** Error code. */
  code: string;
  /** Human-readable message. */
  message: string;
  /** Whether a retry may succeed. */
  retryable: boolean;
  /** Structured details, omitted when absent. */
  details?: unknown;
}

/**
 * Base class of every error `@alknet/call` throws, and the error answer of
 * the protocol: what a handler throws to answer `call.error`, and what a
 * caller's promise rejects with when the peer answered one.
 *
 * @example
 * ```ts
 * import { CallError } from "@alknet/call";
 * const e = new CallError("OUT_OF_STOCK", "no more widgets", { details: { sku: "w-1" } });
 * console.log(e.code, e.retryable, e.toPayload());
 * ```
 */
export class CallError extends Error {
  /** Protocol, local or operation-declared error code. */
  readonly code: CallErrorCode;
  /** Whether retrying may succeed. */
  readonly retryable: boolean;
  /** Structured details; `undefined` when absent (then omitted on the wire). */
  readonly details?: unknown;

  /** Builds an error with a code and a human-readable message. */
  constructor(code: CallErrorCode, message: string, options: CallErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CallError";
    this.code = code;
    this.retryable = options.retryable ?? code === "TIMEOUT";
    if (options.details !== undefined) this.details = options.details;
  }

  /** The `call.error` payload for this error (`details` omitted when absent). */
  toPayload(): ErrorPayloadShape {
    const p: ErrorPayloadShape = {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
    };
    if (this.details !== undefined) p.details = this.details;
    return p;
  }
}

/**
 * The connection closed while a call was in flight, or a call was made on a
 * closed connection: code `INTERNAL`, message "connection closed".
 *
 * @example
 * ```ts
 * import { ConnectionClosedError } from "@alknet/call";
 * const e = new ConnectionClosedError();
 * console.log(e.code, e.message); // "INTERNAL" "connection closed"
 * ```
 */
export class ConnectionClosedError extends CallError {
  /** Creates the error. */
  constructor() {
    super("INTERNAL", "connection closed");
    this.name = "ConnectionClosedError";
  }
}

/**
 * A violation of the wire format (bad length prefix, invalid JSON, malformed
 * envelope); code `protocol`. The stream it happened on is closed.
 *
 * @example
 * ```ts
 * import { ProtocolError } from "@alknet/call";
 * const e = new ProtocolError("frame length 0 is not allowed");
 * console.log(e.code, e.message); // "protocol" "frame length 0 is not allowed"
 * ```
 */
export class ProtocolError extends CallError {
  /** Describes the violation. */
  constructor(message: string) {
    super("protocol", message);
    this.name = "ProtocolError";
  }
}

/**
 * An operation could not be registered (code `registration`): bad name,
 * duplicate, invalid schema, or a handler whose kind does not match the
 * operation type.
 *
 * @example
 * ```ts
 * import { RegistrationError } from "@alknet/call";
 * const e = new RegistrationError("demo/x", "duplicate operation");
 * console.log(e.code, e.message); // "registration" "cannot register demo/x: duplicate operation"
 * ```
 */
export class RegistrationError extends CallError {
  /** The operation's name. */
  readonly operation: string;
  /** True when the handler's kind does not match the operation type. */
  readonly wrongType: boolean;
  /** Describes why the registration failed. */
  constructor(operation: string, reason: string, options: { wrongType?: boolean } = {}) {
    super("registration", `cannot register ${operation}: ${reason}`);
    this.name = "RegistrationError";
    this.operation = operation;
    this.wrongType = options.wrongType ?? false;
  }
}

/**
 * Importing a peer's operations failed (code `same-peer-collision`): the
 * peer listed two operations that map to the same local name.
 *
 * @example
 * ```ts
 * import { SamePeerCollisionError } from "@alknet/call";
 * const e = new SamePeerCollisionError("peer-1", "w/node/ping");
 * console.log(e.code, e.message);
 * ```
 */
export class SamePeerCollisionError extends CallError {
  /** The peer's id. */
  readonly peer: string;
  /** The colliding local operation name. */
  readonly operation: string;
  /** Names the peer and the colliding operation. */
  constructor(peer: string, operation: string) {
    super("same-peer-collision", `peer ${peer} offers ${operation} more than once`);
    this.name = "SamePeerCollisionError";
    this.peer = peer;
    this.operation = operation;
  }
}

/**
 * {@link connectCall} could not connect or authenticate; `code` says why
 * (see {@link ConnectErrorCode}), `option` names the option at fault for
 * `options` (as the library spells it, so a command line can name its own
 * flag), and `cause` holds the error of the layer below.
 *
 * @example
 * ```ts
 * import { ConnectError } from "@alknet/call";
 * const e = new ConnectError("unauthorized", "ws://127.0.0.1:1/alknet/call", "HTTP 401: invalid token");
 * console.log(e.code, e.target, e.reason);
 * const o = new ConnectError("options", "tcp://127.0.0.1:1", "applies to tls:// only", {
 *   option: "tlsFingerprint",
 * });
 * console.log(o.message); // "cannot connect to tcp://127.0.0.1:1: tlsFingerprint: applies to tls:// only"
 * ```
 */
export class ConnectError extends CallError {
  /** Why it failed. */
  declare readonly code: ConnectErrorCode;
  /** The target URL. */
  readonly target: string;
  /** What went wrong, without the target (and without the option name). */
  readonly reason: string;
  /** The option at fault, for `options`. */
  readonly option?: string;
  /** Names the target, the option if any, and the reason. */
  constructor(
    code: ConnectErrorCode,
    target: string,
    reason: string,
    options: { cause?: unknown; option?: string } = {},
  ) {
    const what = options.option === undefined ? reason : `${options.option}: ${reason}`;
    super(code, `cannot connect to ${target}: ${what}`, { cause: options.cause });
    this.name = "ConnectError";
    this.target = target;
    this.reason = reason;
    if (options.option !== undefined) this.option = options.option;
  }
}
