// Test helpers shared by the call tests (no tests here; excluded from publishing).
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
