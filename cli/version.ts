/**
 * The version of the `alknet` command, in a module of its own so any
 * command can report it without importing the dispatcher.
 *
 * @module
 */

/**
 * The version of the `alknet` command.
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * console.log(VERSION); // "0.1.0"
 * ```
 */
export const VERSION = "0.1.0";
