import assert from "node:assert/strict";
import { CoreError } from "../util/errors.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  keyLookup,
  mintToken,
  TokenError,
  TokenExpiredError,
  tokenKeyId,
  TokenMalformedError,
  TokenSignatureError,
  TokenUnknownKeyError,
  verifyToken,
} from "./token.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { AuthorizedKeysAuthenticator } from "./authenticator.ts";
import { ed25519Key } from "./fixtures_test.ts";

const seed = new Uint8Array(32).fill(42);
const pub = ed25519.getPublicKey(seed);
const lookup = keyLookup([pub]);
const T = 1_800_000_000;

function b64urlDecode(s: string): Uint8Array {
  const t = s.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(t + "=".repeat((4 - t.length % 4) % 4)), (c) => c.charCodeAt(0));
}
function b64urlEncode(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

Deno.test("token: layout is keyId || ts || sig, base64url without padding", () => {
  const token = mintToken(seed, T);
  assert.match(token, /^[A-Za-z0-9_-]{139}$/);
  const raw = b64urlDecode(token);
  assert.equal(raw.length, 104);
  assert.deepEqual(raw.subarray(0, 32), sha256(pub));
  assert.deepEqual(raw.subarray(0, 32), tokenKeyId(pub));
  assert.equal(new DataView(raw.buffer).getBigUint64(32), BigInt(T));
  assert.equal(ed25519.verify(raw.subarray(40), raw.subarray(0, 40), pub), true);
});

Deno.test("token: valid token verifies", () => {
  const v = verifyToken(mintToken(seed, T), lookup, T);
  assert.equal(v.timestamp, T);
  assert.deepEqual(v.publicKey, pub);
  assert.equal(v.keyId.length, 64);
  // default clock
  assert.equal(verifyToken(mintToken(seed), lookup).publicKey.length, 32);
});

Deno.test("token: ±300 s window boundaries", () => {
  const tok = mintToken(seed, T);
  verifyToken(tok, lookup, T + 300);
  verifyToken(tok, lookup, T - 300);
  assert.throws(
    () => verifyToken(tok, lookup, T + 301),
    (e: unknown) =>
      e instanceof TokenExpiredError && e.reason === "expired" && e.skewSeconds === -301 &&
      /301 s old/.test(e.message),
  );
  assert.throws(
    () => verifyToken(tok, lookup, T - 301),
    (e: unknown) => e instanceof TokenExpiredError && /in the future/.test(e.message),
  );
});

Deno.test("token: wrong key, unknown key, tampered signature", () => {
  const other = new Uint8Array(32).fill(7);
  const tok = mintToken(other, T);
  assert.throws(
    () => verifyToken(tok, lookup, T),
    (e: unknown) =>
      e instanceof TokenUnknownKeyError && e.reason === "unknown-key" && e.keyId.length === 64,
  );
  // The lookup returns a key that does not hash to the key id.
  assert.throws(() => verifyToken(tok, () => pub, T), TokenSignatureError);
  const raw = b64urlDecode(mintToken(seed, T));
  raw[60] ^= 1;
  assert.throws(() => verifyToken(b64urlEncode(raw), lookup, T), TokenSignatureError);
  const raw2 = b64urlDecode(mintToken(seed, T));
  new DataView(raw2.buffer).setBigUint64(32, BigInt(T + 1)); // timestamp no longer signed
  assert.throws(() => verifyToken(b64urlEncode(raw2), lookup, T), TokenSignatureError);
});

Deno.test("token: malformed tokens", () => {
  const good = mintToken(seed, T);
  for (
    const bad of [
      "",
      "abc",
      good + "A",
      good.slice(1),
      good.slice(0, -1) + "=",
      good.slice(0, -1) + "+",
      "!".repeat(139),
      good.slice(0, -1) + "B", // non-canonical last character: stray bits
    ]
  ) {
    assert.throws(() => verifyToken(bad, lookup, T), (e: unknown) => {
      assert.ok(
        e instanceof TokenMalformedError || e instanceof TokenSignatureError,
        `${bad}: ${e}`,
      );
      return e instanceof TokenError;
    });
  }
  assert.throws(() => verifyToken(123 as unknown as string, lookup, T), TokenMalformedError);
  const raw = b64urlDecode(good);
  raw.fill(0xff, 32, 40);
  assert.throws(() => verifyToken(b64urlEncode(raw), lookup, T), /timestamp out of range/);
  assert.throws(
    () => mintToken(new Uint8Array(31)),
    (e: unknown) => e instanceof CoreError && e.code === "key",
  );
});

Deno.test("token: authorized_keys keys sign tokens; identity is the SSH fingerprint", () => {
  const k = ed25519Key(11);
  let now = T * 1000;
  const auth = AuthorizedKeysAuthenticator.fromText(
    `alknet-scopes="call:read",from="127.0.0.1",expiry-time="20400101Z" ${k.line()}`,
    "ak",
    undefined,
    { now: () => now },
  );
  const tok = mintToken(k.seed!, T);
  const r = auth.authorizeToken(tok, "127.0.0.1");
  assert.ok(r.ok, r.ok ? "" : r.reason);
  const ssh = auth.authorize({
    algo: "ssh-ed25519",
    key: k.blob,
    username: "",
    remoteAddress: "127.0.0.1",
    remotePort: 1,
  });
  assert.ok(ssh.ok);
  assert.equal(r.identity.id, ssh.fingerprint);
  assert.deepEqual(r.identity.scopes, ["call:read"]);
  assert.equal(auth.resolveToken(tok)?.id, ssh.fingerprint);
  const from = auth.authorizeToken(tok, "10.0.0.1");
  assert.equal(from.ok ? "" : from.code, "from");
  const unknown = auth.authorizeToken(mintToken(seed, T));
  assert.equal(unknown.ok ? "" : unknown.code, "unknown-key");
  now = Date.UTC(2040, 0, 1);
  const late = auth.authorizeToken(mintToken(k.seed!, now / 1000));
  assert.equal(late.ok ? "" : late.code, "key-expired");
  assert.equal(auth.authorizeToken("garbage").ok, false);
});
