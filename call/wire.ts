/**
 * The call protocol's wire format (docs/decisions/call-wire-and-auth.md): envelopes, the five event
 * types, UUID v4 ids, the length-prefixed frame codec for byte streams and
 * the one-envelope-per-message codec for WebSocket.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";

/**
 * Largest frame body: 64 MiB.
 *
 * @example
 * ```ts
 * import { MAX_FRAME_BYTES } from "@alknet/call";
 * console.log(MAX_FRAME_BYTES); // 67108864
 * ```
 */
export const MAX_FRAME_BYTES: number = 64 * 1024 * 1024;

/**
 * The five event types.
 *
 * @example
 * ```ts
 * import type { EventType } from "@alknet/call";
 * const t: EventType = "call.responded";
 * ```
 */
export type EventType =
  | "call.requested"
  | "call.responded"
  | "call.completed"
  | "call.aborted"
  | "call.error";

/**
 * Payload of `call.requested`. `operationId` is `/ns/op` on the wire.
 *
 * @example
 * ```ts
 * import type { RequestedPayload } from "@alknet/call";
 * const p: RequestedPayload = { operationId: "/node/ping", input: { x: 1 }, timeout_ms: 500, expect: "call" };
 * console.log(p.expect);
 * ```
 */
export interface RequestedPayload {
  /** The operation, `/ns/op`. */
  operationId: string;
  /** Input value (JSON). */
  input: unknown;
  /** Token authenticating this request (carriers without their own authentication). */
  auth_token?: string;
  /** Identity id of the original caller when a node forwards a call. */
  forwarded_for?: string;
  /** The caller asks for a shorter deadline than the default, in milliseconds. */
  timeout_ms?: number;
  /**
   * What the caller expects: one answer (`call`, for a query or mutation) or
   * a stream (`subscription`). A server answers `INVALID_OPERATION_TYPE`
   * when the operation is of the other kind; absent, it does not check
   * (peers that predate the field).
   */
  expect?: "call" | "subscription";
}

/**
 * Payload of `call.responded`: one result (or one subscription item).
 *
 * @example
 * ```ts
 * import type { RespondedPayload } from "@alknet/call";
 * const p: RespondedPayload = { output: { x: 1 } };
 * ```
 */
export interface RespondedPayload {
  /** Output value (JSON). */
  output: unknown;
}

/**
 * Payload of `call.error`; `details` is omitted when absent.
 *
 * @example
 * ```ts
 * import type { ErrorPayload } from "@alknet/call";
 * const p: ErrorPayload = { code: "TIMEOUT", message: "too slow", retryable: true };
 * ```
 */
export interface ErrorPayload {
  /** Error code. */
  code: string;
  /** Human-readable message. */
  message: string;
  /** Whether a retry may succeed. */
  retryable: boolean;
  /** Structured details. */
  details?: unknown;
}

/**
 * Payload of `call.completed` and `call.aborted`: an empty object.
 *
 * @example
 * ```ts
 * import type { EmptyPayload } from "@alknet/call";
 * const p: EmptyPayload = {};
 * ```
 */
export type EmptyPayload = Record<string, never>;

/**
 * One envelope: `{type, id, payload}`, discriminated by `type`.
 *
 * @example
 * ```ts
 * import type { Envelope } from "@alknet/call";
 * const e: Envelope = { type: "call.completed", id: crypto.randomUUID(), payload: {} };
 * ```
 */
export type Envelope =
  | { type: "call.requested"; id: string; payload: RequestedPayload }
  | { type: "call.responded"; id: string; payload: RespondedPayload }
  | { type: "call.completed"; id: string; payload: EmptyPayload }
  | { type: "call.aborted"; id: string; payload: EmptyPayload }
  | { type: "call.error"; id: string; payload: ErrorPayload };

/**
 * A fresh UUID v4 request id.
 *
 * @example
 * ```ts
 * import { newCallId } from "@alknet/call";
 * console.log(newCallId()); // e.g. "3b241101-e2bb-4255-8caf-4136c566a962"
 * ```
 */
export function newCallId(): string {
  return crypto.randomUUID();
}

/**
 * Builds a `call.error` envelope, leaving `details` out when it is undefined.
 *
 * @example
 * ```ts
 * import { errorEnvelope } from "@alknet/call";
 * const e = errorEnvelope("id-1", "NOT_FOUND", "no such operation: x/y");
 * console.log("details" in e.payload); // false
 * ```
 */
export function errorEnvelope(
  id: string,
  code: string,
  message: string,
  retryable = code === "TIMEOUT",
  details?: unknown,
): { type: "call.error"; id: string; payload: ErrorPayload } {
  const payload: ErrorPayload = { code, message, retryable };
  if (details !== undefined) payload.details = details;
  return { type: "call.error", id, payload };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
/** Decodes several frames in one go; its U+FFFD marks an invalid byte (see `FrameDecoder.pushTexts`). */
const looseDecoder = new TextDecoder("utf-8");

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Checks a parsed JSON value and returns it as an {@link Envelope}; throws
 * {@link ProtocolError} when it is not one. Unknown event types are
 * malformed too.
 *
 * @example
 * ```ts
 * import { toEnvelope } from "@alknet/call";
 * const e = toEnvelope({ type: "call.aborted", id: "a", payload: {} });
 * console.log(e.type); // "call.aborted"
 * ```
 */
export function toEnvelope(value: unknown): Envelope {
  if (!isObject(value)) throw new ProtocolError("envelope is not a JSON object");
  const { type, id, payload } = value;
  if (typeof type !== "string") throw new ProtocolError("envelope type is not a string");
  if (typeof id !== "string" || id.length === 0 || id.length > 128) {
    throw new ProtocolError("envelope id is not a non-empty string of at most 128 characters");
  }
  if (!isObject(payload)) throw new ProtocolError(`${type} payload is not an object`);
  switch (type) {
    case "call.requested": {
      if (typeof payload.operationId !== "string") {
        throw new ProtocolError("call.requested without a string operationId");
      }
      if (payload.auth_token !== undefined && typeof payload.auth_token !== "string") {
        throw new ProtocolError("call.requested auth_token is not a string");
      }
      if (payload.forwarded_for !== undefined && typeof payload.forwarded_for !== "string") {
        throw new ProtocolError("call.requested forwarded_for is not a string");
      }
      const t = payload.timeout_ms;
      if (t !== undefined && (typeof t !== "number" || !Number.isFinite(t) || t < 0)) {
        throw new ProtocolError("call.requested timeout_ms is not a non-negative number");
      }
      const x = payload.expect;
      if (x !== undefined && typeof x !== "string") {
        throw new ProtocolError("call.requested expect is not a string");
      }
      // An unknown kind from a newer peer is not checked rather than refused.
      if (x !== undefined && x !== "call" && x !== "subscription") delete payload.expect;
      if (!("input" in payload)) payload.input = null;
      break;
    }
    case "call.responded":
      if (!("output" in payload)) payload.output = null;
      break;
    case "call.completed":
    case "call.aborted":
      break;
    case "call.error":
      if (typeof payload.code !== "string" || typeof payload.message !== "string") {
        throw new ProtocolError("call.error without string code and message");
      }
      if (typeof payload.retryable !== "boolean") payload.retryable = payload.code === "TIMEOUT";
      break;
    default:
      throw new ProtocolError(`unknown event type ${JSON.stringify(type.slice(0, 64))}`);
  }
  return value as unknown as Envelope;
}

/**
 * Encodes one envelope as UTF-8 JSON (the WebSocket codec: one envelope per
 * binary message).
 *
 * @example
 * ```ts
 * import { decodeMessage, encodeMessage } from "@alknet/call";
 * const bytes = encodeMessage({ type: "call.completed", id: "x", payload: {} });
 * console.log(decodeMessage(bytes).type); // "call.completed"
 * ```
 */
export function encodeMessage(envelope: Envelope): Uint8Array {
  return encoder.encode(JSON.stringify(envelope));
}

/**
 * Decodes one WebSocket message (binary UTF-8 JSON, or text) into an
 * envelope; throws {@link ProtocolError} on anything else.
 *
 * @example
 * ```ts
 * import { decodeMessage } from "@alknet/call";
 * const e = decodeMessage('{"type":"call.aborted","id":"x","payload":{}}');
 * console.log(e.id); // "x"
 * ```
 */
export function decodeMessage(data: Uint8Array | ArrayBuffer | string): Envelope {
  let text: string;
  if (typeof data === "string") {
    text = data;
  } else {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    if (bytes.byteLength === 0) throw new ProtocolError("empty message");
    if (bytes.byteLength > MAX_FRAME_BYTES) throw new ProtocolError("message larger than 64 MiB");
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new ProtocolError("message is not valid UTF-8");
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError("message is not valid JSON");
  }
  return toEnvelope(value);
}

/**
 * Encodes one envelope as a frame: 4-byte big-endian length, then UTF-8 JSON.
 * Throws {@link ProtocolError} when the body would exceed 64 MiB.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "@alknet/call";
 * const f = encodeFrame({ type: "call.completed", id: "x", payload: {} });
 * console.log(new DataView(f.buffer).getUint32(0) === f.byteLength - 4); // true
 * ```
 */
export function encodeFrame(envelope: Envelope): Uint8Array {
  return frameOfText(JSON.stringify(envelope));
}

/**
 * The frame of one JSON text (what {@link encodeFrame} sends; the framed
 * transport frames its large texts with it). Throws {@link ProtocolError}
 * when the body would exceed 64 MiB. Internal (not exported by the package).
 */
export function frameOfText(text: string): Uint8Array {
  let frame: Uint8Array;
  let n: number;
  if (text.length <= 16384) {
    const buf = new Uint8Array(4 + text.length * 3);
    n = encoder.encodeInto(text, buf.subarray(4)).written;
    frame = buf.subarray(0, 4 + n);
  } else {
    const body = encoder.encode(text);
    n = body.byteLength;
    if (n > MAX_FRAME_BYTES) throw new ProtocolError(`frame of ${n} bytes exceeds 64 MiB`);
    frame = new Uint8Array(4 + n);
    frame.set(body, 4);
  }
  new DataView(frame.buffer, frame.byteOffset, 4).setUint32(0, n);
  return frame;
}

/** The big-endian length prefix at `off` of `b`. */
function frameLength(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/**
 * Incremental decoder for length-prefixed frames. Feed it chunks as they
 * arrive; it returns the complete frame bodies. The length is checked
 * (1..max) before any body is buffered, and memory is only ever allocated
 * for bytes that actually arrived, so a hostile prefix cannot make it
 * allocate past the cap. Any violation throws {@link ProtocolError}.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameDecoder, decodeFrameBody } from "@alknet/call";
 * const d = new FrameDecoder();
 * const f = encodeFrame({ type: "call.completed", id: "x", payload: {} });
 * const bodies = [...d.push(f.subarray(0, 3)), ...d.push(f.subarray(3))];
 * console.log(decodeFrameBody(bodies[0]).id); // "x"
 * d.finish();
 * ```
 */
export class FrameDecoder {
  readonly #max: number;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #expected = -1; // body length once the prefix is read, else -1

  readonly #copy: boolean;

  /**
   * `maxFrameBytes` lowers the 64 MiB cap (tests, constrained peers).
   * `copyRetained` makes the decoder copy the bytes it keeps between pushes,
   * so the caller may reuse its read buffer.
   */
  constructor(maxFrameBytes: number = MAX_FRAME_BYTES, copyRetained = false) {
    this.#copy = copyRetained;
    if (!(maxFrameBytes >= 1 && maxFrameBytes <= MAX_FRAME_BYTES)) {
      throw new RangeError("maxFrameBytes must be between 1 and 64 MiB");
    }
    this.#max = maxFrameBytes;
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Adds a chunk; returns every frame body it completes (possibly none). */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (chunk.byteLength === 0) return out;
    // Fast path: nothing buffered, walk whole frames inside this chunk without copying.
    if (this.#buffered === 0 && this.#expected < 0) {
      let off = 0;
      const len = chunk.byteLength;
      while (len - off >= 4) {
        const n = frameLength(chunk, off);
        this.#check(n);
        if (len - off - 4 < n) break;
        out.push(chunk.subarray(off + 4, off + 4 + n));
        off += 4 + n;
      }
      if (off === len) return out;
      chunk = chunk.subarray(off);
    }
    this.#chunks.push(this.#copy ? chunk.slice() : chunk);
    this.#buffered += chunk.byteLength;
    for (;;) {
      if (this.#expected < 0) {
        if (this.#buffered < 4) break;
        const h = this.#take(4);
        const n = frameLength(h, 0);
        this.#check(n);
        this.#expected = n;
      }
      if (this.#buffered < this.#expected) break;
      out.push(this.#take(this.#expected));
      this.#expected = -1;
    }
    return out;
  }

  /**
   * Like {@link push}, but returns each body as UTF-8 text, or null for a
   * body that is not valid UTF-8 (the caller decides when to fail). The
   * whole frames of a chunk that arrives with nothing buffered are decoded
   * in one go: when every byte of them maps to one UTF-16 unit (no
   * multi-byte sequence anywhere, checked by the length) the bodies are
   * slices of that text, and a U+FFFD in a body can only stand for an
   * invalid byte.
   */
  pushTexts(chunk: Uint8Array): (string | null)[] {
    if (this.#buffered === 0 && this.#expected < 0 && chunk.byteLength >= 4) {
      // Whole frames at the start of the chunk: count them (lengths checked).
      let off = 0;
      let count = 0;
      const len = chunk.byteLength;
      while (len - off >= 4) {
        const n = frameLength(chunk, off);
        this.#check(n);
        if (len - off - 4 < n) break;
        off += 4 + n;
        count++;
      }
      if (count >= 2) {
        const all = looseDecoder.decode(chunk.subarray(0, off));
        if (all.length === off) {
          const out: (string | null)[] = [];
          let o = 0;
          while (o < off) {
            const n = frameLength(chunk, o);
            const text = all.slice(o + 4, o + 4 + n);
            out.push(text.indexOf("\uFFFD") === -1 ? text : null);
            o += 4 + n;
          }
          if (off < len) {
            for (const body of this.push(chunk.subarray(off))) out.push(textOf(body));
          }
          return out;
        }
      }
    }
    return this.push(chunk).map(textOf);
  }

  /** Call at end of stream: throws when a frame was cut short. */
  finish(): void {
    if (this.#expected >= 0 || this.#buffered > 0) {
      const what = this.#expected >= 0 ? "body" : "length prefix";
      this.#chunks = [];
      this.#buffered = 0;
      this.#expected = -1;
      throw new ProtocolError(`stream ended inside a frame ${what}`);
    }
  }

  #check(n: number): void {
    if (n === 0) throw new ProtocolError("frame length 0 is not allowed");
    if (n > this.#max) {
      throw new ProtocolError(`frame length ${n} exceeds the ${this.#max}-byte cap`);
    }
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first.byteLength >= n) {
      const out = first.subarray(0, n);
      if (first.byteLength === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[0];
      const k = Math.min(c.byteLength, n - filled);
      out.set(c.subarray(0, k), filled);
      filled += k;
      if (k === c.byteLength) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#buffered -= n;
    return out;
  }
}

/** A frame body as text, or null when it is not valid UTF-8. */
function textOf(body: Uint8Array): string | null {
  try {
    return decoder.decode(body);
  } catch {
    return null;
  }
}

/**
 * Parses one frame body (UTF-8 JSON) into an envelope; throws
 * {@link ProtocolError} on invalid UTF-8, invalid JSON or a malformed envelope.
 *
 * @example
 * ```ts
 * import { decodeFrameBody } from "@alknet/call";
 * const body = new TextEncoder().encode('{"type":"call.completed","id":"x","payload":{}}');
 * console.log(decodeFrameBody(body).type); // "call.completed"
 * ```
 */
export function decodeFrameBody(body: Uint8Array): Envelope {
  return decodeMessage(body);
}
