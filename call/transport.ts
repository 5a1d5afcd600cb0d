/**
 * Envelope transports: the layer between a connection and its carrier.
 * {@link framedTransport} runs length-prefixed frames over any byte duplex
 * (TCP, TLS, an SSH channel) with coalesced writes; {@link webSocketTransport}
 * sends one envelope per binary WebSocket message; {@link memoryTransportPair}
 * links two connections inside one process.
 *
 * @module
 */

import { Duplex as NodeDuplex } from "node:stream";
import { ProtocolError } from "./errors.ts";
import {
  decodeFrameBody,
  decodeMessage,
  encodeMessage,
  type Envelope,
  FrameDecoder,
  MAX_FRAME_BYTES,
} from "./wire.ts";

/**
 * What a transport reports to its connection.
 *
 * @example
 * ```ts
 * import type { TransportHandlers } from "./transport.ts";
 * const handlers: TransportHandlers = { message: (e) => console.log(e.type), close: (err) => console.log("closed", err) };
 * ```
 */
export interface TransportHandlers {
  /** One decoded envelope arrived. */
  message(envelope: Envelope): void;
  /** The transport closed; `error` says why when it was not an orderly close. */
  close(error?: Error): void;
}

/**
 * Moves envelopes between two connection ends. `send` never blocks: it
 * queues, and `bufferedAmount`/`drained()` expose backpressure.
 *
 * @example
 * ```ts
 * import { memoryTransportPair, type EnvelopeTransport } from "./transport.ts";
 * const [a, b]: EnvelopeTransport[] = memoryTransportPair();
 * b.start({ message: (e) => console.log(e.type), close: () => {} });
 * a.start({ message: () => {}, close: () => {} });
 * a.send({ type: "call.aborted", id: "x", payload: {} });
 * a.close();
 * ```
 */
export interface EnvelopeTransport {
  /**
   * Queues one envelope for sending; ignored after close. Throws (without
   * sending anything) when the envelope cannot be encoded: not serializable
   * as JSON, or larger than 64 MiB.
   */
  send(envelope: Envelope): void;
  /** Bytes queued and not yet handed to the carrier. */
  readonly bufferedAmount: number;
  /** Resolves once the queue has drained below the low-water mark (or the transport closed). */
  drained(): Promise<void>;
  /** Starts delivering envelopes; call once. */
  start(handlers: TransportHandlers): void;
  /** Flushes what is queued, then closes; reports `error` to the handlers. */
  close(error?: Error): void;
}

/**
 * A byte duplex: what TCP, TLS and SSH channels look like as web streams.
 *
 * @example
 * ```ts
 * import type { ByteDuplex } from "./transport.ts";
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * const loopback: ByteDuplex = { readable: pipe.readable, writable: pipe.writable };
 * ```
 */
export interface ByteDuplex {
  /** Incoming bytes. */
  readable: ReadableStream<Uint8Array>;
  /** Outgoing bytes. */
  writable: WritableStream<Uint8Array>;
  /** Optional hook run once the transport is closed (e.g. `conn.close()`). */
  close?: () => void;
  /**
   * Optional direct read (`Deno.Conn.read`): when both `read` and `write` are
   * given they are used instead of the streams, which saves an allocation and
   * a promise per chunk.
   */
  read?: (buffer: Uint8Array) => Promise<number | null>;
  /** Optional direct write (`Deno.Conn.write`, may write part of the buffer). */
  write?: (data: Uint8Array) => Promise<number>;
}

/**
 * Options of {@link framedTransport}.
 *
 * @example
 * ```ts
 * import type { FramedTransportOptions } from "./transport.ts";
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

/** A whole frame for one large JSON text; throws ProtocolError past 64 MiB. */
function frameOfText(text: string): Uint8Array {
  const body = encoder.encode(text);
  if (body.byteLength > MAX_FRAME_BYTES) {
    throw new ProtocolError(`frame of ${body.byteLength} bytes exceeds 64 MiB`);
  }
  const frame = new Uint8Array(4 + body.byteLength);
  new DataView(frame.buffer).setUint32(0, body.byteLength);
  frame.set(body, 4);
  return frame;
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
 * import { CallConnection, framedTransport, OperationRegistry } from "./mod.ts";
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

  constructor(duplex: ByteDuplex, options: FramedTransportOptions) {
    this.#duplex = duplex;
    this.#direct = typeof duplex.read === "function" && typeof duplex.write === "function";
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
    if (!this.#writing) void this.#flush();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const items = this.#queue;
        const bound = this.#queued * 3 + items.length * 4;
        this.#queue = [];
        this.#queued = 0;
        const buf = new Uint8Array(bound);
        let o = 0;
        for (const item of items) {
          if (typeof item === "string") {
            const n = encoder.encodeInto(item, buf.subarray(o + 4)).written;
            buf[o] = n >>> 24;
            buf[o + 1] = (n >>> 16) & 0xff;
            buf[o + 2] = (n >>> 8) & 0xff;
            buf[o + 3] = n & 0xff;
            o += 4 + n;
          } else {
            buf.set(item, o);
            o += item.byteLength;
          }
        }
        await this.#write(buf.subarray(0, o));
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
        // The decoder copies what it keeps, and bodies are parsed before the next read.
        const bodies = this.#decoder.push(buf.subarray(0, n));
        for (const body of bodies) {
          if (this.#closed) return;
          handlers.message(decodeFrameBody(body));
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
        const bodies = this.#decoder.push(value);
        for (const body of bodies) {
          if (this.#closed) return;
          handlers.message(decodeFrameBody(body));
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

/**
 * The parts of a WebSocket the message transport uses: Deno's and the
 * browser's `WebSocket` and `npm:ws` all fit.
 *
 * @example
 * ```ts
 * import type { WebSocketLike } from "./transport.ts";
 * const connect = (url: string): WebSocketLike => new WebSocket(url) as unknown as WebSocketLike;
 * ```
 */
export interface WebSocketLike {
  /** Set to `"arraybuffer"` by the transport. */
  binaryType: string;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes queued by the socket. */
  readonly bufferedAmount: number;
  /** Sends one binary message. */
  send(data: Uint8Array): void;
  /** Closes the socket. */
  close(code?: number, reason?: string): void;
  /** Subscribes to `open`, `message`, `close` and `error`. */
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
}

/**
 * One envelope per binary WebSocket message. Text messages holding JSON are
 * accepted too. A malformed message closes the socket with code 1002.
 *
 * @example
 * ```ts
 * import { webSocketTransport } from "./transport.ts";
 * import { CallConnection } from "./connection.ts";
 * Deno.serve({ port: 0, onListen: () => {} }, (req) => {
 *   const { socket, response } = Deno.upgradeWebSocket(req);
 *   new CallConnection(webSocketTransport(socket));
 *   return response;
 * }).shutdown();
 * ```
 */
export function webSocketTransport(socket: WebSocketLike): EnvelopeTransport {
  return new WsTransport(socket);
}

class WsTransport implements EnvelopeTransport {
  #ws: WebSocketLike;
  #closed = false;
  #handlers: TransportHandlers | null = null;
  #pending: Uint8Array[] = [];

  constructor(ws: WebSocketLike) {
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  async drained(): Promise<void> {
    for (let i = 0; i < 10_000 && !this.#closed && this.#ws.bufferedAmount > LOW_WATER; i++) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  send(envelope: Envelope): void {
    if (this.#closed) return;
    const data = encodeMessage(envelope);
    if (data.byteLength > MAX_FRAME_BYTES) {
      throw new ProtocolError(`message of ${data.byteLength} bytes exceeds 64 MiB`);
    }
    if (this.#ws.readyState === 0) this.#pending.push(data);
    else if (this.#ws.readyState === 1) this.#ws.send(data);
  }

  start(handlers: TransportHandlers): void {
    this.#handlers = handlers;
    const ws = this.#ws;
    ws.addEventListener("open", () => {
      const p = this.#pending;
      this.#pending = [];
      for (const d of p) ws.send(d);
    });
    ws.addEventListener("message", (ev) => {
      if (this.#closed) return;
      let env: Envelope;
      try {
        const d = ev.data;
        if (typeof d === "string" || d instanceof ArrayBuffer || d instanceof Uint8Array) {
          env = decodeMessage(d);
        } else throw new ProtocolError("unsupported message type");
      } catch (e) {
        this.#fail(e as Error, 1002);
        return;
      }
      handlers.message(env);
    });
    ws.addEventListener("close", () => this.#fail(undefined));
    ws.addEventListener("error", () => this.#fail(new Error("websocket error")));
    if (ws.readyState >= 2) this.#fail(undefined);
  }

  #fail(error: Error | undefined, code = 1000): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#ws.readyState <= 1) this.#ws.close(code);
    } catch {
      // ignore
    }
    this.#handlers?.close(error);
  }

  close(error?: Error): void {
    this.#fail(error);
  }
}

/**
 * Two linked in-process transports (envelopes are JSON round-tripped so they
 * behave as on a wire). For tests and for composing nodes in one process.
 *
 * @example
 * ```ts
 * import { memoryTransportPair } from "./transport.ts";
 * import { CallConnection } from "./connection.ts";
 * import { OperationRegistry } from "./registry.ts";
 * const reg = new OperationRegistry();
 * reg.register({ name: "demo/echo", type: "query", handler: (x) => x });
 * const [a, b] = memoryTransportPair();
 * const server = new CallConnection(a, { router: reg });
 * const client = new CallConnection(b);
 * console.log(await client.call("demo/echo", { hi: 1 }));
 * await client.close();
 * await server.closed;
 * ```
 */
export function memoryTransportPair(): [EnvelopeTransport, EnvelopeTransport] {
  const a = new MemoryTransport();
  const b = new MemoryTransport();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class MemoryTransport implements EnvelopeTransport {
  peer: MemoryTransport | null = null;
  handlers: TransportHandlers | null = null;
  closed = false;
  backlog: Envelope[] = [];
  readonly bufferedAmount = 0;

  drained(): Promise<void> {
    return Promise.resolve();
  }

  send(envelope: Envelope): void {
    if (this.closed) return;
    const copy = JSON.parse(JSON.stringify(envelope)) as Envelope;
    const peer = this.peer!;
    queueMicrotask(() => peer.deliver(copy));
  }

  deliver(e: Envelope): void {
    if (this.closed) return;
    if (this.handlers) this.handlers.message(e);
    else this.backlog.push(e);
  }

  start(handlers: TransportHandlers): void {
    this.handlers = handlers;
    const b = this.backlog;
    this.backlog = [];
    for (const e of b) handlers.message(e);
  }

  close(error?: Error): void {
    if (this.closed) return;
    queueMicrotask(() => {
      if (this.closed) return;
      this.closed = true;
      this.handlers?.close(error);
      this.peer?.close();
    });
  }
}

/**
 * The parts of a Node.js `Duplex` (an ssh2 channel, a `node:tls` socket) that {@link fromNodeDuplex} uses.
 *
 * @example
 * ```ts
 * import { PassThrough } from "node:stream";
 * import type { NodeDuplexLike } from "./transport.ts";
 * const d: NodeDuplexLike = new PassThrough();
 * d.destroy();
 * ```
 */
export interface NodeDuplexLike {
  /** Ends the stream and releases it. */
  destroy(error?: Error): unknown;
}

/**
 * Adapts a Node.js `Duplex` (what ssh2 hands out for channels) to the
 * {@link ByteDuplex} the framed transport takes, with `Duplex.toWeb`.
 * `close` destroys the Node stream.
 *
 * @example
 * ```ts
 * import { PassThrough } from "node:stream";
 * import { fromNodeDuplex } from "./transport.ts";
 * const d = fromNodeDuplex(new PassThrough());
 * console.log(d.readable instanceof ReadableStream); // true
 * d.close?.();
 * ```
 */
export function fromNodeDuplex(duplex: NodeDuplexLike): ByteDuplex {
  const web = (NodeDuplex as unknown as {
    toWeb(
      d: unknown,
    ): { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
  }).toWeb(duplex);
  return {
    readable: web.readable,
    writable: web.writable,
    close: () => {
      try {
        duplex.destroy();
      } catch {
        // already gone
      }
    },
  };
}
