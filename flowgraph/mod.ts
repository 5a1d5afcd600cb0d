/**
 * `@alknet/flowgraph` — a directed-graph library for alknet: the operation
 * graph and the live call graph.
 *
 * This package is a placeholder in this release; its API lands in a later
 * version (see DESIGN.md section 8).
 *
 * @example
 * ```ts
 * import { PACKAGE_NAME } from "@alknet/flowgraph";
 * console.log(PACKAGE_NAME); // "@alknet/flowgraph"
 * ```
 *
 * @module
 */

/** The package's name, exported so the module has a documented symbol. */
export const PACKAGE_NAME = "@alknet/flowgraph";
