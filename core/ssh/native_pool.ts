/**
 * Standby connections for the native data path over TLS, so that a new
 * SOCKS or `-L` connection costs one round trip instead of a TCP and TLS
 * handshake. A standby connection is an `alknet/tcp` stream whose first
 * header names the reserved host `alknet-standby` (port 1): the node checks
 * its token, answers status 0, and then waits (up to
 * {@link NATIVE_STANDBY_IDLE_MS}) for a second, ordinary header, which is
 * handled as if it had come first. A node that does not know standby
 * connections answers `forbidden` (an `alknet-*` host), and the pool stops
 * trying.
 *
 * The pool fills only while it is used (a connection was taken in the last
 * {@link StandbyPoolOptions.warmMs}), and drops a standby connection before
 * the node would. Internal to `@alknet/core/ssh` (the native data path of
 * `connect()` uses it); the wire format is in
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
import { Deadline, TIMED_OUT } from "../util/timeout.ts";

/** The reserved host of a standby header. */
export const NATIVE_STANDBY_HOST = "alknet-standby";
/** The port of a standby header (any valid port; 1 by convention). */
export const NATIVE_STANDBY_PORT = 1;
/** How long a node keeps a standby connection waiting for its real header. */
export const NATIVE_STANDBY_IDLE_MS = 60_000;

/** Options of {@link standbyPool}. */
export interface StandbyPoolOptions {
  /** Standby connections kept ready (default 2). */
  size?: number;
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
   * standby connection when one is ready (once more on a fresh connection
   * when the standby one turns out to be closed).
   */
  open(token: string, host: string, port: number): Promise<ByteConn>;
  /** Closes every standby connection; later `open` calls dial directly. */
  close(): void;
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
  const one = new Uint8Array(1);
  const deadline = new Deadline(ms);
  try {
    let n: number | null | typeof TIMED_OUT = 0;
    while (n === 0) n = await deadline.race(conn.read(one));
    return n === 1 ? one[0] : n === TIMED_OUT ? "timeout" : "ended";
  } catch {
    return "ended";
  } finally {
    deadline.clear();
  }
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
  const maxIdleMs = options.maxIdleMs ?? 45_000;
  const warmMs = options.warmMs ?? 30_000;
  const statusMs = options.statusTimeoutMs ?? 10_000;
  const idle: { conn: ByteConn; at: number }[] = [];
  let filling = 0;
  let lastUse = 0;
  let unsupported = false;
  let closed = false;

  const standby = async (): Promise<void> => {
    let conn: ByteConn | undefined;
    try {
      conn = await dial();
      const header = encodeNativeTcpHeader({
        token: token(),
        host: NATIVE_STANDBY_HOST,
        port: NATIVE_STANDBY_PORT,
      });
      const status = await exchange(conn, header, statusMs);
      if (status !== NativeTcpStatus.OK) {
        // Refused (a node without standby connections, or the token): stop trying.
        if (typeof status === "number") unsupported = true;
        closeQuietly(conn);
        return;
      }
      if (closed) return closeQuietly(conn);
      idle.push({ conn, at: Date.now() });
    } catch {
      // The node is unreachable now: the next use tries again.
      if (conn) closeQuietly(conn);
    }
  };

  const refill = () => {
    if (closed || unsupported || Date.now() - lastUse > warmMs) return;
    while (idle.length + filling < size) {
      filling++;
      standby().finally(() => filling--);
    }
  };

  const take = (): ByteConn | undefined => {
    while (idle.length > 0) {
      const s = idle.pop()!;
      if (Date.now() - s.at < maxIdleMs) return s.conn;
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
    ready: ByteConn | undefined,
    tok: string,
    host: string,
    port: number,
  ): Promise<ByteConn> {
    if (ready) {
      // Was the node still there? A stream that ends before any status
      // byte was closed while it waited: try once more on a fresh one.
      const status = await exchange(
        ready,
        encodeNativeTcpHeader({ token: tok, host, port }),
        statusMs,
      );
      if (status === NativeTcpStatus.OK) return ready;
      closeQuietly(ready);
      if (status === "timeout") throw new NativeTcpError("timeout", "no status from the server");
      if (status !== "ended") throw statusError(status) ?? new NativeTcpError("unreachable");
    }
    return await openNativeTcp(dial, tok, host, port);
  }
}
