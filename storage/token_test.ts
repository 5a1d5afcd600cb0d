import assert from "node:assert/strict";
import { tokenKeyIdOf, verifySignedToken } from "./token.ts";
import { signToken, testKey } from "./testing/keys.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("tokens: a good token verifies against its key, within ±300 s", async () => {
  const k = testKey();
  const id = hex(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(k.publicKey))),
  );
  const lookup = (keyId: string) => keyId === id ? k.publicKey : null;
  const now = 1_700_000_000;
  assert.equal(verifySignedToken(signToken(k, now), lookup, now), id);
  assert.equal(tokenKeyIdOf(signToken(k, now)), id);
  assert.equal(verifySignedToken(signToken(k, now - 300), lookup, now), id);
  assert.equal(verifySignedToken(signToken(k, now + 300), lookup, now), id);
  assert.equal(verifySignedToken(signToken(k, now - 301), lookup, now), null);
  assert.equal(verifySignedToken(signToken(k, now + 301), lookup, now), null);
});

Deno.test("tokens: wrong key, edited bytes and junk are refused without throwing", () => {
  const k = testKey();
  const other = testKey();
  const now = 1_700_000_000;
  const token = signToken(k, now);
  assert.equal(verifySignedToken(token, () => other.publicKey, now), null);
  assert.equal(verifySignedToken(token, () => null, now), null);
  const flipped = token.slice(0, 100) + (token[100] === "A" ? "B" : "A") + token.slice(101);
  assert.equal(verifySignedToken(flipped, () => k.publicKey, now), null);
  for (const junk of ["", "x", "x".repeat(139), "!".repeat(139), token + "A"]) {
    assert.equal(verifySignedToken(junk, () => k.publicKey, now), null);
    assert.equal(tokenKeyIdOf(junk) === null || junk.length === 139, true);
  }
  assert.equal(verifySignedToken(null as unknown as string, () => k.publicKey, now), null);
});
