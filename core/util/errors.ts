/**
 * The one error base class of `@alknet/core`. Every error the package throws
 * is a {@link CoreError} with a machine-readable {@link CoreErrorCode}; code
 * branches on `code` (or `instanceof`), never on message text.
 *
 * @module
 */

/**
 * Every code a `@alknet/core` error carries.
 *
 * - `dial`: an outbound connection could not be made (`DialError.kind` says how)
 * - `transport-url`: a listen or target URL is malformed or unsupported
 * - `endpoint-config`: listener options contradict each other or are missing
 * - `pin-mismatch`: a TLS certificate or host key did not match its pin
 * - `proxy`: an upstream proxy refused or failed
 * - `certificate-file`: a certificate or key file could not be read or parsed
 * - `acme`: an ACME order failed
 * - `forward-spec`: a forward (`[bind:]port:host:hostport`) or `host:port` is malformed
 * - `cidr`: an address pattern is malformed
 * - `limits`: limit settings are out of range
 * - `socks5`: a SOCKS5 exchange failed (client or server side)
 * - `native-path`: the native data path refused or failed
 * - `host-key`: a server host key is unknown, changed or refused
 * - `ssh-connect`: an SSH connection or login failed
 * - `channel-open`: the server refused to open a channel
 * - `key`: a private key could not be read or parsed, or key bytes have the wrong size
 * - `public-key`: a public key could not be parsed
 * - `ssh-wire`: SSH wire data is truncated or malformed
 * - `certificate`: an OpenSSH certificate is malformed or invalid (`CertificateError.reason`)
 * - `authorized-keys`: an authorized_keys file could not be read or parsed
 * - `policy`: a forwarding policy rule is malformed
 * - `token`: a token is malformed, expired, unknown or badly signed (`TokenError.reason`)
 * - `api-key`: an API key is malformed, unknown, wrong or expired, or a stored record is
 *   invalid (`ApiKeyError.reason`)
 * - `config`: a configuration file or value is invalid
 * - `options`: options passed to `serve()` or `connect()` are invalid
 * - `closed`: the node, connection or stream is closed
 * - `websocket-upgrade`: a WebSocket upgrade was answered with an HTTP status
 * - `worker`: a mesh head refused this node as a worker (scope, name taken or not granted)
 *
 * @example
 * ```ts
 * import { CoreError, type CoreErrorCode } from "@alknet/core";
 * const code = (e: unknown): CoreErrorCode | undefined =>
 *   e instanceof CoreError ? e.code : undefined;
 * console.log(code(new CoreError("closed", "the node is closed"))); // "closed"
 * ```
 */
export type CoreErrorCode =
  | "dial"
  | "transport-url"
  | "endpoint-config"
  | "pin-mismatch"
  | "proxy"
  | "certificate-file"
  | "acme"
  | "forward-spec"
  | "cidr"
  | "limits"
  | "socks5"
  | "native-path"
  | "host-key"
  | "ssh-connect"
  | "channel-open"
  | "key"
  | "public-key"
  | "ssh-wire"
  | "certificate"
  | "authorized-keys"
  | "policy"
  | "token"
  | "api-key"
  | "config"
  | "options"
  | "closed"
  | "websocket-upgrade"
  | "worker";

/**
 * Base class of every error `@alknet/core` throws.
 *
 * @example
 * ```ts
 * import { CoreError } from "@alknet/core";
 * try {
 *   throw new CoreError("options", "listen: at least one address is required");
 * } catch (e) {
 *   if (e instanceof CoreError && e.code === "options") console.log(e.message);
 * }
 * ```
 */
export class CoreError extends Error {
  /** What went wrong, for code that reacts to it. */
  readonly code: CoreErrorCode;

  /** Creates an error with a code and a message that names the option or input at fault. */
  constructor(code: CoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CoreError";
    this.code = code;
  }
}

/**
 * An option passed to `serve()`, `connect()` or another entry point is
 * missing, malformed or contradicts another. `option` names it as the
 * library spells it (`tlsFingerprint`, `tls.cert`), so a command line can
 * map it back to its own flag.
 *
 * @example
 * ```ts
 * import { CoreError, OptionError } from "@alknet/core";
 * const e = new OptionError("tlsFingerprint", "applies to tls://, quic:// and wss:// only");
 * console.log(e instanceof CoreError, e.code, e.option); // true "options" "tlsFingerprint"
 * ```
 */
export class OptionError extends CoreError {
  /** The option at fault, as the library names it. */
  readonly option: string;

  /** Creates the error; the message is prefixed with the option name. */
  constructor(option: string, message: string, options?: ErrorOptions) {
    super("options", `${option}: ${message}`, options);
    this.name = "OptionError";
    this.option = option;
  }
}
