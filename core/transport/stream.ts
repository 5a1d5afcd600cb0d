/**
 * Byte-stream plumbing: a Deno connection seen as a Node `Duplex` (what ssh2
 * speaks), and relays that move bytes between two streams with backpressure
 * and without copying on the hot path more than once.
 *
 * @module
 */

import { Duplex } from "node:stream";
import { Buffer } from "node:buffer";

/**
 * The parts of a Deno connection the adapters need (TCP, TLS, Unix, QUIC-backed).
 *
 * @example
 * ```ts
 * import type { ByteConn } from "@alknet/core/transport";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * // a Deno.TcpConn is a ByteConn
 * const conn: ByteConn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const peer = await listener.accept();
 * await conn.write(new TextEncoder().encode("hi"));
 * console.log(await peer.read(new Uint8Array(8))); // 2
 * conn.close();
 * peer.close();
 * listener.close();
 * ```
 */
export interface ByteConn {
  /** Reads into `p`; resolves to the count read or `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some of `p`; resolves to the count written. */
  write(p: Uint8Array): Promise<number>;
  /** Closes both directions. */
  close(): void;
  /** Half-closes the sending side, when the transport supports it. */
  closeWrite?(): Promise<void>;
  /**
   * Bytes a framing connection may overwrite just before the data given to
   * {@link writeInRoom} (its frame prefix goes there instead of a copy).
   */
  readonly headroom?: number;
  /** Writes all of `p`, whose buffer has {@link headroom} writable bytes before it. */
  writeInRoom?(p: Uint8Array): Promise<void>;
}

const READ_SIZE = 64 * 1024;
/** A read at least this long hands its buffer over instead of being copied out. */
const READ_HANDOVER = 16 * 1024;
/** The first chunk of a relay direction, and the largest it grows to while reads fill it. */
const RELAY_FIRST_CHUNK = 16 * 1024;
const RELAY_MAX_CHUNK = 1024 * 1024;
const EMPTY = new Uint8Array(0);

/**
 * One read buffer for a stream of reads handed on as `Buffer`s: a small
 * read is copied out of it (into Node's pooled small buffers), a large one
 * takes it (the receiver may keep the chunk) and the next read gets a new
 * one.
 */
class ReadBuffer {
  #buf: Uint8Array | undefined;

  /** Where the next read goes. */
  get space(): Uint8Array {
    return this.#buf ??= new Uint8Array(READ_SIZE);
  }

  /** The `n` bytes just read into {@link space}. */
  take(n: number): Buffer {
    const buf = this.#buf!;
    if (n < READ_HANDOVER) return Buffer.from(buf.subarray(0, n));
    this.#buf = undefined;
    return Buffer.from(buf.buffer, 0, n);
  }
}
/** First-size relay buffers of finished relays, for new ones (not zeroed again). */
const spareBuffers: Uint8Array[] = [];
const SPARE_BUFFERS = 64;

function relayBuffer(size: number): Uint8Array {
  return (size === RELAY_FIRST_CHUNK ? spareBuffers.pop() : undefined) ?? new Uint8Array(size);
}

/** Keeps `buf` for another relay; only idle buffers (no read or write holds them). */
function recycle(buf: Uint8Array): void {
  if (buf.length === RELAY_FIRST_CHUNK && spareBuffers.length < SPARE_BUFFERS) {
    spareBuffers.push(buf);
  }
}

/**
 * Closes `c`, ignoring the error of closing something already closed.
 *
 * @example
 * ```ts
 * import { closeQuietly } from "@alknet/core/transport";
 * const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * closeQuietly(l);
 * closeQuietly(l); // no error the second time
 * ```
 */
export function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch { /* already closed */ }
}

/**
 * Writes every byte of `data` to `conn`.
 *
 * @example
 * ```ts
 * import { writeAll } from "@alknet/core/transport";
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 80 }).catch(() => null);
 * if (conn) await writeAll(conn, new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
 * ```
 */
export async function writeAll(conn: ByteConn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(off === 0 ? data : data.subarray(off));
}

/**
 * Extra fields ssh2 and loggers read from a socket.
 *
 * @example
 * ```ts
 * import type { DuplexInfo } from "@alknet/core/transport";
 * const info: DuplexInfo = {
 *   remoteAddress: "192.0.2.1",
 *   remotePort: 50000,
 *   prefix: new Uint8Array(0),
 * };
 * console.log(info.remoteAddress); // "192.0.2.1"
 * ```
 */
export interface DuplexInfo {
  /** Peer IP address. */
  remoteAddress?: string;
  /** Peer port. */
  remotePort?: number;
  /** Bytes already read from the connection (a peeked prefix) to deliver first. */
  prefix?: Uint8Array;
}

/**
 * A Node `Duplex` over a Deno connection, for ssh2. Reads are pulled only
 * when the consumer wants more (backpressure); queued writes are coalesced
 * into one `write` call; `end()` half-closes; `destroy()` closes.
 *
 * @example
 * ```ts
 * import { connToDuplex } from "@alknet/core/transport";
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 22 }).catch(() => null);
 * if (conn) {
 *   const sock = connToDuplex(conn, { remoteAddress: "127.0.0.1", remotePort: 22 });
 *   sock.destroy();
 * }
 * ```
 */
export function connToDuplex(conn: ByteConn, info: DuplexInfo = {}): Duplex & DuplexInfo {
  let reading = false;
  const reads = new ReadBuffer();
  let closed = false;
  const closeConn = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  const duplex = new Duplex({
    allowHalfOpen: false,
    read() {
      if (reading) return;
      reading = true;
      (async () => {
        try {
          while (true) {
            const n = await conn.read(reads.space);
            if (n === null) {
              duplex.push(null);
              return;
            }
            if (!duplex.push(reads.take(n))) break;
          }
        } catch (e) {
          if (!duplex.destroyed) duplex.destroy(e as Error);
        } finally {
          reading = false;
        }
      })();
    },
    write(chunk: Buffer, _enc, cb) {
      writeAll(conn, chunk).then(() => cb(), (e) => cb(e as Error));
    },
    writev(chunks, cb) {
      const data = chunks.length === 1
        ? chunks[0].chunk as Buffer
        : Buffer.concat(chunks.map((c) => c.chunk as Buffer));
      writeAll(conn, data).then(() => cb(), (e) => cb(e as Error));
    },
    final(cb) {
      if (conn.closeWrite) conn.closeWrite().then(() => cb(), () => cb());
      else cb();
    },
    destroy(err, cb) {
      closeConn();
      cb(err);
    },
  });
  duplex.on("end", () => {
    if (duplex.writableFinished) closeConn();
  });
  duplex.on("finish", () => {
    if (duplex.readableEnded) closeConn();
  });
  if (info.prefix && info.prefix.length > 0) duplex.unshift(Buffer.from(info.prefix));
  // ssh2 writes a packet in pieces (its encrypted length, then the rest):
  // what is written in one run of code goes out in one socket write
  // (corked until the microtasks of this run), not one segment per piece.
  let corked = false;
  const uncork = () => {
    corked = false;
    duplex.uncork();
  };
  const write = duplex.write;
  duplex.write = function (this: Duplex, ...args: Parameters<Duplex["write"]>): boolean {
    if (!corked) {
      corked = true;
      duplex.cork();
      queueMicrotask(uncork);
    }
    return write.apply(this, args);
  } as Duplex["write"];
  return Object.assign(duplex, {
    remoteAddress: info.remoteAddress,
    remotePort: info.remotePort,
    setNoDelay() {
      return duplex;
    },
    setKeepAlive() {
      return duplex;
    },
  });
}

/**
 * Ends a relayed channel. An ssh2 channel's `destroy()` is `end()` then
 * `close()`, and `end()` on an ended stream builds an
 * ERR_STREAM_ALREADY_FINISHED error (stack and all: 6 % of an SSH client's
 * CPU per new connection); once its writable side has ended, `close()`
 * alone is what is left to do.
 */
function endChannel(channel: Duplex): void {
  if (channel.destroyed) return;
  const closable = channel as Duplex & { close?: unknown };
  if (channel.writableEnded && typeof closable.close === "function") closable.close();
  else channel.destroy();
}

function waitDrain(stream: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

/**
 * Moves bytes both ways between a Deno connection and a Node duplex (an SSH
 * channel) until both directions have ended or either side fails; then
 * closes both. `initial` bytes (read ahead from `conn`) are sent first.
 * Resolves when the relay is over; never rejects.
 *
 * @example
 * ```ts
 * import { relayConnDuplex } from "@alknet/core/transport";
 * import { PassThrough } from "node:stream";
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 80 }).catch(() => null);
 * if (conn) await relayConnDuplex(conn, new PassThrough());
 * ```
 */
export function relayConnDuplex(
  conn: ByteConn,
  channel: Duplex,
  initial?: Uint8Array,
): Promise<void> {
  let finished = false;
  let connClosed = false;
  const closeAll = () => {
    if (finished) return;
    finished = true;
    if (!connClosed) {
      connClosed = true;
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    endChannel(channel);
  };
  const upstream = (async () => {
    if (initial && initial.length > 0) {
      if (!channel.write(Buffer.from(initial))) await waitDrain(channel);
    }
    // The channel may keep a chunk until its window opens.
    const reads = new ReadBuffer();
    while (!finished) {
      const n = await conn.read(reads.space);
      if (n === null) break;
      if (!channel.write(reads.take(n))) await waitDrain(channel);
    }
    if (!channel.destroyed) channel.end();
  })();
  // The write in flight towards `conn`: a channel closing right after its
  // end (ssh2 emits 'close' on 'end') must not cut it off.
  let writing = Promise.resolve();
  const downstream = new Promise<void>((resolve, reject) => {
    channel.on("data", (chunk: Buffer) => {
      channel.pause();
      writing = writeAll(conn, chunk).then(() => {
        if (!finished) channel.resume();
      }, reject);
    });
    channel.on("end", () => {
      writing.then(async () => {
        if (conn.closeWrite) await conn.closeWrite().catch(() => {});
        resolve();
      }, reject);
    });
    channel.on("error", reject);
  });
  const channelClosed = new Promise<void>((resolve) =>
    channel.on("close", () => writing.then(resolve, resolve))
  );
  return Promise.race([Promise.all([upstream, downstream]), channelClosed]).then(
    closeAll,
    closeAll,
  );
}

/**
 * Moves bytes both ways between two Deno connections (used for direct
 * dials, e.g. a native data path), then closes both. Each direction reads
 * the next chunk while the previous one is being written (two buffers of
 * 16 KiB, doubled up to 1 MiB while reads keep filling them); a failed
 * write closes both connections, which ends the pending reads. Never
 * rejects.
 *
 * @example
 * ```ts
 * import { relayConns } from "@alknet/core/transport";
 * const a = await Deno.connect({ hostname: "127.0.0.1", port: 80 }).catch(() => null);
 * const b = await Deno.connect({ hostname: "127.0.0.1", port: 81 }).catch(() => null);
 * if (a && b) await relayConns(a, b);
 * ```
 */
export async function relayConns(a: ByteConn, b: ByteConn): Promise<void> {
  const closeBoth = () => {
    closeQuietly(a);
    closeQuietly(b);
  };
  const pump = async (from: ByteConn, to: ByteConn) => {
    // Small at first (a new connection zeroes no 64 KiB buffers), the
    // second one only once a write is in flight.
    const bufs = [relayBuffer(RELAY_FIRST_CHUNK), EMPTY];
    // A framing `to` writes its prefix into the room left before the data.
    const room = to.writeInRoom && to.headroom ? to.headroom : 0;
    let i = 0;
    let writing: Promise<void> | undefined;
    while (true) {
      if (bufs[i].length === 0) bufs[i] = relayBuffer(bufs[i ^ 1].length);
      const buf = bufs[i];
      const n = await from.read(room ? buf.subarray(room) : buf);
      if (writing) await writing;
      if (n === null) break;
      if (n === 0) continue;
      writing = room
        ? to.writeInRoom!(buf.subarray(room, room + n))
        : writeAll(to, buf.subarray(0, n));
      // Noticed at once, not at the next read's end: the read may never end.
      writing.catch(closeBoth);
      // A full buffer means a bulk transfer: fewer, larger reads and writes
      // cost less CPU per byte (measured: 1 MiB about half of 64 KiB).
      if (n + room === buf.length && buf.length < RELAY_MAX_CHUNK) {
        bufs[i] = new Uint8Array(buf.length * 2);
      }
      i ^= 1;
    }
    // Both idle now (the last write was awaited): another relay may use them.
    recycle(bufs[0]);
    recycle(bufs[1]);
    if (to.closeWrite) await to.closeWrite().catch(() => {});
  };
  await Promise.all([pump(a, b).catch(closeBoth), pump(b, a).catch(closeBoth)]);
  closeBoth();
}
