/**
 * Outbound TCP connections with TCP_NODELAY, a deadline and errors sorted
 * into what SOCKS5 and SSH report: refused, unreachable, timed out.
 *
 * @module
 */

/** Why a dial failed, in the terms SOCKS5 replies and SSH open failures use. */
export type DialFailure = "refused" | "unreachable" | "timeout";

/**
 * A connection that could not be made. The message is generic on purpose:
 * it never names the target (targets are not logged).
 *
 * @example
 * ```ts
 * import { DialError, dialTcp } from "./tcp.ts";
 * try { await dialTcp("127.0.0.1", 1); } catch (e) { if (e instanceof DialError) console.log(e.kind); }
 * ```
 */
export class DialError extends Error {
  /** What went wrong. */
  readonly kind: DialFailure;
  /** Creates the error. */
  constructor(kind: DialFailure) {
    super(
      kind === "refused"
        ? "connection refused"
        : kind === "timeout"
        ? "connection timed out"
        : "host unreachable",
    );
    this.name = "DialError";
    this.kind = kind;
  }
}

/** Opens outbound TCP connections; the server's egress goes through one. */
export type Dialer = (host: string, port: number) => Promise<Deno.TcpConn>;

/**
 * Connects to `host:port` (name, IPv4 or IPv6 literal) with TCP_NODELAY set,
 * failing with a {@link DialError} after `timeoutMs` (default 10 s).
 *
 * @example
 * ```ts
 * import { dialTcp } from "./tcp.ts";
 * const conn = await dialTcp("127.0.0.1", 8080).catch(() => null);
 * conn?.close();
 * ```
 */
export async function dialTcp(
  host: string,
  port: number,
  timeoutMs = 10_000,
): Promise<Deno.TcpConn> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const attempt = Deno.connect({ hostname: host, port, transport: "tcp" });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new DialError("timeout"));
    }, timeoutMs);
  });
  try {
    const conn = await Promise.race([attempt, timeout]);
    conn.setNoDelay(true);
    return conn;
  } catch (e) {
    if (timedOut) {
      attempt.then((c) => c.close(), () => {});
      throw e;
    }
    if (e instanceof Deno.errors.ConnectionRefused) throw new DialError("refused");
    throw new DialError("unreachable");
  } finally {
    clearTimeout(timer);
  }
}
