/**
 * The names a stealth client and a stealth listener agree on: the ALPNs
 * each side offers, and the preamble hosts that ask for alknet's own
 * services. The preamble itself is the native header (`alknet/tcp`'s wire
 * format, see `native_header.ts`) sent as the first bytes after the TLS
 * handshake.
 *
 * @module
 */

/**
 * The ALPNs a stealth listener offers: nginx's own list for an HTTP/1.x
 * server (no `h2`, no `alknet/*`).
 *
 * @example
 * ```ts
 * import { STEALTH_ALPNS } from "@alknet/core/transport";
 * console.log(STEALTH_ALPNS); // [ "http/1.1", "http/1.0", "http/0.9" ]
 * ```
 */
export const STEALTH_ALPNS: readonly string[] = ["http/1.1", "http/1.0", "http/0.9"];

/**
 * What a client offers when it opens with the preamble: what a browser
 * offers.
 *
 * @example
 * ```ts
 * import { STEALTH_CLIENT_ALPNS } from "@alknet/core/transport";
 * console.log(STEALTH_CLIENT_ALPNS); // [ "h2", "http/1.1" ]
 * ```
 */
export const STEALTH_CLIENT_ALPNS: readonly string[] = ["h2", "http/1.1"];

/**
 * The preamble host that asks for an SSH session (the port is ignored;
 * clients send 22).
 *
 * @example
 * ```ts
 * import { PREAMBLE_SSH_HOST } from "@alknet/core/transport";
 * console.log(PREAMBLE_SSH_HOST); // "alknet-ssh"
 * ```
 */
export const PREAMBLE_SSH_HOST = "alknet-ssh";

/**
 * The preamble host that asks for a call-protocol stream (the port is
 * ignored; clients send 80).
 *
 * @example
 * ```ts
 * import { PREAMBLE_CALL_HOST } from "@alknet/core/transport";
 * console.log(PREAMBLE_CALL_HOST); // "alknet-control"
 * ```
 */
export const PREAMBLE_CALL_HOST = "alknet-control";
