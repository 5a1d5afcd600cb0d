import assert from "node:assert/strict";
import { StorageError } from "./errors.ts";
import { ed25519RawKey, isFingerprint, parsePublicKey } from "./ssh_key.ts";
import { testKey } from "./testing/keys.ts";

Deno.test("ssh keys: an ed25519 line gives fingerprint, token key id and comment", async () => {
  const k = testKey("me@laptop");
  const parsed = parsePublicKey(`  ${k.line}  `);
  assert.equal(parsed.type, "ssh-ed25519");
  assert.equal(parsed.comment, "me@laptop");
  assert.ok(isFingerprint(parsed.fingerprint));
  const blob = Uint8Array.from(atob(k.line.split(" ")[1]), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", blob));
  assert.equal(
    parsed.fingerprint,
    "SHA256:" + btoa(String.fromCharCode(...digest)).replace(/=+$/, ""),
  );
  const keyDigest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new Uint8Array(k.publicKey)),
  );
  assert.equal(
    parsed.tokenKeyId,
    Array.from(keyDigest, (b) => b.toString(16).padStart(2, "0")).join(""),
  );
  assert.deepEqual(ed25519RawKey(parsed.publicKey), k.publicKey);
});

Deno.test("ssh keys: OpenSSH's own fingerprint of a known key", () => {
  // ssh-keygen -lf on this line prints SHA256:kmYcvdi2GkPeWxB6XLjrZB8JHsy2Hm8luHMFp9GMvqk
  const line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  assert.equal(
    parsePublicKey(line).fingerprint,
    "SHA256:kmYcvdi2GkPeWxB6XLjrZB8JHsy2Hm8luHMFp9GMvqk",
  );
});

Deno.test("ssh keys: other key types get a fingerprint and no token key id", () => {
  const enc = new TextEncoder();
  const str = (b: Uint8Array) => {
    const o = new Uint8Array(4 + b.length);
    new DataView(o.buffer).setUint32(0, b.length);
    o.set(b, 4);
    return o;
  };
  const blob = new Uint8Array([
    ...str(enc.encode("ssh-rsa")),
    ...str(new Uint8Array([1, 0, 1])),
    ...str(new Uint8Array(256)),
  ]);
  const parsed = parsePublicKey(`ssh-rsa ${btoa(String.fromCharCode(...blob))}`);
  assert.equal(parsed.type, "ssh-rsa");
  assert.equal(parsed.tokenKeyId, null);
  assert.equal(ed25519RawKey(parsed.publicKey), null);
});

Deno.test("ssh keys: malformed lines are refused with invalid-input", () => {
  const k = testKey();
  const b64 = k.line.split(" ")[1];
  for (
    const bad of [
      "",
      "ssh-ed25519",
      "ssh-ed25519 !!!",
      `ssh-rsa ${b64}`,
      `ssh-ed25519 ${b64.slice(0, 20)}`,
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAAQA=",
    ]
  ) {
    assert.throws(
      () => parsePublicKey(bad),
      (e) => e instanceof StorageError && e.code === "invalid-input",
      bad,
    );
  }
  assert.equal(isFingerprint("SHA256:short"), false);
  assert.equal(isFingerprint("SHA256:" + "a".repeat(43)), true);
});
