/**
 * The status byte a node answers a native-path header with, read bounded,
 * and the error of one that never came. Internal to `@alknet/core/ssh`
 * (the native client and the pool share it).
 *
 * @module
 */

import type { ByteConn } from "../transport/stream.ts";
import { NativeTcpError } from "../transport/native_header.ts";
import { Deadline, TIMED_OUT } from "../util/timeout.ts";

/**
 * Reads one status byte within `ms`: the byte, `ended` when the stream
 * ended first, `timeout` when none came. A failing read throws.
 */
export async function readStatus(
  conn: ByteConn,
  ms: number,
): Promise<number | "ended" | "timeout"> {
  const one = new Uint8Array(1);
  const deadline = new Deadline(ms);
  try {
    let n: number | null | typeof TIMED_OUT = 0;
    while (n === 0) n = await deadline.race(conn.read(one));
    return n === 1 ? one[0] : n === TIMED_OUT ? "timeout" : "ended";
  } finally {
    deadline.clear();
  }
}

/** The error of a stream whose status byte never came. */
export function lostStatus(status: "ended" | "timeout"): NativeTcpError {
  return status === "timeout"
    ? new NativeTcpError("timeout", "no status from the server")
    : new NativeTcpError("unreachable", "server closed the stream");
}
