/**
 * The node's iroh secret key on disk: 64 hex digits, mode 0600, created on
 * first use so the node id stays the same across restarts.
 *
 * @module
 */

import { TransportUrlError } from "./errors.ts";
import { fromHex, toHex } from "../util/bytes.ts";

/**
 * Reads the node's iroh secret key from `path` (64 hex digits), creating it
 * (mode 0600, parent directories too) on first use, so the node id stays
 * the same across restarts.
 *
 * @throws {TransportUrlError} when the file exists but is not a key
 * @example
 * ```ts
 * import { irohSecretKeyFile } from "@alknet/core/transport";
 * const dir = await Deno.makeTempDir();
 * const key = await irohSecretKeyFile(`${dir}/iroh.key`);
 * console.log(key.length); // 32
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function irohSecretKeyFile(path: string): Promise<Uint8Array> {
  try {
    const text = (await Deno.readTextFile(path)).trim();
    const key = text.length === 64 ? fromHex(text) : null;
    if (!key) {
      throw new TransportUrlError("iroh://", `${path} is not a 64-hex-digit iroh secret key`);
    }
    return key;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const key = crypto.getRandomValues(new Uint8Array(32));
  const dir = path.replace(/[/\\][^/\\]*$/, "");
  if (dir !== path && dir !== "") await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(path, toHex(key) + "\n", { mode: 0o600, createNew: true });
  return key;
}
