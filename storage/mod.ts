/**
 * `@alknet/storage` — embedded SQLite storage for alknet nodes: peers,
 * credentials, a typed metagraph and durable event streams.
 *
 * This package is a placeholder in this release; its API lands in a later
 * version (see DESIGN.md section 7).
 *
 * @example
 * ```ts
 * import { PACKAGE_NAME } from "@alknet/storage";
 * console.log(PACKAGE_NAME); // "@alknet/storage"
 * ```
 *
 * @module
 */

/** The package's name, exported so the module has a documented symbol. */
export const PACKAGE_NAME = "@alknet/storage";
