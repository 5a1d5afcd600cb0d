/**
 * Byte streams as the framed transport takes them ({@link ByteDuplex}):
 * from a `Deno.Conn` or any read/write/close stream (TLS, QUIC and iroh
 * streams, SSH channels from the transport layer), or from a Node.js
 * `Duplex`.
 *
 * @module
 */

import { Duplex as NodeDuplex } from "node:stream";

/**
 * A byte duplex: what TCP, TLS and SSH channels look like as web streams.
 *
 * @example
 * ```ts
 * import type { ByteDuplex } from "@alknet/call";
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * const loopback: ByteDuplex = { readable: pipe.readable, writable: pipe.writable };
 * console.log(loopback.readable === pipe.readable); // true
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
 * The least a byte stream needs for {@link duplexFromConn}: direct reads and
 * writes and a close (a TLS/QUIC stream from the transport layer, say).
 *
 * @example
 * ```ts
 * import type { ReadWriteConn } from "@alknet/call";
 * const conn: ReadWriteConn = {
 *   read: () => Promise.resolve(null),
 *   write: (b) => Promise.resolve(b.length),
 *   close: () => {},
 * };
 * console.log(typeof conn.read);
 * ```
 */
export interface ReadWriteConn {
  /** Reads into the buffer; resolves to the count or null at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of the buffer; resolves to the count written. */
  write(data: Uint8Array): Promise<number>;
  /** Closes both directions. */
  close(): void;
}

function pullingReadable(conn: ReadWriteConn): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const buf = new Uint8Array(64 * 1024);
      const n = await conn.read(buf).catch(() => null);
      if (n === null) c.close();
      else c.enqueue(buf.subarray(0, n));
    },
  }, { highWaterMark: 0 });
}

function pushingWritable(conn: ReadWriteConn): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      for (let off = 0; off < chunk.length;) off += await conn.write(chunk.subarray(off));
    },
  });
}

/** Sets TCP_NODELAY when `conn` is a TCP socket. */
export function noDelay(conn: unknown): void {
  const c = conn as { setNoDelay?: (v: boolean) => void };
  try {
    c.setNoDelay?.(true);
  } catch {
    // not a TCP socket
  }
}

/**
 * A {@link ByteDuplex} over a `Deno.Conn` (TCP or TLS), or any
 * {@link ReadWriteConn}, that reads and writes
 * the connection directly (its streams are only created if asked for) and
 * closes it when the transport closes. Use it for connections the endpoint
 * accepted itself, e.g. TLS connections with ALPN `alknet/call`.
 *
 * @example
 * ```ts
 * import { acceptCallStream, duplexFromConn, OperationRegistry } from "@alknet/call";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const registry = new OperationRegistry();
 * const accepting = listener.accept().then((conn) =>
 *   acceptCallStream(duplexFromConn(conn), { registry, authenticate: () => null })
 * );
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port });
 * client.close();
 * await (await accepting).closed;
 * listener.close();
 * ```
 */
export function duplexFromConn(conn: Deno.Conn | ReadWriteConn): ByteDuplex {
  noDelay(conn);
  let readable: ReadableStream<Uint8Array> | undefined;
  let writable: WritableStream<Uint8Array> | undefined;
  return {
    // Built only when asked for: the connection reads through `read`, and a
    // stream that pulled on its own would race those reads.
    get readable() {
      return readable ??= "readable" in conn ? conn.readable : pullingReadable(conn);
    },
    get writable() {
      return writable ??= "writable" in conn ? conn.writable : pushingWritable(conn);
    },
    read: (b) => conn.read(b),
    write: (b) => conn.write(b),
    close: () => {
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}

/**
 * The parts of a Node.js `Duplex` (an ssh2 channel, a `node:tls` socket) that {@link fromNodeDuplex} uses.
 *
 * @example
 * ```ts
 * import { PassThrough } from "node:stream";
 * import type { NodeDuplexLike } from "@alknet/call";
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
 * import { fromNodeDuplex } from "@alknet/call";
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
