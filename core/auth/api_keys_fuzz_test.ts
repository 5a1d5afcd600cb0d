// Property-based fuzzing of API keys: verify on hostile and edited keys,
// record validation on arbitrary values (records come from the TOML
// configuration), and generate -> verify round trips.
import assert from "node:assert/strict";
import {
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedText,
  outcome,
  rawText,
  reasonOf,
} from "../../tests/fuzz_util.ts";
import {
  ApiKeyError,
  type ApiKeyRecord,
  ApiKeyStore,
  generateApiKey,
  hashApiKey,
  validateApiKeyRecord,
} from "./api_keys.ts";

const VERIFY_CODES = new Set(["malformed", "unknown-prefix", "wrong-secret", "expired"]);
const FIELDS = new Set(["prefix", "hash", "scopes", "expiresAt"]);
const NOW = Date.UTC(2030, 0, 1);

/** Expiry times, including the extremes a configuration can hold. */
const expiry = fc.oneof(
  fc.integer({ min: NOW - 1e9, max: NOW + 1e9 }),
  fc.constantFrom(
    -8.64e15,
    8.64e15,
    -8.64e15 - 1,
    8.64e15 + 1,
    -1e300,
    1e300,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER,
    0,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const scopes = fc.array(fc.constantFrom("relay:connect", "call:read", "call:*", "x"), {
  minLength: 1,
  maxLength: 3,
});

/** Keys generated once (random secrets), with fuzzed scopes and expiry. */
// Fixed keys in the generated format (the same seed replays the same cases).
const BASE = Array.from({ length: 8 }, (_, i) => {
  const prefix = `alk_${String(i).repeat(8).slice(0, 8)}`;
  const key = `${prefix}_${
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq-_".slice(i, i + 43).padEnd(43, "x")
  }`;
  return {
    key,
    record: { prefix, hash: hashApiKey(key), scopes: ["relay:connect"] } as ApiKeyRecord,
  };
});
const generated = fc.tuple(fc.constantFrom(...BASE), scopes, fc.option(expiry, { nil: undefined }))
  .map(([{ key, record }, sc, exp]) => {
    const r: ApiKeyRecord = { ...record, scopes: sc };
    if (exp !== undefined) r.expiresAt = exp;
    return { key, record: r };
  });

function checkVerify(store: ApiKeyStore, key: string) {
  const r = outcome(() => store.verify(key), [ApiKeyError]);
  if (!r.ok) {
    assert.ok(VERIFY_CODES.has(reasonOf(r.error)));
    assert.equal(store.resolve(key), null);
    // Messages name the prefix at most, never the secret.
    const secret = /^alk_[a-z0-9]{8}_(.+)$/.exec(key)?.[1];
    if (secret && secret.length > 8) assert.ok(!r.error.message.includes(secret));
    return r.error as ApiKeyError;
  }
  assert.match(r.value.id, /^alk_[a-z0-9]{8}$/);
  assert.ok(key.startsWith(r.value.id + "_"));
  return r.value;
}

/** Values shaped like records from a configuration file, often wrong. */
const recordish = fc.record({
  prefix: fc.oneof(
    fc.constantFrom(...BASE.map((b) => b.record.prefix)),
    mutatedText(fc.constant("alk_abcd1234")),
    fc.anything(),
  ),
  hash: fc.oneof(
    fc.constantFrom(...BASE.map((b) => b.record.hash)),
    mutatedText(fc.constant(hashApiKey("x"))),
    fc.anything(),
  ),
  scopes: fc.oneof(
    scopes,
    fc.array(fc.oneof(fc.string(), fc.anything()), { maxLength: 3 }),
    fc.anything(),
  ),
  expiresAt: fc.oneof(expiry, fc.anything(), fc.constantFrom(NaN, Infinity, -Infinity)),
}, { requiredKeys: [] });

export const cases: FuzzCase[] = [
  {
    name: "api keys: verify on raw text and edited keys gives an identity or an ApiKeyError",
    runs: 2800,
    property: fc.property(
      fc.oneof(rawText, mutatedText(fc.constantFrom(...BASE.map((b) => b.key)))),
      (key) => {
        const store = new ApiKeyStore(BASE.map((b) => b.record), { now: () => NOW });
        const r = checkVerify(store, key);
        // Only an unedited key verifies.
        if (!(r instanceof ApiKeyError)) assert.ok(BASE.some((b) => b.key === key));
      },
    ),
  },
  {
    name:
      "api keys: validateApiKeyRecord and the store accept or throw ApiKeyError(bad-record) naming a field",
    runs: 1750,
    property: fc.property(fc.array(recordish, { maxLength: 3 }), (records) => {
      for (const rec of records) {
        const r = outcome(() => validateApiKeyRecord(rec as ApiKeyRecord), [ApiKeyError]);
        if (!r.ok) {
          const e = r.error as ApiKeyError;
          assert.equal(reasonOf(e), "bad-record");
          assert.ok(e.field !== undefined && FIELDS.has(e.field));
        }
      }
      const s = outcome(
        () => new ApiKeyStore(records as ApiKeyRecord[], { now: () => NOW }),
        [ApiKeyError],
      );
      if (s.ok) {
        for (const b of BASE) checkVerify(s.value, b.key);
      } else {
        assert.equal(reasonOf(s.error), "bad-record");
      }
    }),
  },
  {
    name: "api keys: generate -> store -> verify round trip, expired exactly from expiresAt on",
    runs: 2100,
    property: fc.property(
      generated,
      fc.integer({ min: NOW - 1e9, max: NOW + 1e9 }),
      ({ key, record }, now) => {
        const built = outcome(() => new ApiKeyStore([record], { now: () => now }), [ApiKeyError]);
        if (!built.ok) {
          // Only an expiry outside what a Date can hold is refused up front.
          assert.equal((built.error as ApiKeyError).field, "expiresAt");
          assert.ok(Number.isNaN(new Date(record.expiresAt!).getTime()));
          return;
        }
        const store = built.value;
        const r = checkVerify(store, key);
        if (record.expiresAt !== undefined && now >= record.expiresAt) {
          assert.ok(r instanceof ApiKeyError && reasonOf(r) === "expired");
        } else {
          assert.ok(!(r instanceof ApiKeyError));
          assert.equal(r.id, record.prefix);
          assert.deepEqual(r.scopes, record.scopes);
          // And a freshly generated key has the same format and verifies.
          const fresh = generateApiKey({ scopes: record.scopes });
          assert.match(fresh.key, /^alk_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
          assert.equal(new ApiKeyStore([fresh.record]).verify(fresh.key).id, fresh.record.prefix);
        }
      },
    ),
  },
];

fuzzTests(cases);
