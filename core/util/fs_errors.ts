/**
 * Plain-words reasons for file system errors, so every "cannot read FILE"
 * message in alknet says the same thing the same way.
 *
 * @module
 */

/**
 * Why reading a file failed: `no such file`, `permission denied`, `is a
 * directory`, or the error's own message.
 *
 * @example
 * ```ts
 * import { fsErrorReason } from "@alknet/core/transport";
 * const why = await Deno.readTextFile("/nonexistent").then(() => "", fsErrorReason);
 * console.log(why); // "no such file"
 * ```
 */
export function fsErrorReason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  return e instanceof Error ? e.message : String(e);
}
