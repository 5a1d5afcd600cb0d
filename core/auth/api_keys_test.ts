import assert from "node:assert/strict";
import { ApiKeyError, ApiKeyStore, generateApiKey, hashApiKey } from "./api_keys.ts";
import { ConfigIdentityProvider } from "./provider.ts";
import { AuthorizedKeysAuthenticator } from "./authenticator.ts";

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiKeyError) return e.reason;
    throw e;
  }
  return "ok";
}

Deno.test("api keys: generated key has the alk_ form and verifies", () => {
  const { key, record } = generateApiKey({ scopes: ["relay:connect", "call:read"] });
  assert.match(key, /^alk_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
  assert.equal(record.prefix, key.slice(0, 12));
  assert.equal(record.hash, hashApiKey(key));
  assert.match(record.hash, /^sha256:[0-9a-f]{64}$/);
  assert.ok(!JSON.stringify(record).includes(key.slice(13)), "record holds no secret");
  const id = new ApiKeyStore([record]).verify(key);
  assert.deepEqual(id, {
    id: record.prefix,
    scopes: ["relay:connect", "call:read"],
    resources: {},
  });
});

Deno.test("api keys: expired, wrong secret, unknown prefix, malformed", () => {
  let now = Date.UTC(2030, 0, 1);
  const { key, record } = generateApiKey({ expiresAt: Date.UTC(2030, 0, 2) });
  const store = new ApiKeyStore([record], { now: () => now });
  assert.equal(code(() => store.verify(key)), "ok");
  now = Date.UTC(2030, 0, 2);
  assert.equal(code(() => store.verify(key)), "expired");
  now = 0;
  const wrong = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
  assert.equal(code(() => store.verify(wrong)), "wrong-secret");
  const other = generateApiKey().key;
  assert.equal(code(() => store.verify(other)), "unknown-prefix");
  for (
    const bad of ["", "alk_", "alk_short_x", key + "x", key.replace("alk_", "ALK_"), "sk_" + key]
  ) {
    assert.equal(code(() => store.verify(bad)), "malformed", bad);
  }
  assert.equal(store.resolve(wrong), null);
  try {
    store.verify(wrong);
  } catch (e) {
    assert.ok(!(e as Error).message.includes(wrong.slice(13)), "message never shows the secret");
  }
});

Deno.test("api keys: bad records are refused naming the field", () => {
  const { record } = generateApiKey();
  assert.throws(
    () => new ApiKeyStore([{ ...record, prefix: "alk_UPPER123" }]),
    /prefix 'alk_UPPER123'/,
  );
  assert.throws(() => new ApiKeyStore([{ ...record, hash: "md5:00" }]), /hash must be sha256:/);
  assert.throws(() => new ApiKeyStore([{ ...record, scopes: [""] }]), /scopes must be/);
  assert.throws(() => new ApiKeyStore([record, record]), /listed twice/);
  assert.throws(() => new ApiKeyStore([{ ...record, expiresAt: NaN }]), /expiresAt/);
});

Deno.test("ConfigIdentityProvider: API keys and tokens", () => {
  const { key, record } = generateApiKey();
  const p = new ConfigIdentityProvider(
    AuthorizedKeysAuthenticator.fromText("", "none"),
    new ApiKeyStore([record]),
  );
  assert.equal(p.resolveToken(key)?.id, record.prefix);
  assert.equal(p.resolveToken("alk_nope"), null);
  assert.equal(p.resolveToken("not-a-token"), null);
  assert.equal(p.resolveFingerprint("SHA256:none"), null);
  assert.equal(
    new ConfigIdentityProvider(AuthorizedKeysAuthenticator.fromText("", "x")).resolveToken(key),
    null,
  );
});
