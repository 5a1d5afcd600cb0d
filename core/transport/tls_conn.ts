/**
 * A Deno TLS connection as a {@link ByteConn} (internal: the TLS dialer and
 * the Deno TLS listener share it).
 *
 * @module
 */

import type { ByteConn } from "./stream.ts";

/** `conn` as a {@link ByteConn}: reads, writes, half-close and close pass through. */
export function tlsByteConn(conn: Deno.TlsConn): ByteConn {
  return {
    read: (p) => conn.read(p),
    write: (p) => conn.write(p),
    closeWrite: () => conn.closeWrite(),
    close: () => conn.close(),
  };
}
