// Test helpers shared by the call tests (no tests here; excluded from publishing).
import assert from "node:assert/strict";

/** A throwaway self-signed certificate for localhost/127.0.0.1. */
export async function selfSignedCert(): Promise<{ cert: string; key: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "alknet-call-tls-" });
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-days",
      "2",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return {
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
    dir,
  };
}
