/**
 * How a client decides to trust a node's TLS certificate: extra CAs
 * (`caCerts`, `caFile`), a pinned `SHA256:` fingerprint checked on a
 * certificate fetched over an unverified `node:tls` handshake (cached per
 * host and port for the process), and the name to verify the pinned
 * certificate under.
 *
 * @module
 */

import tls from "node:tls";
import type { Duplex } from "node:stream";
import { connToDuplex } from "./stream.ts";
import { DialError } from "./tcp.ts";
import { derFingerprint, derToPem, normalizeFingerprint } from "./certs.ts";
import { CertificateFileError, PinMismatchError } from "./errors.ts";
import { parseIp } from "./addr.ts";
import { ALPN_SSH } from "./alpn.ts";
import {
  DEFAULT_DIAL_TIMEOUT_MS,
  dialDeadline,
  type DialOptions,
  dialTcpVia,
} from "./dial_options.ts";
import { fsErrorReason } from "../util/fs_errors.ts";

/** Whether `name` is an IP literal (no SNI is sent for those). Internal. */
export function isIpLiteral(name: string): boolean {
  return parseIp(name) !== null;
}

/**
 * The extra trusted CAs of `options` (`caCerts` plus the `caFile`
 * contents), or `undefined` for none. Internal to the dialers.
 *
 * @throws {CertificateFileError} when `caFile` cannot be read
 */
export async function caList(options: DialOptions): Promise<string[] | undefined> {
  const list = [...(options.caCerts ?? [])];
  if (options.caFile) {
    try {
      list.push(await Deno.readTextFile(options.caFile));
    } catch (e) {
      throw new CertificateFileError(options.caFile, `cannot read CA file: ${fsErrorReason(e)}`);
    }
  }
  return list.length > 0 ? list : undefined;
}

/**
 * A server's leaf certificate as a client saw it.
 *
 * @example
 * ```ts
 * import type { ServerCertificate } from "@alknet/core/transport";
 * const show = (c: ServerCertificate) => `${c.fingerprint} for ${c.names.join(", ")}`;
 * console.log(typeof show); // "function"
 * ```
 */
export interface ServerCertificate {
  /** The certificate, PEM. */
  pem: string;
  /** Its `SHA256:<hex>` fingerprint. */
  fingerprint: string;
  /** Its subjectAltName entries (DNS names and IP addresses). */
  names: string[];
}

/**
 * `node:tls` over an already connected TCP stream, optionally unverified
 * (`tlsOptions.rejectUnauthorized: false`). Internal to the dialers.
 */
export async function nodeTls(
  tcp: Deno.TcpConn,
  host: string,
  options: DialOptions,
  tlsOptions: tls.ConnectionOptions,
): Promise<tls.TLSSocket> {
  const name = options.serverName ?? host;
  const socket = tls.connect({
    socket: connToDuplex(tcp) as unknown as Duplex,
    servername: isIpLiteral(name) ? undefined : name,
    ALPNProtocols: options.alpn ?? [ALPN_SSH],
    ...tlsOptions,
  });
  try {
    await dialDeadline(
      new Promise<void>((resolve, reject) => {
        socket.once("secureConnect", () => resolve());
        socket.once("error", reject);
        socket.once("close", () => reject(new DialError("unreachable")));
      }),
      options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      "TLS handshake",
    );
  } catch (e) {
    socket.destroy();
    throw e;
  }
  return socket;
}

function peerCertOf(socket: tls.TLSSocket): ServerCertificate {
  const pc = socket.getPeerCertificate(true);
  const raw = new Uint8Array(pc.raw);
  const names = (pc.subjectaltname ?? "").split(/,\s*/).map((s) =>
    s.replace(/^DNS:/, "").replace(/^IP Address:/, "")
  ).filter((s) => s.length > 0);
  return { pem: derToPem(raw), fingerprint: derFingerprint(raw), names };
}

const pinnedCache = new Map<string, ServerCertificate>();

/**
 * Fetches the server's leaf certificate over an unverified TLS handshake
 * and checks it against `fingerprint` (when given).
 *
 * @throws {PinMismatchError} when the fingerprint differs
 * @example
 * ```ts
 * import { fetchServerCertificate } from "@alknet/core/transport";
 * const c = await fetchServerCertificate("127.0.0.1", 1, { timeoutMs: 500 }).catch((e) => e.code);
 * console.log(c); // "dial"
 * ```
 */
export async function fetchServerCertificate(
  host: string,
  port: number,
  options: DialOptions = {},
): Promise<ServerCertificate> {
  const key = `${host}|${port}|${options.fingerprint ?? ""}`;
  const cached = options.fingerprint ? pinnedCache.get(key) : undefined;
  if (cached) return cached;
  const tcp = await dialTcpVia(host, port, options);
  const socket = await nodeTls(tcp, host, options, { rejectUnauthorized: false });
  const cert = peerCertOf(socket);
  socket.destroy();
  if (options.fingerprint) {
    const want = normalizeFingerprint(options.fingerprint);
    if (cert.fingerprint !== want) throw new PinMismatchError(want, cert.fingerprint);
    pinnedCache.set(key, cert);
  }
  return cert;
}

/**
 * The name to verify a pinned certificate under: `host` when the
 * certificate names it, else its first DNS name without a wildcard. Internal.
 */
export function verificationName(host: string, names: string[]): string {
  if (names.includes(host)) return host;
  return names.find((n) => !isIpLiteral(n) && !n.includes("*")) ?? names[0] ?? host;
}
