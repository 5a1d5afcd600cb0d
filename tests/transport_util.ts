/**
 * Helpers shared by the transport tests: a self-signed certificate made once
 * per test process, bounded reads, and small handler recorders.
 *
 * @module
 */

import { run } from "./helpers.ts";
import { type CertifiedKey, selfSignedCertificate } from "../core/transport/mod.ts";
import type { ByteConn } from "../core/transport/stream.ts";

let certPromise: Promise<{ ck: CertifiedKey; dir: string }> | undefined;

/** The test certificate (localhost, 127.0.0.1, ::1), created once per process. */
export function testCert(): Promise<{ ck: CertifiedKey; dir: string }> {
  certPromise ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "alknet-transport-" });
    const ck = await selfSignedCertificate(dir);
    return { ck, dir };
  })();
  return certPromise;
}

/** Reads until `n` bytes, end of stream or `timeoutMs`. */
export async function readN(conn: ByteConn, n: number, timeoutMs = 10_000): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let have = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"t">((r) => timer = setTimeout(() => r("t"), timeoutMs));
  try {
    while (have < n) {
      const r = await Promise.race([conn.read(out.subarray(have)).catch(() => null), late]);
      if (r === "t" || r === null) break;
      have += r;
    }
  } finally {
    clearTimeout(timer);
  }
  return out.subarray(0, have);
}

/** Reads everything until end of stream (bounded by `max` bytes and `timeoutMs`). */
export async function readAll(
  conn: ByteConn,
  timeoutMs = 10_000,
  max = 1 << 20,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"t">((r) => timer = setTimeout(() => r("t"), timeoutMs));
  try {
    while (total < max) {
      const buf = new Uint8Array(64 * 1024);
      const r = await Promise.race([conn.read(buf).catch(() => null), late]);
      if (r === "t" || r === null) break;
      chunks.push(buf.subarray(0, r));
      total += r;
    }
  } finally {
    clearTimeout(timer);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A handler that answers `tag` and closes, recording calls. */
export function tagHandler(tag: string, calls: string[]) {
  return (conn: ByteConn, info: { transport: string; alpn?: string }) => {
    calls.push(`${tag}:${info.transport}:${info.alpn ?? "-"}`);
    (async () => {
      try {
        let off = 0;
        const bytes = new TextEncoder().encode(tag);
        while (off < bytes.length) off += await conn.write(bytes.subarray(off));
        await conn.closeWrite?.();
        await readAll(conn, 2000);
      } catch {
        /* peer went away */
      } finally {
        conn.close();
      }
    })();
  };
}

/** Runs a command (bounded), returning its exit code and output. */
export function runCmd(
  cmd: string,
  args: string[],
  timeoutMs = 20_000,
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(cmd, args, { timeoutMs, stdin });
}

export { requireTool } from "./helpers.ts";

/** `n` random bytes (getRandomValues is capped at 64 KiB per call). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) {
    crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  }
  return out;
}
