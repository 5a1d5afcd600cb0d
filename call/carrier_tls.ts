/**
 * The TLS call server: `Deno.listenTls` with ALPN `alknet/call`; the peer
 * authenticates with `auth_token` on its first request (or on each).
 *
 * @module
 */

import {
  acceptLoop,
  CALL_ALPN,
  type CallServer,
  duplexFromConn,
  serveCallDuplex,
  type ServeDuplexOptions,
} from "./carrier_stream.ts";
import type { Authenticate } from "./connection.ts";

/**
 * Options of {@link serveCallTls}.
 *
 * @example
 * ```ts
 * import type { ServeTlsOptions } from "./carrier_tls.ts";
 * import { OperationRegistry } from "./registry.ts";
 * const opts: ServeTlsOptions = {
 *   port: 8443, certFile: "cert.pem", keyFile: "key.pem",
 *   registry: new OperationRegistry(), authenticate: () => null,
 * };
 * ```
 */
export interface ServeTlsOptions extends Omit<ServeDuplexOptions, "identity" | "authenticate"> {
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port (0 picks one). */
  port: number;
  /** Certificate chain file (PEM). */
  certFile?: string;
  /** Private key file (PEM). */
  keyFile?: string;
  /** Certificate chain (PEM), instead of `certFile`. */
  cert?: string;
  /** Private key (PEM), instead of `keyFile`. */
  key?: string;
  /** Verifies tokens; requests before a valid token are refused. */
  authenticate: Authenticate;
  /** Milliseconds allowed for the TLS handshake (default 10 000). */
  handshakeTimeoutMs?: number;
}

/**
 * Serves the call protocol over TLS with ALPN `alknet/call` (clients that
 * offer no ALPN are accepted too). Connections stay unauthenticated until a
 * request carries a valid `auth_token`; before that every request is
 * refused with FORBIDDEN and the connection is closed.
 *
 * @example
 * ```ts
 * import { OperationRegistry, registerNodeOperations, serveCallTls } from "./mod.ts";
 * const registry = new OperationRegistry();
 * registerNodeOperations(registry, { version: "0.1.0" });
 * try {
 *   const server = await serveCallTls({
 *     hostname: "127.0.0.1", port: 0, certFile: "cert.pem", keyFile: "key.pem",
 *     registry, authenticate: (token) => token === "secret" ? { id: "me", scopes: [], resources: {} } : null,
 *   });
 *   console.log(server.addr);
 *   await server.close();
 * } catch (e) {
 *   console.log("no certificate here:", (e as Error).message);
 * }
 * ```
 */
export async function serveCallTls(options: ServeTlsOptions): Promise<CallServer> {
  const cert = options.cert ??
    (options.certFile ? await Deno.readTextFile(options.certFile) : undefined);
  const key = options.key ??
    (options.keyFile ? await Deno.readTextFile(options.keyFile) : undefined);
  if (!cert || !key) throw new TypeError("serveCallTls needs cert and key (PEM strings or files)");
  const listener = Deno.listenTls({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    cert,
    key,
    alpnProtocols: [CALL_ALPN],
  });
  const handshakeMs = options.handshakeTimeoutMs ?? 10_000;
  return acceptLoop(listener, async (conn) => {
    const tls = conn as Deno.TlsConn;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const info = await Promise.race([
        tls.handshake(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("TLS handshake timed out")), handshakeMs);
        }),
      ]);
      if (info.alpnProtocol !== null && info.alpnProtocol !== CALL_ALPN) {
        throw new Error("wrong ALPN");
      }
    } finally {
      clearTimeout(timer);
    }
    return serveCallDuplex(
      duplexFromConn(conn),
      { ...options, identity: null, requireAuth: options.requireAuth ?? true },
    );
  });
}
