/**
 * The framed transport: envelopes as length-prefixed frames (4-byte
 * big-endian length, then UTF-8 JSON) over any byte stream (TCP, TLS, QUIC
 * and iroh streams, an SSH channel), with writes coalesced while one is in
 * progress.
 *
 * @module
 */

import type { ByteDuplex } from "./byte_duplex.ts";
import { ProtocolError } from "./errors.ts";
import type { EnvelopeTransport, TransportHandlers } from "./transport.ts";
import { decodeMessage, type Envelope, FrameDecoder, frameOfText } from "./wire.ts";

/**
 * Options of {@link framedTransport}.
 *
 * @example
 * ```ts
 * import type { FramedTransportOptions } from "@alknet/call";
 * const opts: FramedTransportOptions = { maxFrameBytes: 1024 * 1024 };
 * ```
 */
export interface FramedTransportOptions {
  /** Lower cap for incoming frames (default 64 MiB). */
  maxFrameBytes?: number;
}

const LOW_WATER = 256 * 1024;
/** Texts up to this many characters are encoded at flush time (at most 3 bytes each). */
const SMALL_TEXT = 64 * 1024;
const encoder = new TextEncoder();

/** The envelope in a frame's text; ProtocolError when the frame was not UTF-8 (null) or not one. */
function envelopeOf(text: string | null): Envelope {
  if (text === null) throw new ProtocolError("message is not valid UTF-8");
  return decodeMessage(text);
}

/** Writes the 4-byte big-endian length `n` at `o`. */
function putLength(buf: Uint8Array, o: number, n: number): void {
  buf[o] = n >>> 24;
  buf[o + 1] = (n >>> 16) & 0xff;
  buf[o + 2] = (n >>> 8) & 0xff;
  buf[o + 3] = n & 0xff;
}

/**
 * The frames of several queued texts (`chars` characters in all), encoded
 * in one go: the joined text is encoded after room for the prefixes, and
 * when it was ASCII (as many bytes as characters) each body moves into
 * place. Undefined for anything else (one item, a pre-built frame, a
 * multi-byte character).
 */
function batchOfTexts(
  items: (string | Uint8Array)[],
  chars: number,
  scratch: Scratch,
): Uint8Array | undefined {
  const count = items.length;
  if (count < 2) return undefined;
  for (let i = 0; i < count; i++) if (typeof items[i] !== "string") return undefined;
  const texts = items as string[];
  const joined = texts.join("");
  const start = count * 4;
  const buf = scratch.get(start + chars * 3);
  if (encoder.encodeInto(joined, buf.subarray(start)).written !== joined.length) return undefined;
  let src = start;
  let o = 0;
  for (let i = 0; i < count; i++) {
    const n = texts[i].length;
    buf.copyWithin(o + 4, src, src + n); // never overlaps a body not yet moved
    putLength(buf, o, n);
    o += 4 + n;
    src += n;
  }
  return buf.subarray(0, o);
}

/** The frames of queued texts and pre-built frames, encoded one by one. */
function batchOfItems(
  items: (string | Uint8Array)[],
  chars: number,
  scratch: Scratch,
): Uint8Array {
  const buf = scratch.get(chars * 3 + items.length * 4);
  let o = 0;
  for (const item of items) {
    if (typeof item === "string") {
      const n = encoder.encodeInto(item, buf.subarray(o + 4)).written;
      putLength(buf, o, n);
      o += 4 + n;
    } else {
      buf.set(item, o);
      o += item.byteLength;
    }
  }
  return buf.subarray(0, o);
}

/** Largest write buffer a transport keeps between writes. */
const SCRATCH_KEEP = 1024 * 1024;

/**
 * The buffer a transport encodes its batches into, reused from one write to
 * the next (a write owns its buffer until it resolves, and the next batch
 * is built only then): a fresh one per write cost zeroing and page faults,
 * a fifth of the server's CPU in a profile with 64 calls in flight.
 */
class Scratch {
  #buf = new Uint8Array(0);

  readonly #reuse: boolean;

  /**
   * `reuse` only where a write is done with the bytes when it resolves
   * (`Deno.Conn` and the transport layer's streams); a web stream may
   * still hold the chunk it was given (a `TransformStream` passes it on).
   */
  constructor(reuse: boolean) {
    this.#reuse = reuse;
  }

  /** A buffer of at least `n` bytes (kept for the next write up to 1 MiB). */
  get(n: number): Uint8Array {
    if (!this.#reuse) return new Uint8Array(n);
    if (this.#buf.byteLength >= n) return this.#buf;
    if (n > SCRATCH_KEEP) return new Uint8Array(n);
    this.#buf = new Uint8Array(Math.max(n, Math.min(SCRATCH_KEEP, this.#buf.byteLength * 2)));
    return this.#buf;
  }
}

class Waiters {
  #list: (() => void)[] = [];
  wait(): Promise<void> {
    return new Promise((r) => this.#list.push(r));
  }
  wake(): void {
    const l = this.#list;
    this.#list = [];
    for (const r of l) r();
  }
}

/**
 * Frames envelopes over a byte duplex: 4-byte big-endian length then UTF-8
 * JSON. Frames queued while a write is in progress go out together in one
 * write. A protocol error (bad length, invalid JSON, malformed envelope,
 * truncated frame) closes the stream.
 *
 * @example
 * ```ts
 * import { CallConnection, framedTransport, OperationRegistry } from "@alknet/call";
 * // Two ends of an in-memory byte pipe; a TCP, TLS or SSH channel works the same.
 * const ab = new TransformStream<Uint8Array, Uint8Array>();
 * const ba = new TransformStream<Uint8Array, Uint8Array>();
 * const registry = new OperationRegistry();
 * registry.register({ name: "demo/echo", type: "query", handler: (x) => x });
 * const server = new CallConnection(framedTransport({ readable: ab.readable, writable: ba.writable }), { router: registry });
 * const client = new CallConnection(framedTransport({ readable: ba.readable, writable: ab.writable }));
 * console.log(await client.call("demo/echo", { hi: 1 }));
 * await client.close();
 * await server.closed;
 * ```
 */
export function framedTransport(
  duplex: ByteDuplex,
  options: FramedTransportOptions = {},
): EnvelopeTransport {
  return new FramedTransport(duplex, options);
}

class FramedTransport implements EnvelopeTransport {
  #duplex: ByteDuplex;
  #decoder: FrameDecoder;
  #writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  #direct: boolean;
  #queue: (string | Uint8Array)[] = [];
  #queued = 0; // characters of queued texts plus bytes of queued frames
  #writing = false;
  #closed = false;
  #closing = false;
  #handlers: TransportHandlers | null = null;
  #drain = new Waiters();
  #scratch: Scratch;

  constructor(duplex: ByteDuplex, options: FramedTransportOptions) {
    this.#duplex = duplex;
    this.#direct = typeof duplex.read === "function" && typeof duplex.write === "function";
    this.#scratch = new Scratch(this.#direct);
    this.#decoder = new FrameDecoder(options.maxFrameBytes, this.#direct);
    if (!this.#direct) this.#writer = duplex.writable.getWriter();
  }

  async #write(buf: Uint8Array): Promise<void> {
    if (!this.#direct) {
      await this.#writer!.write(buf);
      return;
    }
    const write = this.#duplex.write!;
    let off = 0;
    while (off < buf.byteLength) off += await write(off === 0 ? buf : buf.subarray(off));
  }

  get bufferedAmount(): number {
    return this.#queued;
  }

  drained(): Promise<void> {
    if (this.#closed || this.#queued <= LOW_WATER) return Promise.resolve();
    return this.#drain.wait();
  }

  send(envelope: Envelope): void {
    if (this.#closed || this.#closing) return;
    const text = JSON.stringify(envelope);
    if (text.length <= SMALL_TEXT) {
      // Encoded at flush time straight into the batch buffer.
      this.#queue.push(text);
      this.#queued += text.length;
    } else {
      const frame = frameOfText(text); // throws ProtocolError past 64 MiB
      this.#queue.push(frame);
      this.#queued += frame.byteLength;
    }
    // The first frame goes out at once; what is sent while that write is in
    // flight goes out together in the next. (Waiting for the end of the task
    // to write everything in one write halved the writes but lost the
    // overlap between the two ends: fewer calls/s at 64 in flight.)
    if (!this.#writing) void this.#flush();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const items = this.#queue;
        const chars = this.#queued;
        this.#queue = [];
        this.#queued = 0;
        const frames = batchOfTexts(items, chars, this.#scratch) ??
          batchOfItems(items, chars, this.#scratch);
        await this.#write(frames);
        this.#drain.wake();
      }
    } catch (e) {
      this.#queue = [];
      this.#queued = 0;
      this.#writing = false;
      this.#finish(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.#writing = false;
    if (this.#closing) this.#finish(undefined);
  }

  start(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    void this.#readLoop();
  }

  async #readDirect(): Promise<void> {
    const read = this.#duplex.read!;
    const handlers = this.#handlers!;
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await read(buf);
        if (n === null) {
          this.#decoder.finish();
          break;
        }
        if (this.#closed) return;
        // The decoder copies what it keeps, and bodies are decoded before the next read.
        const texts = this.#decoder.pushTexts(buf.subarray(0, n));
        for (const text of texts) {
          if (this.#closed) return;
          handlers.message(envelopeOf(text));
        }
      }
      this.#finish(undefined);
    } catch (e) {
      this.#readFailed(e);
    }
  }

  #readFailed(e: unknown): void {
    if (e instanceof ProtocolError) {
      this.#closing = true;
      this.#finish(e);
    } else {
      this.#finish(this.#closed ? undefined : (e instanceof Error ? e : new Error(String(e))));
    }
  }

  async #readLoop(): Promise<void> {
    if (this.#direct) return await this.#readDirect();
    let reader: ReadableStreamDefaultReader<Uint8Array>;
    try {
      reader = this.#duplex.readable.getReader();
    } catch (e) {
      this.#finish(e as Error);
      return;
    }
    this.#reader = reader;
    const handlers = this.#handlers!;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          this.#decoder.finish();
          break;
        }
        const texts = this.#decoder.pushTexts(value);
        for (const text of texts) {
          if (this.#closed) return;
          handlers.message(envelopeOf(text));
        }
      }
      this.#finish(undefined);
    } catch (e) {
      this.#readFailed(e);
    }
  }

  close(error?: Error): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    this.#pendingError = error;
    if (!this.#writing) this.#finish(error);
  }

  #pendingError: Error | undefined;

  #finish(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    const err = error ?? this.#pendingError;
    this.#drain.wake();
    this.#writer?.close().catch(() => {});
    this.#reader?.cancel().catch(() => {});
    try {
      this.#duplex.close?.();
    } catch {
      // already closed
    }
    this.#handlers?.close(err);
  }
}
