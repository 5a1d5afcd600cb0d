/**
 * Atomic file replacement: write a temporary file in the same directory,
 * fsync it, rename it over the target, fsync the directory. A crash at any
 * point leaves either the old file or the new one, never a mix.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { toHex } from "./bytes.ts";

/**
 * Options of {@linkcode writeFileAtomic}.
 *
 * @example
 * ```ts
 * import { writeFileAtomic, type WriteFileAtomicOptions } from "@alknet/vault";
 * const dir = await Deno.makeTempDir();
 * const o: WriteFileAtomicOptions = { mode: 0o600, createNew: true };
 * await writeFileAtomic(`${dir}/secret`, new TextEncoder().encode("s3cret"), o);
 * console.log((await Deno.stat(`${dir}/secret`)).mode! & 0o777); // 384 (0o600)
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface WriteFileAtomicOptions {
  /** Permission bits of the new file (default `0o600`). */
  mode?: number;
  /** Refuse to replace an existing file (atomically, with a hard link instead of a rename). */
  createNew?: boolean;
}

/**
 * Atomically writes `data` (bytes, or chunks from an async iterable) to
 * `path` with `mode` (default 0600). Throws `Deno.errors.AlreadyExists` when
 * `createNew` is set and `path` exists.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "@alknet/vault";
 * const path = await Deno.makeTempFile();
 * await writeFileAtomic(path, new TextEncoder().encode("hello"));
 * console.log(await Deno.readTextFile(path)); // "hello"
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | AsyncIterable<Uint8Array>,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  const dir = dirname(path);
  const tmp = join(
    dir,
    `.${basename(path)}.${toHex(crypto.getRandomValues(new Uint8Array(6)))}.tmp`,
  );
  const file = await Deno.open(tmp, { write: true, createNew: true, mode });
  let renamed = false;
  try {
    try {
      await Deno.chmod(tmp, mode);
      const chunks = data instanceof Uint8Array ? [data] : data;
      for await (const chunk of chunks) {
        let off = 0;
        while (off < chunk.length) off += await file.write(chunk.subarray(off));
      }
      await file.sync();
    } finally {
      file.close();
    }
    if (options.createNew) {
      // link(2) refuses an existing target atomically; then drop the temporary name.
      await Deno.link(tmp, path);
      await Deno.remove(tmp).catch(() => {});
    } else {
      await Deno.rename(tmp, path);
    }
    renamed = true;
    try {
      const d = await Deno.open(dir, { read: true });
      try {
        await d.sync();
      } finally {
        d.close();
      }
    } catch {
      // Some platforms cannot fsync a directory; the rename is still atomic.
    }
  } finally {
    if (!renamed) await Deno.remove(tmp).catch(() => {});
  }
}
