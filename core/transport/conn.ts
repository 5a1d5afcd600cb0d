/**
 * Adapters that present every carrier as a {@link ByteConn}: a Node
 * `Duplex` (node:tls sockets), a QUIC bidirectional stream, a server-side
 * WebSocket (`Deno.upgradeWebSocket`) and an `npm:ws` client socket, plus a
 * wrapper that replays already-read bytes first.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import { Buffer } from "node:buffer";
import type { ByteConn } from "./stream.ts";

/** Bytes buffered from a carrier before reading from it is paused. */
const HIGH_WATER = 1024 * 1024;
/** What a QUIC stream read takes at once: at first, and at most (it doubles while reads fill it). */
const QUIC_FIRST_READ = 16 * 1024;
const QUIC_READ_SIZE = 256 * 1024;

/** A queue of received chunks that `read(p)` drains into the caller's buffer. */
class ChunkQueue {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  get size(): number {
    return this.#size;
  }

  push(chunk: Uint8Array): void {
    if (this.#ended || chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    this.#notify();
  }

  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#notify();
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#ended) {
        if (this.#error) throw this.#error;
        return null;
      }
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    let n = 0;
    while (n < p.length && this.#chunks.length > 0) {
      const head = this.#chunks[0];
      const take = Math.min(head.length, p.length - n);
      p.set(take === head.length ? head : head.subarray(0, take), n);
      n += take;
      if (take === head.length) this.#chunks.shift();
      else this.#chunks[0] = head.subarray(take);
    }
    this.#size -= n;
    return n;
  }
}

/**
 * Pauses and resumes the raw source under a wrapping stream (TCP under TLS).
 *
 * @example
 * ```ts
 * import type { FlowControl } from "@alknet/core/transport";
 * import { PassThrough } from "node:stream";
 * const raw = new PassThrough();
 * const fc: FlowControl = { pause: () => raw.pause(), resume: () => raw.resume() };
 * fc.pause();
 * ```
 */
export interface FlowControl {
  /** Stop reading from the network. */
  pause(): void;
  /** Resume reading. */
  resume(): void;
}

/**
 * A {@link ByteConn} over a Node `Duplex` (a `node:tls` socket, an ssh2
 * channel, ...). With `source`, the duplex is read in flowing mode and
 * backpressure pauses `source` (the TCP stream under a TLS socket). Reading pauses the duplex when 1 MiB is buffered; writes
 * wait for `drain`; `closeWrite` ends the writable side; `close` destroys.
 *
 * @example
 * ```ts
 * import { PassThrough } from "node:stream";
 * import { duplexToConn } from "@alknet/core/transport";
 * const conn = duplexToConn(new PassThrough());
 * await conn.write(new Uint8Array([1, 2, 3]));
 * const buf = new Uint8Array(8);
 * console.log(await conn.read(buf)); // 3
 * conn.close();
 * ```
 */
export function duplexToConn(duplex: Duplex, source?: FlowControl): ByteConn {
  const queue = new ChunkQueue();
  let paused = false;
  if (source) {
    // Flowing reads; backpressure goes to the underlying source instead.
    duplex.on("data", (chunk: Buffer | string) => {
      const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
      queue.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      if (!paused && queue.size > HIGH_WATER) {
        paused = true;
        source.pause();
      }
    });
  }
  // Pull mode ('readable' + read()) rather than 'data' + pause(): Node keeps
  // the backpressure, and the end of stream is never stuck behind a pause.
  const pull = () => {
    if (source) {
      if (paused && queue.size < HIGH_WATER / 2) {
        paused = false;
        source.resume();
      }
      return;
    }
    while (queue.size < HIGH_WATER) {
      const chunk: Buffer | string | null = duplex.read();
      if (chunk === null) return;
      const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
      queue.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }
  };
  if (!source) duplex.on("readable", pull);
  duplex.on("end", () => queue.end());
  duplex.on("error", (e: Error) => queue.end(e));
  duplex.on("close", () => queue.end());
  const waitDrain = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        duplex.off("drain", done);
        duplex.off("close", done);
        resolve();
      };
      duplex.on("drain", done);
      duplex.on("close", done);
    });
  return {
    async read(p) {
      const n = await queue.read(p);
      if (queue.size < HIGH_WATER / 2) pull();
      return n;
    },
    async write(p) {
      if (duplex.destroyed || duplex.writableEnded) {
        throw new Deno.errors.BrokenPipe("connection is closed for writing");
      }
      if (!duplex.write(Buffer.from(p))) await waitDrain();
      if (duplex.destroyed) throw new Deno.errors.BrokenPipe("connection closed while writing");
      return p.length;
    },
    closeWrite() {
      return new Promise<void>((resolve) => {
        if (duplex.destroyed || duplex.writableFinished) return resolve();
        duplex.end(() => resolve());
        duplex.once("close", () => resolve());
      });
    },
    close() {
      queue.end();
      duplex.destroy();
    },
  };
}

/**
 * A {@link ByteConn} over one QUIC bidirectional stream. `closeWrite` sends
 * FIN; `close` stops both directions and then runs `onClose` (for example
 * to close the QUIC connection that carried only this stream).
 *
 * @example
 * ```ts
 * import { quicStreamConn } from "@alknet/core/transport";
 * // const stream = await quicConn.createBidirectionalStream();
 * // const conn = quicStreamConn(stream, () => quicConn.close());
 * console.log(typeof quicStreamConn); // "function"
 * ```
 */
export function quicStreamConn(
  stream: Deno.QuicBidirectionalStream,
  onClose?: () => void,
): ByteConn {
  // A BYOB reader fills our own scratch buffer (no chunk allocated per read).
  let byob: ReadableStreamBYOBReader | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    byob = stream.readable.getReader({ mode: "byob" });
  } catch {
    reader = stream.readable.getReader();
  }
  let scratch = new Uint8Array(0);
  let scratchSize = QUIC_FIRST_READ;
  const writer = stream.writable.getWriter();
  let leftover: Uint8Array | undefined;
  let writeClosed = false;
  let closed = false;
  const next = async (want: number): Promise<Uint8Array | null> => {
    if (byob) {
      if (scratch.length < scratchSize) scratch = new Uint8Array(scratchSize);
      const asked = Math.min(want, scratch.length);
      const r = await byob.read(new Uint8Array(scratch.buffer, 0, asked));
      if (r.done || !r.value) return null;
      // The read took the buffer over; the view it returned is ours again.
      scratch = new Uint8Array(r.value.buffer);
      // Filled: a bulk transfer; read more at once next time.
      if (r.value.length === asked && asked === scratch.length) {
        scratchSize = Math.min(scratchSize * 2, QUIC_READ_SIZE);
      }
      return r.value;
    }
    const r = await reader!.read();
    return r.done ? null : r.value;
  };
  return {
    async read(p) {
      if (!leftover || leftover.length === 0) {
        let chunk: Uint8Array | null;
        try {
          chunk = await next(p.length);
        } catch (e) {
          if (closed) return null;
          throw e;
        }
        if (chunk === null) return null;
        leftover = chunk;
      }
      const n = Math.min(p.length, leftover.length);
      p.set(leftover.subarray(0, n));
      leftover = leftover.subarray(n);
      return n;
    },
    async write(p) {
      if (writeClosed || closed) throw new Deno.errors.BrokenPipe("stream is closed for writing");
      // Not copied: like Deno.Conn's, a write owns `p` until it resolves,
      // and a QUIC stream has taken the bytes by then.
      await writer.write(p);
      return p.length;
    },
    async closeWrite() {
      if (writeClosed || closed) return;
      writeClosed = true;
      await writer.close().catch(() => {});
    },
    close() {
      if (closed) return;
      closed = true;
      (byob ?? reader)!.cancel().catch(() => {});
      if (!writeClosed) writer.abort().catch(() => {});
      writeClosed = true;
      try {
        onClose?.();
      } catch { /* already closed */ }
    },
  };
}

/**
 * A {@link ByteConn} over a server-side WebSocket (`Deno.upgradeWebSocket`):
 * each binary message carries bytes; text messages are a protocol error.
 * WebSockets cannot half-close, so `closeWrite` closes the socket.
 *
 * @example
 * ```ts
 * import { webSocketConn } from "@alknet/core/transport";
 * // const { socket, response } = Deno.upgradeWebSocket(request);
 * // const conn = webSocketConn(socket);
 * console.log(typeof webSocketConn); // "function"
 * ```
 */
export function webSocketConn(socket: WebSocket): ByteConn {
  socket.binaryType = "arraybuffer";
  const queue = new ChunkQueue();
  socket.addEventListener("message", (ev: MessageEvent) => {
    if (ev.data instanceof ArrayBuffer) queue.push(new Uint8Array(ev.data));
    else {
      queue.end(new Deno.errors.InvalidData("text message on a byte-stream WebSocket"));
      closeSocket();
    }
  });
  socket.addEventListener("close", () => queue.end());
  socket.addEventListener("error", () => queue.end());
  const closeSocket = () => {
    try {
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        socket.close(1000);
      }
    } catch { /* closed */ }
  };
  const opened = socket.readyState === WebSocket.OPEN
    ? Promise.resolve()
    : new Promise<void>((resolve) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("close", () => resolve(), { once: true });
    });
  return {
    read: (p) => queue.read(p),
    async write(p) {
      await opened;
      if (socket.readyState !== WebSocket.OPEN) {
        throw new Deno.errors.BrokenPipe("WebSocket is closed");
      }
      socket.send(p.slice());
      // Bounded wait for the send buffer to drain (no event exists for it).
      for (let i = 0; i < 10_000 && socket.bufferedAmount > HIGH_WATER; i++) {
        if (socket.readyState !== WebSocket.OPEN) break;
        await new Promise((r) => setTimeout(r, 1));
      }
      return p.length;
    },
    closeWrite() {
      // No half-close in WebSocket: ending the sending side closes it.
      closeSocket();
      return Promise.resolve();
    },
    close() {
      queue.end();
      closeSocket();
    },
  };
}

/**
 * The subset of an `npm:ws` client socket that {@link wsClientConn} uses.
 *
 * @example
 * ```ts
 * import type { WsClientSocket } from "@alknet/core/transport";
 * const closeIt = (ws: WsClientSocket) => ws.close(1000);
 * console.log(typeof closeIt); // "function"
 * ```
 */
export interface WsClientSocket {
  /** Sends one binary message; `cb` runs when it was written or failed. */
  send(data: Uint8Array, options: { binary: boolean }, cb: (err?: Error) => void): void;
  /** Bytes queued but not yet written. */
  readonly bufferedAmount: number;
  /** Stops reading from the network. */
  pause(): void;
  /** Resumes reading. */
  resume(): void;
  /** Closes the WebSocket. */
  close(code?: number): void;
  /** Destroys the socket without a closing handshake. */
  terminate(): void;
  /** Event subscription. */
  on(event: string, fn: (...args: never[]) => void): unknown;
}

/**
 * A {@link ByteConn} over an open `npm:ws` client socket (binary messages).
 * Reading pauses the socket when 1 MiB is buffered; writes wait for the
 * socket when more than 1 MiB is queued.
 *
 * @example
 * ```ts
 * import { wsClientConn } from "@alknet/core/transport";
 * // const ws = new WebSocket("ws://127.0.0.1:8080/alknet/ssh"); (npm:ws, after "open")
 * // const conn = wsClientConn(ws);
 * console.log(typeof wsClientConn); // "function"
 * ```
 */
export function wsClientConn(ws: WsClientSocket): ByteConn {
  const queue = new ChunkQueue();
  let paused = false;
  let closed = false;
  ws.on(
    "message",
    ((data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (!isBinary) {
        queue.end(new Deno.errors.InvalidData("text message on a byte-stream WebSocket"));
        ws.terminate();
        return;
      }
      const buf = Array.isArray(data)
        ? Buffer.concat(data)
        : data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : data;
      queue.push(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
      if (queue.size > HIGH_WATER && !paused) {
        paused = true;
        ws.pause();
      }
    }) as (...args: never[]) => void,
  );
  ws.on("close", () => {
    closed = true;
    queue.end();
  });
  ws.on("error", () => {
    closed = true;
    queue.end();
  });
  let lastSend: Promise<void> = Promise.resolve();
  return {
    async read(p) {
      const n = await queue.read(p);
      if (paused && queue.size < HIGH_WATER / 2) {
        paused = false;
        ws.resume();
      }
      return n;
    },
    async write(p) {
      if (closed) throw new Deno.errors.BrokenPipe("WebSocket is closed");
      lastSend = new Promise<void>((resolve, reject) => {
        ws.send(p.slice(), { binary: true }, (err) => err ? reject(err) : resolve());
      });
      lastSend.catch(() => {});
      if (ws.bufferedAmount > HIGH_WATER) await lastSend;
      return p.length;
    },
    async closeWrite() {
      // No half-close in WebSocket: ending the sending side closes it.
      await lastSend.catch(() => {});
      if (closed) return;
      try {
        ws.close(1000);
      } catch {
        ws.terminate();
      }
    },
    close() {
      if (closed) return;
      closed = true;
      queue.end();
      try {
        ws.close(1000);
      } catch {
        ws.terminate();
      }
    },
  };
}

/**
 * Wraps `conn` so that `prefix` (bytes already read, e.g. by a protocol
 * peek) is returned by the first reads.
 *
 * @example
 * ```ts
 * import { prefixedConn } from "@alknet/core/transport";
 * import { duplexToConn } from "@alknet/core/transport";
 * import { PassThrough } from "node:stream";
 * const conn = prefixedConn(duplexToConn(new PassThrough()), new Uint8Array([83, 83, 72]));
 * const buf = new Uint8Array(8);
 * console.log(await conn.read(buf)); // 3
 * conn.close();
 * ```
 */
export function prefixedConn(conn: ByteConn, prefix: Uint8Array): ByteConn {
  if (prefix.length === 0) return conn;
  let rest: Uint8Array | undefined = prefix;
  return {
    read(p) {
      if (rest && rest.length > 0) {
        const n = Math.min(p.length, rest.length);
        p.set(rest.subarray(0, n));
        rest = rest.subarray(n);
        return Promise.resolve(n);
      }
      return conn.read(p);
    },
    write: (p) => conn.write(p),
    close: () => conn.close(),
    closeWrite: conn.closeWrite ? () => conn.closeWrite!() : undefined,
  };
}

/**
 * Wraps `conn` so `onClose` runs once when it is closed (used to track open
 * connections for shutdown); closing it twice is harmless.
 *
 * @example
 * ```ts
 * import { duplexToConn, trackedConn } from "@alknet/core/transport";
 * import { PassThrough } from "node:stream";
 * const conn = trackedConn(duplexToConn(new PassThrough()), () => console.log("closed"));
 * conn.close();
 * ```
 */
export function trackedConn(conn: ByteConn, onClose: () => void): ByteConn {
  let done = false;
  return {
    read: (p) => conn.read(p),
    write: (p) => conn.write(p),
    closeWrite: conn.closeWrite ? () => conn.closeWrite!() : undefined,
    close() {
      // Idempotent: the endpoint's shutdown and the handler may both close.
      if (done) return;
      done = true;
      onClose();
      try {
        conn.close();
      } catch { /* already closed underneath */ }
    },
  };
}
