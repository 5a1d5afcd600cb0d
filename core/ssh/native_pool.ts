/**
 * Ready connections for the native data path over TLS, so that a new SOCKS
 * or `-L` connection costs one round trip instead of a TCP and TLS
 * handshake. A ready connection is an `alknet/tcp` stream whose first
 * header names a reserved host: the node checks its token, answers status
 * 0, and then waits (up to {@link NATIVE_STANDBY_IDLE_MS}) for an ordinary
 * header, which is handled as if it had come first.
 *
 * - `alknet-reuse` (tried first): every stream on the connection is framed
 *   (`native_reuse.ts`), and a stream whose two ends have passed gives the
 *   connection back to the pool for the next one: a busy client makes no
 *   handshake at all once the pool holds enough.
 * - `alknet-standby` (port 1; a node that refuses `alknet-reuse`): the
 *   connection carries one stream, unframed, and closes with it.
 *
 * A node that knows neither answers `forbidden` (an `alknet-*` host), and
 * the pool stops trying. The pool fills only while it is used (a
 * connection was taken in the last {@link StandbyPoolOptions.warmMs}),
 * keeps at most {@link StandbyPoolOptions.maxIdle} connections, and drops
 * one before the node would. Internal to `@alknet/core/ssh` (the native
 * data path of `connect()` uses it); the wire format is in
 * `docs/decisions/transport-native-tcp.md`.
 *
 * @module
 */

import { type ByteConn, closeQuietly, writeAll } from "../transport/stream.ts";
import {
  encodeNativeTcpHeader,
  NativeTcpError,
  NativeTcpStatus,
} from "../transport/native_header.ts";
import { type NativeStreamOpener, openNativeTcp, statusError } from "./native_client.ts";
import { lostStatus, readStatus } from "./native_status.ts";
import { NATIVE_REUSE_HOST, NATIVE_REUSE_PORT, ReusableStream } from "./native_reuse.ts";

/** The reserved host of a standby header. */
export const NATIVE_STANDBY_HOST = "alknet-standby";
/** The port of a standby header (any valid port; 1 by convention). */
export const NATIVE_STANDBY_PORT = 1;
/** How long a node keeps a standby connection waiting for its real header. */
export const NATIVE_STANDBY_IDLE_MS = 60_000;

/** Options of {@link standbyPool}. */
export interface StandbyPoolOptions {
  /** Connections the pool dials ahead to keep ready (default 2). */
  size?: number;
  /** Idle connections kept at most, counting those streams gave back (default 8). */
  maxIdle?: number;
  /** A standby connection older than this is closed instead of used (default 45 000 ms). */
  maxIdleMs?: number;
  /** The pool refills only within this long after a connection was taken (default 30 000 ms). */
  warmMs?: number;
  /** Deadline for the node's answer to a standby header (default 10 000 ms). */
  statusTimeoutMs?: number;
}

/** Native streams through a pool of standby connections. */
export interface StandbyPool {
  /**
   * Opens a stream to `host:port` as {@link openNativeTcp} does, on a
   * ready connection when there is one (once more on a fresh connection
   * when the ready one turns out to be closed).
   */
  open(token: string, host: string, port: number): Promise<ByteConn>;
  /** Closes every standby connection; later `open` calls dial directly. */
  close(): void;
}

/** A connection waiting for its next header; `reuse`: its streams are framed. */
interface Ready {
  conn: ByteConn;
  at: number;
  reuse: boolean;
}

/** Sends `header` and reads the one-byte status, bounded. */
async function exchange(
  conn: ByteConn,
  header: Uint8Array,
  ms: number,
): Promise<number | "ended" | "timeout"> {
  try {
    await writeAll(conn, header);
  } catch {
    return "ended";
  }
  return await statusOf(conn, ms);
}

/** {@link readStatus}, a failing read counting as the stream's end. */
function statusOf(conn: ByteConn, ms: number): Promise<number | "ended" | "timeout"> {
  return readStatus(conn, ms).catch(() => "ended" as const);
}

/**
 * A pool of standby connections over `dial` (one TLS connection each),
 * authenticated with `token()`.
 */
export function standbyPool(
  dial: NativeStreamOpener,
  token: () => string,
  options: StandbyPoolOptions = {},
): StandbyPool {
  const size = options.size ?? 2;
  const maxIdle = Math.max(size, options.maxIdle ?? 8);
  const maxIdleMs = options.maxIdleMs ?? 45_000;
  const warmMs = options.warmMs ?? 30_000;
  const statusMs = options.statusTimeoutMs ?? 10_000;
  const idle: Ready[] = [];
  let filling = 0;
  let lastUse = 0;
  // What the node accepts: reusable connections, standby ones, or neither.
  let mode: "reuse" | "standby" | "off" = "reuse";
  let closed = false;

  const keep = (ready: Ready) => {
    if (closed || idle.length >= maxIdle) return closeQuietly(ready.conn);
    idle.push(ready);
  };
  // A stream's connection after both its ends passed; bytes past the
  // node's end frame would be a broken node: not kept.
  const giveBack = (conn: ByteConn, leftover: Uint8Array) => {
    if (leftover.length > 0) return closeQuietly(conn);
    keep({ conn, at: Date.now(), reuse: true });
  };

  const standby = async (): Promise<void> => {
    let conn: ByteConn | undefined;
    const asked = mode;
    try {
      conn = await dial();
      const header = asked === "reuse"
        ? encodeNativeTcpHeader({
          token: token(),
          host: NATIVE_REUSE_HOST,
          port: NATIVE_REUSE_PORT,
        })
        : encodeNativeTcpHeader({
          token: token(),
          host: NATIVE_STANDBY_HOST,
          port: NATIVE_STANDBY_PORT,
        });
      const status = await exchange(conn, header, statusMs);
      if (status !== NativeTcpStatus.OK) {
        // Refused (a node without such connections, or the token): standby
        // after reuse, then stop trying.
        if (typeof status === "number" && mode === asked) {
          mode = asked === "reuse" ? "standby" : "off";
        }
        closeQuietly(conn);
        return;
      }
      keep({ conn, at: Date.now(), reuse: asked === "reuse" });
    } catch {
      // The node is unreachable now: the next use tries again.
      if (conn) closeQuietly(conn);
    }
  };

  const refill = () => {
    if (closed || mode === "off" || Date.now() - lastUse > warmMs) return;
    while (idle.length + filling < size) {
      filling++;
      standby().finally(() => filling--);
    }
  };

  const take = (): Ready | undefined => {
    while (idle.length > 0) {
      const s = idle.pop()!;
      if (Date.now() - s.at < maxIdleMs) return s;
      closeQuietly(s.conn);
    }
    return undefined;
  };

  return {
    async open(tok, host, port) {
      lastUse = Date.now();
      const ready = take();
      // Refilled once this connection has its answer: its handshakes
      // would otherwise compete with the one round trip it waits for.
      try {
        return await openOn(ready, tok, host, port);
      } finally {
        refill();
      }
    },
    close() {
      closed = true;
      for (const s of idle.splice(0)) closeQuietly(s.conn);
    },
  };

  async function openOn(
    ready: Ready | undefined,
    tok: string,
    host: string,
    port: number,
  ): Promise<ByteConn> {
    if (ready) {
      // Was the node still there? A stream that ends before any status
      // byte was closed while it waited: try once more on a fresh one.
      const status = await exchange(
        ready.conn,
        encodeNativeTcpHeader({ token: tok, host, port }),
        statusMs,
      );
      if (status === NativeTcpStatus.OK) {
        return ready.reuse ? new ReusableStream(ready.conn, giveBack) : ready.conn;
      }
      closeQuietly(ready.conn);
      if (status === "timeout") throw lostStatus(status);
      if (status !== "ended") throw statusError(status) ?? new NativeTcpError("unreachable");
    }
    if (mode === "reuse") {
      const fresh = await openReusable(tok, host, port);
      if (fresh) return fresh;
    }
    return await openNativeTcp(dial, tok, host, port);
  }

  /**
   * A fresh connection made reusable on the way: the reuse header and the
   * stream's in one write, two status bytes back. Null when the node
   * refused the reuse header (the pool stops asking for it) or closed
   * before the second answer: the caller asks again without reuse.
   */
  async function openReusable(tok: string, host: string, port: number): Promise<ByteConn | null> {
    const conn = await dial();
    const reuse = encodeNativeTcpHeader({
      token: tok,
      host: NATIVE_REUSE_HOST,
      port: NATIVE_REUSE_PORT,
    });
    const header = encodeNativeTcpHeader({ token: tok, host, port });
    const both = new Uint8Array(reuse.length + header.length);
    both.set(reuse);
    both.set(header, reuse.length);
    const first = await exchange(conn, both, statusMs);
    if (first !== NativeTcpStatus.OK) {
      closeQuietly(conn);
      if (typeof first !== "number") throw lostStatus(first);
      if (mode === "reuse") mode = "standby";
      return null;
    }
    const second = await statusOf(conn, statusMs);
    if (second === NativeTcpStatus.OK) return new ReusableStream(conn, giveBack);
    closeQuietly(conn);
    // Closed between the two answers (a node going away): once more, plainly.
    if (second === "ended") return null;
    if (second === "timeout") throw lostStatus(second);
    throw statusError(second) ?? new NativeTcpError("unreachable");
  }
}
