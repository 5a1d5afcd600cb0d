// Property-based fuzzing of SSH public key blobs (what authorized_keys,
// certificates and the SSH server decode): parsePublicKeyBlob on raw,
// synthesized and mutated blobs, blob round trips, and verify() on hostile
// signatures.
import assert from "node:assert/strict";
import {
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedBytes,
  outcome,
  rawBytes,
} from "../../tests/fuzz_util.ts";
import { KEYS, lyingBlobs } from "./fuzz_fixtures_test.ts";
import { keyTypeOf, parsePublicKeyBlob, PublicKeyError, SUPPORTED_KEY_TYPES } from "./keys.ts";
import { fingerprint } from "./ssh_keys.ts";
import { SshWriter } from "./ssh_wire.ts";

function check(blob: Uint8Array) {
  assert.ok(keyTypeOf(blob) === null || typeof keyTypeOf(blob) === "string");
  const r = outcome(() => parsePublicKeyBlob(blob), [PublicKeyError]);
  if (!r.ok) return r.error;
  const k = r.value;
  assert.ok(SUPPORTED_KEY_TYPES.includes(k.type));
  assert.equal(k.type, keyTypeOf(blob));
  assert.deepEqual(k.blob, blob);
  assert.equal(k.fingerprint, fingerprint(blob));
  return k;
}

const validBlob = fc.constantFrom(...KEYS.map((k) => k.blob));

/** Blobs built field by field: supported type names with random bodies. */
const synthesized = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((pk) =>
    new SshWriter().writeString("ssh-ed25519").writeString(pk).toBytes()
  ),
  fc.tuple(
    fc.constantFrom("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"),
    fc.constantFrom("nistp256", "nistp384", "nistp521", "", "nistp999"),
    fc.oneof(
      fc.uint8Array({ maxLength: 140 }),
      fc.uint8Array({ maxLength: 132 }).map((b) => Uint8Array.from([4, ...b])),
      fc.constantFrom(
        ...KEYS.slice(2, 5).map((k) =>
          k.blob.subarray(
            k.blob.length - (k.blob.length > 150 ? 133 : k.blob.length > 110 ? 97 : 65),
          )
        ),
      ),
    ),
  ).map(([t, id, q]) => new SshWriter().writeString(t).writeString(id).writeString(q).toBytes()),
  fc.tuple(
    fc.uint8Array({ maxLength: 8 }),
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.integer({ min: 120, max: 260 }).map((n) => new Uint8Array(n).fill(0xc3)),
    ),
  )
    .map(([e, n]) =>
      new SshWriter().writeString("ssh-rsa").writeString(e).writeString(n).toBytes()
    ),
  fc.tuple(fc.string({ unit: "binary", maxLength: 30 }), fc.uint8Array({ maxLength: 40 })).map((
    [t, rest],
  ) => new SshWriter().writeString(t).writeBytes(rest).toBytes()),
);

export const cases: FuzzCase[] = [
  {
    name: "public key blob: raw bytes give a key or PublicKeyError",
    runs: 1400,
    property: fc.property(rawBytes, (b) => void check(b)),
  },
  {
    name: "public key blob: synthesized bodies (bad lengths, curves, points, moduli)",
    runs: 1400,
    property: fc.property(synthesized, (b) => void check(b)),
  },
  {
    name: "public key blob: mutated and length-lying blobs of every key type",
    runs: 2100,
    property: fc.property(
      fc.oneof(mutatedBytes(validBlob), lyingBlobs(validBlob)),
      (b) => void check(b),
    ),
  },
  {
    name: "public key blob: round trip (blob, type, fingerprint) and real signatures verify",
    runs: 100,
    property: fc.property(
      fc.integer({ min: 0, max: KEYS.length - 1 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.boolean(),
      fc.constantFrom<"sha256" | "sha512">("sha256", "sha512"),
      (i, data, wire, hash) => {
        const key = KEYS[i];
        const k = check(key.blob);
        assert.ok(!(k instanceof Error));
        assert.equal(k.type, key.type);
        const sig = wire ? key.signWire(data, hash) : key.sign(data, hash);
        assert.equal(k.verify(data, sig, hash), true);
      },
    ),
  },
  {
    name: "public key verify: hostile signatures never throw, never verify",
    runs: 1050,
    property: fc.property(
      fc.integer({ min: 0, max: KEYS.length - 1 }),
      fc.uint8Array({ maxLength: 32 }),
      fc.oneof(
        rawBytes,
        fc.tuple(
          fc.constantFrom(...SUPPORTED_KEY_TYPES, "rsa-sha2-256", "rsa-sha2-512", "x"),
          rawBytes,
        )
          .map(([algo, raw]) => new SshWriter().writeString(algo).writeString(raw).toBytes()),
      ),
      fc.option(fc.constantFrom("sha1", "sha256", "sha512", "md5", ""), { nil: undefined }),
      (i, data, sig, hash) => {
        const k = parsePublicKeyBlob(KEYS[i].blob);
        const r = outcome(() => k.verify(data, sig, hash), []);
        assert.ok(r.ok);
        assert.equal(r.value, false);
      },
    ),
  },
];

fuzzTests(cases);
