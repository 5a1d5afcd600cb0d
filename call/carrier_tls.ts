/**
 * The TLS call server: core's TLS listener (`listenEndpoint`: Deno's TLS
 * with TCP_NODELAY, handshake and pre-auth deadlines, accepts that survive
 * `EMFILE`, descriptors of connections closed mid-handshake released) with
 * ALPN `alknet/call`; a peer authenticates with `auth_token` on its first
 * request.
 *
 * @module
 */

import { hostPort, listenEndpoint, STEALTH_CLIENT_ALPNS } from "@alknet/core/transport";
import { duplexFromConn } from "./byte_duplex.ts";
import { CALL_ALPN, type CallServer, type ServeCallOptions, serveOn } from "./carrier_stream.ts";
import type { CallConnection } from "./connection.ts";
import { CallError } from "./errors.ts";
import type { Authenticate } from "./incoming.ts";

/**
 * A certificate and its key, as PEM text or as files. Both parts are
 * required; text wins over a file.
 *
 * @example
 * ```ts
 * import type { CertificateSource } from "@alknet/call";
 * const files: CertificateSource = { certFile: "cert.pem", keyFile: "key.pem" };
 * console.log(files.certFile);
 * ```
 */
export interface CertificateSource {
  /** Certificate chain (PEM). */
  cert?: string;
  /** Private key (PEM). */
  key?: string;
  /** Certificate chain file (PEM), instead of `cert`. */
  certFile?: string;
  /** Private key file (PEM), instead of `key`. */
  keyFile?: string;
}

/**
 * Options of {@link serveCallTls}: those of every server plus the certificate.
 *
 * @example
 * ```ts
 * import { OperationRegistry, type ServeCallTlsOptions } from "@alknet/call";
 * const opts: ServeCallTlsOptions = {
 *   certFile: "cert.pem", keyFile: "key.pem",
 *   registry: new OperationRegistry(), authenticate: () => null,
 * };
 * console.log(opts.certFile);
 * ```
 */
export interface ServeCallTlsOptions extends ServeCallOptions, CertificateSource {
  /** Milliseconds allowed for the TLS handshake (default 10 000). */
  handshakeTimeoutMs?: number;
}

/** Reads `cert`/`key` (or their files); undefined when neither part is given. */
export async function readCertificate(
  server: string,
  source: CertificateSource,
): Promise<{ cert: string; key: string } | undefined> {
  const given = [source.cert, source.key, source.certFile, source.keyFile];
  if (given.every((x) => x === undefined)) return undefined;
  const read = async (text: string | undefined, file: string | undefined, name: string) => {
    if (text !== undefined) return text;
    if (file === undefined) {
      throw new CallError("options", `${server}: ${name} (or ${name}File) is required`);
    }
    try {
      return await Deno.readTextFile(file);
    } catch (e) {
      throw new CallError("options", `${server}: cannot read ${name}File ${file}`, { cause: e });
    }
  };
  return {
    cert: await read(source.cert, source.certFile, "cert"),
    key: await read(source.key, source.keyFile, "key"),
  };
}

/**
 * Serves the call protocol over TLS with ALPN `alknet/call`; a client that
 * offers `h2`/`http/1.1` and sends the preamble naming `alknet-control`
 * first (what `connectCall` does over `tls://` with a token) is served too.
 * It runs on core's TLS listener: TCP_NODELAY, the handshake deadline,
 * accepts that go on through `EMFILE`, and a connection that has not
 * authenticated within the pre-auth deadline (30 s) is closed. With
 * `authenticate`, a connection stays unauthenticated until a request
 * carries a valid `auth_token`; before that every request is refused with
 * FORBIDDEN and the connection is closed.
 *
 * @example
 * ```ts
 * import { OperationRegistry, registerNodeOperations, serveCallTls } from "@alknet/call";
 * const registry = new OperationRegistry();
 * registerNodeOperations(registry, { version: "0.1.0" });
 * try {
 *   const server = await serveCallTls({
 *     certFile: "cert.pem", keyFile: "key.pem", registry,
 *     authenticate: (token) => token === "secret" ? { id: "me", scopes: [], resources: {} } : null,
 *   });
 *   console.log(server.url);
 *   await server.close();
 * } catch (e) {
 *   console.log("no certificate here:", (e as Error).message);
 * }
 * ```
 */
export async function serveCallTls(options: ServeCallTlsOptions): Promise<CallServer> {
  const pair = await readCertificate("serveCallTls", options);
  if (!pair) throw new CallError("options", "serveCallTls: cert and key are required");
  const conns = new Set<CallConnection>();
  let closing = false;
  const hostname = options.hostname ?? "127.0.0.1";
  const endpoint = await listenEndpoint(`tls://${hostPort(hostname, options.port ?? 0)}`, {
    cert: pair.cert,
    key: pair.key,
    // The HTTP ALPNs are for clients that open with the preamble (what
    // connectCall does over tls:// when it has a token, so that the same
    // client also reaches a node in stealth mode).
    alpn: [CALL_ALPN, ...STEALTH_CLIENT_ALPNS],
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    handlers: {
      ssh: (conn) => conn.close(),
      call: (conn, info) => {
        const check = options.authenticate;
        // The listener closes connections that never prove themselves.
        const authenticate: Authenticate | undefined = check === undefined
          ? undefined
          : async (token) => {
            const identity = await check(token);
            if (identity) info.authenticated?.();
            return identity;
          };
        if (check === undefined) info.authenticated?.();
        const c = serveOn(duplexFromConn(conn), { ...options, authenticate });
        if (closing) {
          void c.close();
          return;
        }
        conns.add(c);
        void c.closed.then(() => conns.delete(c));
      },
    },
  });
  const addr = endpoint.addr;
  return {
    addr,
    url: `tls://${hostPort(addr.hostname, addr.port)}`,
    connections: conns,
    async close() {
      closing = true;
      await Promise.all([...conns].map((c) => c.close()));
      await endpoint.close();
    },
  };
}
