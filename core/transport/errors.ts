/**
 * Typed errors of the transport layer. Messages name what was wrong (the
 * URL, option or ALPN) but never a tunnel destination. Each is a
 * `CoreError` with its own `code`.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";

/**
 * A listen or connect URL could not be parsed or names an unknown scheme.
 *
 * @example
 * ```ts
 * import { TransportUrlError } from "@alknet/core/transport";
 * console.log(new TransportUrlError("ftp://x", "unknown scheme").message);
 * ```
 */
export class TransportUrlError extends CoreError {
  /** The URL text that was rejected. */
  readonly url: string;
  /** Creates the error. */
  constructor(url: string, why: string) {
    super("transport-url", `transport URL '${url}': ${why}`);
    this.name = "TransportUrlError";
    this.url = url;
  }
}

/**
 * An endpoint was configured inconsistently (duplicate ALPN, an offered ALPN
 * without a handler, TLS without a certificate, ...). Raised at start.
 *
 * @example
 * ```ts
 * import { EndpointConfigError } from "@alknet/core/transport";
 * console.log(new EndpointConfigError("ALPN 'alknet/tcp' is offered but has no handler").name);
 * ```
 */
export class EndpointConfigError extends CoreError {
  /** Creates the error. */
  constructor(message: string) {
    super("endpoint-config", `endpoint: ${message}`);
    this.name = "EndpointConfigError";
  }
}

/**
 * The server's certificate does not have the pinned `SHA256:` fingerprint.
 *
 * @example
 * ```ts
 * import { PinMismatchError } from "@alknet/core/transport";
 * const e = new PinMismatchError("SHA256:aa", "SHA256:bb");
 * console.log(e.expected, e.actual);
 * ```
 */
export class PinMismatchError extends CoreError {
  /** The pinned fingerprint. */
  readonly expected: string;
  /** What the server presented. */
  readonly actual: string;
  /** Creates the error. */
  constructor(expected: string, actual: string) {
    super(
      "pin-mismatch",
      `server certificate fingerprint ${actual} does not match the pinned ${expected}`,
    );
    this.name = "PinMismatchError";
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * An upstream proxy (SOCKS5 or HTTP CONNECT) failed or refused. `kind`
 * sorts the failure the way {@link DialError} does.
 *
 * @example
 * ```ts
 * import { ProxyError } from "@alknet/core/transport";
 * console.log(new ProxyError("refused", "HTTP CONNECT answered 502").kind);
 * ```
 */
export class ProxyError extends CoreError {
  /** refused, unreachable, timeout or protocol (the proxy broke its protocol or rejected auth). */
  readonly kind: "refused" | "unreachable" | "timeout" | "protocol" | "forbidden";
  /** Creates the error. */
  constructor(kind: ProxyError["kind"], message: string) {
    super("proxy", `proxy: ${message}`);
    this.name = "ProxyError";
    this.kind = kind;
  }
}

/**
 * A certificate or key file is missing, unreadable or not PEM.
 *
 * @example
 * ```ts
 * import { CertificateFileError } from "@alknet/core/transport";
 * console.log(new CertificateFileError("cert.pem", "no CERTIFICATE block").path);
 * ```
 */
export class CertificateFileError extends CoreError {
  /** The offending file (or `inline`). */
  readonly path: string;
  /** Creates the error. */
  constructor(path: string, why: string) {
    super("certificate-file", `certificate '${path}': ${why}`);
    this.name = "CertificateFileError";
    this.path = path;
  }
}

/**
 * A WebSocket upgrade was answered with an HTTP status instead (401 for a
 * refused token, 404 for a wrong path, ...); `reason` is the short text the
 * server gave, if any.
 *
 * @example
 * ```ts
 * import { WebSocketUpgradeError } from "@alknet/core/transport";
 * const e = new WebSocketUpgradeError("ws://h:80/alknet/call", 401, "invalid or expired token");
 * console.log(e.code, e.status, e.reason); // "websocket-upgrade" 401 "invalid or expired token"
 * ```
 */
export class WebSocketUpgradeError extends CoreError {
  /** The HTTP status. */
  readonly status: number;
  /** The server's reason (its text/plain body, shortened), or "". */
  readonly reason: string;
  /** Creates the error. */
  constructor(url: string, status: number, reason: string) {
    super(
      "websocket-upgrade",
      `${url}: server answered HTTP ${status}${reason ? `: ${reason}` : ""}`,
    );
    this.name = "WebSocketUpgradeError";
    this.status = status;
    this.reason = reason;
  }
}
