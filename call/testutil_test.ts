// Test helpers shared by the call tests (no tests here; excluded from publishing).
import assert from "node:assert/strict";
import { selfSignedCertificate } from "../core/transport/certs.ts";

/**
 * A throwaway self-signed certificate for localhost/127.0.0.1 (core's
 * generator; tests are not published, so `call` itself stays free of core).
 */
export async function selfSignedCert(): Promise<{ cert: string; key: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "alknet-call-tls-" });
  const { cert, key } = await selfSignedCertificate(dir);
  return { cert, key, dir };
}

/**
 * Waits (polling every 5 ms, at most `ms`) until `cond` holds; fails naming
 * `what` when it does not.
 */
export async function until(
  cond: () => boolean,
  what: string | (() => string),
  ms = 10_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) {
      assert.fail(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}
