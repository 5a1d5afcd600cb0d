/**
 * Typed errors of the call protocol: {@link CallError} for answers that
 * travel on the wire as `call.error`, and local errors for framing,
 * registration and peer import problems.
 *
 * @module
 */

/**
 * The protocol's own error codes (DESIGN 5.2). `TIMEOUT` is the only retryable one.
 *
 * @example
 * ```ts
 * import { PROTOCOL_ERROR_CODES } from "./errors.ts";
 * console.log(PROTOCOL_ERROR_CODES.includes("TIMEOUT")); // true
 * ```
 */
export const PROTOCOL_ERROR_CODES: readonly string[] = [
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
 * import { isProtocolErrorCode } from "./errors.ts";
 * console.log(isProtocolErrorCode("TIMEOUT"), isProtocolErrorCode("OUT_OF_STOCK")); // true false
 * ```
 */
export function isProtocolErrorCode(code: string): boolean {
  return PROTOCOL_ERROR_CODES.includes(code);
}

/**
 * Options of a {@link CallError}.
 *
 * @example
 * ```ts
 * import { CallError, type CallErrorOptions } from "./errors.ts";
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
 * An error answer of the call protocol: what a handler throws to answer
 * `call.error`, and what a caller's promise rejects with when the peer
 * answered one.
 *
 * @example
 * ```ts
 * import { CallError } from "./errors.ts";
 * const e = new CallError("OUT_OF_STOCK", "no more widgets", { details: { sku: "w-1" } });
 * console.log(e.code, e.retryable, e.toPayload());
 * ```
 */
export class CallError extends Error {
  /** Protocol or operation-declared error code. */
  readonly code: string;
  /** Whether retrying may succeed. */
  readonly retryable: boolean;
  /** Structured details; `undefined` when absent (then omitted on the wire). */
  readonly details?: unknown;

  /** Builds an error answer with a code and a human-readable message. */
  constructor(code: string, message: string, options: CallErrorOptions = {}) {
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
 * The shape of a `call.error` payload (duplicated here to keep this module dependency-free).
 *
 * @example
 * ```ts
 * import type { ErrorPayloadShape } from "./errors.ts";
 * const p: ErrorPayloadShape = { code: "NOT_FOUND", message: "no such operation: x/y", retryable: false };
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
 * A violation of the wire format (bad length prefix, invalid JSON, malformed
 * envelope). The stream it happened on is closed.
 *
 * @example
 * ```ts
 * import { ProtocolError } from "./errors.ts";
 * const e = new ProtocolError("frame length 0 is not allowed");
 * console.log(e.name, e.message);
 * ```
 */
export class ProtocolError extends Error {
  /** Describes the violation. */
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/**
 * An operation could not be registered: bad name, duplicate, invalid schema,
 * or a handler whose kind does not match the operation type.
 *
 * @example
 * ```ts
 * import { RegistrationError } from "./errors.ts";
 * const e = new RegistrationError("demo/x", "duplicate operation");
 * console.log(e.message); // "cannot register demo/x: duplicate operation"
 * ```
 */
export class RegistrationError extends Error {
  /** The operation's name. */
  readonly operation: string;
  /** Describes why the registration failed. */
  constructor(operation: string, reason: string) {
    super(`cannot register ${operation}: ${reason}`);
    this.name = "RegistrationError";
    this.operation = operation;
  }
}

/**
 * Importing a peer's operations failed: the peer listed two operations that
 * map to the same local name.
 *
 * @example
 * ```ts
 * import { SamePeerCollisionError } from "./errors.ts";
 * const e = new SamePeerCollisionError("peer-1", "w/node/ping");
 * console.log(e.message);
 * ```
 */
export class SamePeerCollisionError extends Error {
  /** The peer's id. */
  readonly peer: string;
  /** The colliding local operation name. */
  readonly operation: string;
  /** Names the peer and the colliding operation. */
  constructor(peer: string, operation: string) {
    super(`peer ${peer} offers ${operation} more than once`);
    this.name = "SamePeerCollisionError";
    this.peer = peer;
    this.operation = operation;
  }
}

/**
 * A carrier could not connect or authenticate (TCP refused, TLS failure,
 * HTTP 401 on the WebSocket upgrade).
 *
 * @example
 * ```ts
 * import { ConnectError } from "./errors.ts";
 * const e = new ConnectError("ws://127.0.0.1:1/alknet/call", "HTTP 401", { unauthorized: true });
 * console.log(e.unauthorized, e.message);
 * ```
 */
export class ConnectError extends Error {
  /** The address dialled. */
  readonly target: string;
  /** True when the peer refused the credentials. */
  readonly unauthorized: boolean;
  /** Names the target and the reason. */
  constructor(
    target: string,
    reason: string,
    options: { unauthorized?: boolean; cause?: unknown } = {},
  ) {
    super(
      `cannot connect to ${target}: ${reason}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "ConnectError";
    this.target = target;
    this.unauthorized = options.unauthorized ?? false;
  }
}
