import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { Buffer } from "node:buffer";
import { findKnownHost, HostKeyError, knownHostsName, verifyHostKey } from "./known_hosts.ts";
import { generateEd25519Key, parsePublicKeyLine } from "../auth/ssh_keys.ts";

function blobOf(line: string): Uint8Array {
  return parsePublicKeyLine(line, "t").blob;
}

Deno.test("known_hosts lookups: plain, port form, wildcard, negation, hashed, revoked", () => {
  const a = generateEd25519Key().publicLine;
  const b = generateEd25519Key().publicLine;
  const salt = crypto.getRandomValues(new Uint8Array(20));
  const hash = createHmac("sha1", salt).update("[h.example]:2222").digest("base64");
  const text = [
    `# comment`,
    `example.com ${a}`,
    `[example.com]:2222 ${b}`,
    `*.wild.test,!bad.wild.test ${a}`,
    `|1|${Buffer.from(salt).toString("base64")}|${hash} ${b}`,
    `@revoked revoked.test ${a}`,
    `@cert-authority *.ca.test ${a}`,
    `garbage line`,
  ].join("\n");
  assert.equal(knownHostsName("example.com", 22), "example.com");
  assert.equal(findKnownHost(text, "example.com", 22).length, 1);
  assert.deepEqual(findKnownHost(text, "example.com", 2222)[0].blob, blobOf(b));
  assert.equal(findKnownHost(text, "x.wild.test", 22).length, 1);
  assert.equal(findKnownHost(text, "bad.wild.test", 22).length, 0);
  assert.deepEqual(findKnownHost(text, "h.example", 2222)[0].blob, blobOf(b));
  assert.equal(findKnownHost(text, "revoked.test", 22)[0].revoked, true);
  assert.equal(findKnownHost(text, "x.ca.test", 22).length, 0);
});

Deno.test("trust on first use, then a changed key is refused; pinning", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/sub/known_hosts`;
  try {
    const k1 = generateEd25519Key();
    const k2 = generateEd25519Key();
    const told: string[] = [];
    await verifyHostKey("::1", 2222, blobOf(k1.publicLine), {
      knownHostsPath: path,
      onTrusted: (m) => told.push(m),
    });
    assert.match(told[0], /trusting new host key for \[::1\]:2222/);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    await verifyHostKey("::1", 2222, blobOf(k1.publicLine), { knownHostsPath: path });
    await assert.rejects(
      verifyHostKey("::1", 2222, blobOf(k2.publicLine), { knownHostsPath: path }),
      (e: unknown) =>
        e instanceof HostKeyError && /CHANGED/.test(e.message) &&
        e.message.includes(k1.fingerprint),
    );
    // Another port of the same host is another entry.
    await verifyHostKey("::1", 2223, blobOf(k2.publicLine), { knownHostsPath: path });
    await verifyHostKey("h", 1, blobOf(k1.publicLine), { pinnedFingerprint: k1.fingerprint });
    await assert.rejects(
      verifyHostKey("h", 1, blobOf(k2.publicLine), { pinnedFingerprint: k1.fingerprint }),
      /does not match the pinned fingerprint/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
