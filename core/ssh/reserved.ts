/**
 * Reserved destinations: host names that start with `alknet-` name services
 * of the node itself (`alknet-control` carries the call protocol) and are
 * never dialled. A client refuses them on its SOCKS5 proxy and `-L`
 * forwards, so that a local program cannot reach them with the user's
 * identity.
 *
 * @module
 */

/**
 * The prefix of every reserved destination.
 *
 * @example
 * ```ts
 * import { RESERVED_PREFIX } from "@alknet/core/ssh";
 * console.log(RESERVED_PREFIX); // "alknet-"
 * ```
 */
export const RESERVED_PREFIX = "alknet-";

/**
 * The destination that carries the call protocol on an SSH session.
 *
 * @example
 * ```ts
 * import { CONTROL_DESTINATION } from "@alknet/core/ssh";
 * console.log(CONTROL_DESTINATION); // "alknet-control"
 * ```
 */
export const CONTROL_DESTINATION = "alknet-control";

/**
 * True for a reserved destination (`alknet-*`, in any letter case: host
 * names are case-insensitive).
 *
 * @example
 * ```ts
 * import { isReservedDestination } from "@alknet/core/ssh";
 * console.log(isReservedDestination("alknet-control")); // true
 * console.log(isReservedDestination("ALKNET-x"), isReservedDestination("example.com")); // true false
 * ```
 */
export function isReservedDestination(host: string): boolean {
  return host.slice(0, RESERVED_PREFIX.length).toLowerCase() === RESERVED_PREFIX;
}
