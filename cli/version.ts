/**
 * The version of the `alknet` command, in a module of its own so any
 * command can report it without importing the dispatcher.
 *
 * @module
 */

/**
 * The version of the `alknet` command.
 */
export const VERSION = "0.1.0";
