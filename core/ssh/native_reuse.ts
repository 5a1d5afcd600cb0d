/**
 * Reusable native connections: after a header naming the reserved host
 * {@link NATIVE_REUSE_HOST} is accepted, every stream on the connection is
 * framed, so that its end does not end the connection and the next header
 * can follow on the same TLS session (no TCP or TLS handshake per forward,
 * as HTTP keep-alive). Each direction of a stream is a run of frames: a
 * 4-byte big-endian length, then that many bytes; length 0 ends the
 * direction (a half-close). When both ends were sent and received, the
 * connection is idle again: the client may send the next header. Anything
 * else (a reset, an error, a close before both ends) closes the whole
 * connection. The wire format is in `docs/decisions/transport-native-tcp.md`.
 *
 * Internal to `@alknet/core/ssh` (the native pool and the node use it).
 *
 * @module
 */

import type { ByteConn } from "../transport/stream.ts";
import { writeAll } from "../transport/stream.ts";
import { NativeTcpError } from "../transport/native_header.ts";

/** The reserved host of the header that makes a connection reusable. */
export const NATIVE_REUSE_HOST = "alknet-reuse";
/** The port of that header (any valid port; 1 by convention). */
export const NATIVE_REUSE_PORT = 1;
/** Length of a frame's prefix. */
export const FRAME_PREFIX = 4;
/** The longest frame either side accepts; a longer one closes the connection. */
export const MAX_FRAME = 4 * 1024 * 1024;

/** Frame prefixes and small payloads are read ahead into this much; large payloads are not. */
const READ_AHEAD = 4 * 1024;
const NONE = new Uint8Array(0);

/**
 * One stream on a reusable connection, as a {@link ByteConn}: writes are
 * framed, reads unframed, `closeWrite` sends the end frame. Once both ends
 * have passed, `onIdle` gets the connection (with any bytes read past the
 * peer's end frame) and this stream lets go of it; `close` before that
 * closes the connection. A caller that leaves {@link headroom} writable
 * bytes before its data and calls {@link writeInRoom} spares a copy.
 */
export class ReusableStream implements ByteConn {
  readonly headroom = FRAME_PREFIX;
  #conn: ByteConn;
  #onIdle: (conn: ByteConn, leftover: Uint8Array) => void;
  /** Bytes read from the connection and not yet consumed: `#ahead[#from..#to]`. */
  #ahead = NONE;
  #from = 0;
  #to = 0;
  /** Payload bytes of the current incoming frame not read yet. */
  #remaining = 0;
  #peerEnded = false;
  #ended = false;
  #writing = false;
  #released = false;
  #closed = false;
  #sendBuf: Uint8Array | undefined;

  /**
   * A stream on `conn` (already past the header and its OK status), whose
   * first incoming bytes may already be in `leftover`.
   */
  constructor(
    conn: ByteConn,
    onIdle: (conn: ByteConn, leftover: Uint8Array) => void,
    leftover?: Uint8Array,
  ) {
    this.#conn = conn;
    this.#onIdle = onIdle;
    if (leftover && leftover.length > 0) {
      this.#ahead = new Uint8Array(Math.max(READ_AHEAD, leftover.length));
      this.#ahead.set(leftover);
      this.#to = leftover.length;
    }
  }

  async read(p: Uint8Array): Promise<number | null> {
    if (p.length === 0) return 0;
    while (true) {
      if (this.#closed) throw new NativeTcpError("unreachable", "stream closed");
      if (this.#peerEnded) return null;
      const have = this.#to - this.#from;
      if (this.#remaining > 0) {
        if (have > 0) {
          const n = Math.min(p.length, have, this.#remaining);
          p.set(this.#ahead.subarray(this.#from, this.#from + n));
          this.#from += n;
          this.#remaining -= n;
          return n;
        }
        // Nothing buffered: the payload goes straight into the caller's buffer.
        const n = await this.#conn.read(p.subarray(0, Math.min(p.length, this.#remaining)));
        if (n === null) throw this.#broken("the connection ended inside a frame");
        this.#remaining -= n;
        return n;
      }
      if (have >= FRAME_PREFIX) {
        const a = this.#ahead;
        const f = this.#from;
        const len = ((a[f] << 24) | (a[f + 1] << 16) | (a[f + 2] << 8) | a[f + 3]) >>> 0;
        this.#from += FRAME_PREFIX;
        if (len > MAX_FRAME) throw this.#broken(`a frame of ${len} bytes (at most ${MAX_FRAME})`);
        if (len === 0) {
          this.#peerEnded = true;
          this.#idleIfDone();
          return null;
        }
        this.#remaining = len;
        continue;
      }
      await this.#fill();
    }
  }

  /** Reads more into `#ahead` (after moving what is left to its start). */
  async #fill(): Promise<void> {
    if (this.#ahead.length === 0) this.#ahead = new Uint8Array(READ_AHEAD);
    if (this.#from > 0) {
      this.#ahead.copyWithin(0, this.#from, this.#to);
      this.#to -= this.#from;
      this.#from = 0;
    }
    const n = await this.#conn.read(this.#ahead.subarray(this.#to));
    if (n === null) {
      throw this.#broken(
        this.#to === 0
          ? "the connection ended before the stream did"
          : "the connection ended inside a frame",
      );
    }
    this.#to += n;
  }

  async write(p: Uint8Array): Promise<number> {
    this.#writable();
    if (p.length === 0) return 0;
    const data = p.length > MAX_FRAME ? p.subarray(0, MAX_FRAME) : p;
    const need = data.length + FRAME_PREFIX;
    let buf = this.#writing ? undefined : this.#sendBuf;
    if (!buf || buf.length < need) {
      buf = new Uint8Array(Math.max(need, READ_AHEAD));
      if (!this.#writing) this.#sendBuf = buf;
    }
    buf.set(data, FRAME_PREFIX);
    await this.#send(buf.subarray(0, need));
    return data.length;
  }

  /**
   * Writes all of `p`, whose buffer has {@link headroom} writable bytes
   * just before it: the frame's prefix goes there (no copy).
   */
  async writeInRoom(p: Uint8Array): Promise<void> {
    if (p.byteOffset < FRAME_PREFIX || p.length > MAX_FRAME) return await writeAll(this, p);
    this.#writable();
    if (p.length === 0) return;
    await this.#send(
      new Uint8Array(p.buffer, p.byteOffset - FRAME_PREFIX, p.length + FRAME_PREFIX),
    );
  }

  #writable(): void {
    if (this.#ended || this.#closed) {
      throw new NativeTcpError("unreachable", "stream closed for writing");
    }
  }

  /** Fills in `frame`'s prefix (its length less the prefix) and writes it whole. */
  async #send(frame: Uint8Array): Promise<void> {
    const len = frame.length - FRAME_PREFIX;
    frame[0] = len >>> 24;
    frame[1] = (len >>> 16) & 255;
    frame[2] = (len >>> 8) & 255;
    frame[3] = len & 255;
    this.#writing = true;
    try {
      await writeAll(this.#conn, frame);
    } catch (e) {
      this.close();
      throw e;
    } finally {
      this.#writing = false;
    }
  }

  /** Sends the end frame (a half-close); the connection stays open. */
  async closeWrite(): Promise<void> {
    if (this.#ended || this.#closed) return;
    this.#ended = true;
    await this.#send(new Uint8Array(FRAME_PREFIX));
    this.#idleIfDone();
  }

  /**
   * Closes the stream: a no-op once the connection went back idle, else
   * the connection is closed (the peer sees the stream reset).
   */
  close(): void {
    if (this.#released || this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }

  #idleIfDone(): void {
    if (!this.#ended || !this.#peerEnded || this.#released || this.#closed) return;
    this.#released = true;
    this.#onIdle(this.#conn, this.#ahead.slice(this.#from, this.#to));
  }

  #broken(why: string): NativeTcpError {
    this.close();
    return new NativeTcpError("malformed", why);
  }
}
