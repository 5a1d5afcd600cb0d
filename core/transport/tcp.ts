/**
 * Outbound TCP connections with TCP_NODELAY, a deadline and errors sorted
 * into what SOCKS5 and SSH report: refused, unreachable, timed out.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
import { TIMED_OUT, withTimeout } from "../util/timeout.ts";

/**
 * Why a dial failed, in the terms SOCKS5 replies and SSH open failures use.
 *
 * @example
 * ```ts
 * import { DialError, type DialFailure, dialTcp } from "@alknet/core/transport";
 * let kind: DialFailure | undefined;
 * await dialTcp("127.0.0.1", 1).then((c) => c.close(), (e) => {
 *   if (e instanceof DialError) kind = e.kind;
 * });
 * console.log(kind); // "refused": nothing listens on port 1
 * ```
 */
export type DialFailure = "refused" | "unreachable" | "timeout";

/**
 * A connection that could not be made (code `dial`). The message is generic
 * on purpose: it never names the target (targets are not logged).
 *
 * @example
 * ```ts
 * import { DialError, dialTcp } from "@alknet/core/transport";
 * try {
 *   await dialTcp("127.0.0.1", 1);
 * } catch (e) {
 *   if (e instanceof DialError) console.log(e.code, e.kind); // "dial" "refused"
 * }
 * ```
 */
export class DialError extends CoreError {
  /** What went wrong. */
  readonly kind: DialFailure;
  /** Creates the error; `message` replaces the generic text (never name the target in it). */
  constructor(kind: DialFailure, message?: string) {
    super(
      "dial",
      message ??
        (kind === "refused"
          ? "connection refused"
          : kind === "timeout"
          ? "connection timed out"
          : "host unreachable"),
    );
    this.name = "DialError";
    this.kind = kind;
  }
}

/**
 * Opens outbound TCP connections; the server's egress goes through one.
 *
 * @example
 * ```ts
 * import type { Dialer } from "@alknet/core/transport";
 * const direct: Dialer = (host, port) => Deno.connect({ hostname: host, port });
 * console.log(typeof direct); // "function"
 * ```
 */
export type Dialer = (host: string, port: number) => Promise<Deno.TcpConn>;

/**
 * Connects to `host:port` (name, IPv4 or IPv6 literal) with TCP_NODELAY set,
 * failing with a {@link DialError} after `timeoutMs` (default 10 s).
 *
 * @example
 * ```ts
 * import { dialTcp } from "@alknet/core/transport";
 * const conn = await dialTcp("127.0.0.1", 8080).catch(() => null);
 * conn?.close();
 * ```
 */
export async function dialTcp(
  host: string,
  port: number,
  timeoutMs = 10_000,
): Promise<Deno.TcpConn> {
  const attempt = Deno.connect({ hostname: host, port, transport: "tcp" });
  let conn: Deno.TcpConn | typeof TIMED_OUT;
  try {
    conn = await withTimeout(attempt, timeoutMs, (late) => late.close());
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionRefused) throw new DialError("refused");
    throw new DialError("unreachable");
  }
  if (conn === TIMED_OUT) throw new DialError("timeout");
  conn.setNoDelay(true);
  return conn;
}
