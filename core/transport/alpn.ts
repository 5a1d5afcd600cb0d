/**
 * ALPN names and the dispatch table: which protocol handler of an endpoint
 * serves a negotiated ALPN, and which ALPNs a listener offers.
 *
 * - `alknet/ssh`: one SSH session (on TLS, on QUIC's and iroh's first stream);
 * - `alknet/call`: the call protocol, one connection per stream;
 * - `alknet/tcp`: the native data path, one forwarded TCP connection per stream;
 * - `h2`, `http/1.1`: HTTP (the SSH WebSocket, `/alknet/call`, the decoy site).
 *
 * @module
 */

import { EndpointConfigError } from "./errors.ts";

/**
 * The ALPN that carries SSH.
 *
 * @example
 * ```ts
 * import { ALPN_SSH } from "@alknet/core/transport";
 * console.log(ALPN_SSH); // "alknet/ssh"
 * ```
 */
export const ALPN_SSH = "alknet/ssh";

/**
 * The ALPN that carries the call protocol.
 *
 * @example
 * ```ts
 * import { ALPN_CALL } from "@alknet/core/transport";
 * console.log(ALPN_CALL); // "alknet/call"
 * ```
 */
export const ALPN_CALL = "alknet/call";

/**
 * The ALPN of the native data path.
 *
 * @example
 * ```ts
 * import { ALPN_TCP } from "@alknet/core/transport";
 * console.log(ALPN_TCP); // "alknet/tcp"
 * ```
 */
export const ALPN_TCP = "alknet/tcp";

/**
 * HTTP/2 over TLS.
 *
 * @example
 * ```ts
 * import { ALPN_H2 } from "@alknet/core/transport";
 * console.log(ALPN_H2); // "h2"
 * ```
 */
export const ALPN_H2 = "h2";

/**
 * HTTP/1.1 over TLS.
 *
 * @example
 * ```ts
 * import { ALPN_HTTP1 } from "@alknet/core/transport";
 * console.log(ALPN_HTTP1); // "http/1.1"
 * ```
 */
export const ALPN_HTTP1 = "http/1.1";

/**
 * Every ALPN an endpoint knows, in server preference order.
 *
 * @example
 * ```ts
 * import { ENDPOINT_ALPNS } from "@alknet/core/transport";
 * console.log(ENDPOINT_ALPNS[0]); // "alknet/ssh"
 * ```
 */
export const ENDPOINT_ALPNS = [ALPN_SSH, ALPN_CALL, ALPN_TCP, ALPN_H2, ALPN_HTTP1] as const;

/**
 * The HTTP ALPNs, offered on `wss://` and (with `tls://`) relayed to HTTP.
 *
 * @example
 * ```ts
 * import { HTTP_ALPNS } from "@alknet/core/transport";
 * console.log(HTTP_ALPNS); // ["h2", "http/1.1"]
 * ```
 */
export const HTTP_ALPNS = [ALPN_H2, ALPN_HTTP1] as const;

/**
 * The handler of an endpoint that serves a connection.
 *
 * @example
 * ```ts
 * import type { AlpnRoute } from "@alknet/core/transport";
 * const r: AlpnRoute = "http";
 * console.log(r);
 * ```
 */
export type AlpnRoute = "ssh" | "call" | "tcp" | "http";

/**
 * The route of a negotiated ALPN: `ssh`, `call`, `tcp`, `http`, or
 * `undefined` for an ALPN alknet does not serve.
 *
 * @example
 * ```ts
 * import { alpnRoute } from "@alknet/core/transport";
 * console.log(alpnRoute("alknet/tcp"), alpnRoute("h2"), alpnRoute("smtp")); // tcp http undefined
 * ```
 */
export function alpnRoute(alpn: string): AlpnRoute | undefined {
  switch (alpn) {
    case ALPN_SSH:
      return "ssh";
    case ALPN_CALL:
      return "call";
    case ALPN_TCP:
      return "tcp";
    case ALPN_H2:
    case ALPN_HTTP1:
      return "http";
  }
  return undefined;
}

/**
 * Which of the optional handlers exist (`ssh` and HTTP always do).
 *
 * @example
 * ```ts
 * import type { AlpnHandlers } from "@alknet/core/transport";
 * const h: AlpnHandlers = { call: true, tcp: false };
 * console.log(h.call); // true
 * ```
 */
export interface AlpnHandlers {
  /** An `alknet/call` handler is given. */
  call?: boolean;
  /** An `alknet/tcp` handler is given. */
  tcp?: boolean;
}

/**
 * The ALPNs a TLS or QUIC listener offers: `requested` checked (no
 * duplicate, no unknown name, each with a handler, no HTTP over QUIC), or,
 * when absent, every ALPN with a handler in {@link ENDPOINT_ALPNS} order
 * (QUIC without the HTTP ones).
 *
 * @throws {EndpointConfigError} for a duplicate, unknown or unserved ALPN, or an empty list
 * @example
 * ```ts
 * import { offeredAlpns } from "@alknet/core/transport";
 * console.log(offeredAlpns({ tcp: true }, { quic: false })); // ["alknet/ssh", "alknet/tcp", "h2", "http/1.1"]
 * console.log(offeredAlpns({ call: true }, { quic: true })); // ["alknet/ssh", "alknet/call"]
 * ```
 */
export function offeredAlpns(
  handlers: AlpnHandlers,
  options: { quic: boolean; requested?: readonly string[] },
): string[] {
  const served = (route: AlpnRoute | undefined): boolean =>
    route === "ssh" || route === "http" || (route !== undefined && handlers[route] === true);
  const list = options.requested ??
    ENDPOINT_ALPNS.filter((a) =>
      served(alpnRoute(a)) && !(options.quic && alpnRoute(a) === "http")
    );
  const seen = new Set<string>();
  for (const a of list) {
    if (seen.has(a)) throw new EndpointConfigError(`ALPN '${a}' is listed twice`);
    seen.add(a);
    const route = alpnRoute(a);
    if (route === undefined) {
      throw new EndpointConfigError(`unknown ALPN '${a}' (known: ${ENDPOINT_ALPNS.join(", ")})`);
    }
    if (!served(route)) {
      throw new EndpointConfigError(`ALPN '${a}' is offered but handlers.${route} is missing`);
    }
    if (options.quic && route === "http") {
      throw new EndpointConfigError(
        `ALPN '${a}' cannot be served over QUIC (that would be HTTP/3)`,
      );
    }
  }
  if (list.length === 0) throw new EndpointConfigError("no ALPN to offer");
  return [...list];
}
