/**
 * The TLS call server: `Deno.listenTls` with ALPN `alknet/call`; a peer
 * authenticates with `auth_token` on its first request.
 *
 * @module
 */

import {
  decodeNativeTcpHeader,
  NativeTcpStatus,
  PREAMBLE_CALL_HOST,
  STEALTH_CLIENT_ALPNS,
  TIMED_OUT,
  withTimeout,
} from "@alknet/core/transport";
import { duplexFromConn, type ReadWriteConn } from "./byte_duplex.ts";
import {
  acceptLoop,
  CALL_ALPN,
  type CallServer,
  type ServeCallOptions,
  serveOn,
} from "./carrier_stream.ts";
import { CallError } from "./errors.ts";

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
 * Serves the call protocol over TLS with ALPN `alknet/call` (clients that
 * offer no ALPN are accepted too). With `authenticate`, a connection stays
 * unauthenticated until a request carries a valid `auth_token`; before that
 * every request is refused with FORBIDDEN and the connection is closed.
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
  const listener = Deno.listenTls({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    cert: pair.cert,
    key: pair.key,
    // The HTTP ALPNs are for clients that open with the preamble (what
    // connectCall does over tls:// when it has a token, so that the same
    // client also reaches a node in stealth mode).
    alpnProtocols: [CALL_ALPN, ...STEALTH_CLIENT_ALPNS],
  });
  const handshakeMs = options.handshakeTimeoutMs ?? 10_000;
  return acceptLoop(listener, "tls", async (conn) => {
    const info = await withTimeout((conn as Deno.TlsConn).handshake(), handshakeMs);
    if (info === TIMED_OUT) return null;
    if (info.alpnProtocol === null || info.alpnProtocol === CALL_ALPN) {
      return serveOn(duplexFromConn(conn), options);
    }
    const rest = await withTimeout(readPreamble(conn), handshakeMs);
    if (rest === TIMED_OUT || rest === null) return null;
    await conn.write(new Uint8Array([NativeTcpStatus.OK]));
    return serveOn(duplexFromConn(withPrefix(conn, rest)), options);
  });
}

/**
 * Reads the preamble (the native header naming `alknet-control`) that a
 * client sends first on an HTTP ALPN; resolves to the bytes read past it,
 * or null when the first bytes are anything else.
 */
async function readPreamble(conn: Deno.Conn): Promise<Uint8Array | null> {
  let have = new Uint8Array(0);
  const buf = new Uint8Array(2048);
  while (have.length < 2048) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) return null;
    const next = new Uint8Array(have.length + n);
    next.set(have);
    next.set(buf.subarray(0, n), have.length);
    have = next;
    let pre;
    try {
      pre = decodeNativeTcpHeader(have);
    } catch {
      return null;
    }
    if (pre === null) continue;
    return pre.header.host === PREAMBLE_CALL_HOST ? have.slice(pre.used) : null;
  }
  return null;
}

/** `conn`, with `prefix` read first. */
function withPrefix(conn: Deno.Conn, prefix: Uint8Array): ReadWriteConn {
  let pending: Uint8Array | null = prefix.length > 0 ? prefix : null;
  return {
    read(p) {
      if (pending === null) return conn.read(p);
      const n = Math.min(p.length, pending.length);
      p.set(pending.subarray(0, n));
      pending = n === pending.length ? null : pending.subarray(n);
      return Promise.resolve(n);
    },
    write: (d) => conn.write(d),
    close: () => conn.close(),
  };
}
