/**
 * The strongest stealth disguise: unauthenticated traffic goes to a real
 * web server (`decoyUpstream`, e.g. nginx or Caddy on a loopback HTTP
 * port). TLS ends at alknet; the decrypted bytes, starting with the ones
 * already read to decide (replayed first, unchanged), are relayed to the
 * upstream byte for byte and its answer back, both ways at once. When the
 * upstream closes without having answered anything (its header timeout),
 * the client's connection is dropped without a TLS close_notify, as a web
 * server terminating TLS itself does after a timeout.
 *
 * @module
 */

import { type ByteConn, closeQuietly, writeAll } from "./stream.ts";
import { EndpointConfigError } from "./errors.ts";
import { withTimeout } from "../util/timeout.ts";
import { dialTcp } from "./tcp.ts";

/**
 * A parsed `decoyUpstream` URL: `http://HOST:PORT` (port 80 by default).
 *
 * @example
 * ```ts
 * import { parseDecoyUpstream } from "@alknet/core/transport";
 * console.log(parseDecoyUpstream("http://127.0.0.1:8080")); // { host: "127.0.0.1", port: 8080 }
 * ```
 */
export interface DecoyUpstream {
  /** Host name or IP literal (IPv6 without brackets). */
  host: string;
  /** TCP port. */
  port: number;
}

/**
 * Parses a `decoyUpstream` URL (`http://HOST[:PORT]`, nothing after the
 * authority but an optional `/`).
 *
 * @throws {EndpointConfigError} for another scheme, credentials, a path or a bad port
 * @example
 * ```ts
 * import { parseDecoyUpstream } from "@alknet/core/transport";
 * console.log(parseDecoyUpstream("http://[::1]").port); // 80
 * ```
 */
export function parseDecoyUpstream(url: string): DecoyUpstream {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new EndpointConfigError(`decoyUpstream: '${url}' is not a URL (http://HOST:PORT)`);
  }
  if (u.protocol !== "http:") {
    throw new EndpointConfigError(
      `decoyUpstream: '${url}' must be http:// (TLS ends at alknet; the upstream gets the plain bytes)`,
    );
  }
  if (u.username || u.password || (u.pathname !== "/" && u.pathname !== "") || u.search || u.hash) {
    throw new EndpointConfigError(`decoyUpstream: '${url}' must be just http://HOST:PORT`);
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = u.port === "" ? 80 : Number(u.port);
  return { host, port };
}

/**
 * Relays `conn` (after `first`, the bytes already read from it) to the
 * upstream. Resolves when both sides are closed; rejects (a `DialError`)
 * only when the upstream cannot be reached within 5 s (nothing has been
 * sent to the client then).
 *
 * @example
 * ```ts
 * import { relayToUpstream } from "@alknet/core/transport";
 * const web = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const serving = (async () => {
 *   const c = await web.accept();
 *   await c.read(new Uint8Array(64));
 *   await c.write(new TextEncoder().encode("HTTP/1.0 204 No Content\r\n\r\n"));
 *   c.close();
 * })();
 * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: (probe.addr as Deno.NetAddr).port });
 * const server = await probe.accept();
 * const relay = relayToUpstream(server, new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"), {
 *   host: "127.0.0.1", port: (web.addr as Deno.NetAddr).port,
 * }, () => server.close());
 * const buf = new Uint8Array(64);
 * const n = await client.read(buf);
 * console.log(new TextDecoder().decode(buf.subarray(0, n ?? 0)).trim()); // HTTP/1.0 204 No Content
 * client.close();
 * await Promise.all([relay, serving]);
 * web.close();
 * probe.close();
 * ```
 */
export async function relayToUpstream(
  conn: ByteConn,
  first: Uint8Array,
  upstream: DecoyUpstream,
  abort: () => void,
): Promise<void> {
  const web = await dialTcp(upstream.host, upstream.port, 5_000);
  let answered = false;
  // A client that ended its side first gets no close_notify (nginx's rule).
  let clientEnded = false;
  const toWeb = (async () => {
    try {
      if (first.length > 0) await writeAll(web, first);
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) {
          clientEnded = true;
          break;
        }
        await writeAll(web, buf.subarray(0, n));
      }
      await web.closeWrite().catch(() => {});
    } catch {
      closeQuietly(web);
    }
  })();
  const fromWeb = (async () => {
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      let n: number | null;
      try {
        n = await web.read(buf);
      } catch {
        // A reset after an answer is the web server closing with unread
        // bytes (the client's next request raced its close): to the
        // client the same close as an end of stream.
        n = null;
      }
      if (n === null) break;
      answered = true;
      try {
        await writeAll(conn, buf.subarray(0, n));
      } catch {
        return abort();
      }
    }
    if (answered && !clientEnded) await conn.closeWrite?.().catch(() => {});
    else abort();
  })();
  await fromWeb;
  // The web server has finished answering; what the client still sends goes
  // on to it (it may be reading to close gracefully) for at most 30 s.
  await withTimeout(toWeb, 30_000);
  closeQuietly(conn);
  closeQuietly(web);
  await toWeb;
}
