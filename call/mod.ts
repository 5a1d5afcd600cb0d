/**
 * `@alknet/call` — the alknet call protocol: typed operations between nodes,
 * in both directions, with streaming, cancellation, access control and
 * discovery.
 *
 * @example
 * ```ts
 * import { PACKAGE_NAME } from "@alknet/call";
 * console.log(PACKAGE_NAME); // "@alknet/call"
 * ```
 *
 * @module
 */

/** The package's name, exported so the module has a documented symbol. */
export const PACKAGE_NAME = "@alknet/call";
