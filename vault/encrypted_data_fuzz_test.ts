// Property-based fuzzing of EncryptedData decoding: hostile JSON text and
// values, mutated encodings, and encode -> decode round trips.
import assert from "node:assert/strict";
import { fc, type FuzzCase, fuzzTests, mutatedText, outcome, rawText } from "../tests/fuzz_util.ts";
import {
  type DecodedEncryptedData,
  decodeEncryptedData,
  encodeEncryptedData,
  IV_LENGTH,
  parseEncryptedData,
  SALT_LENGTH,
  TAG_LENGTH,
} from "./encrypted_data.ts";
import { InvalidEncryptedData, UnsupportedKeyVersion } from "./errors.ts";
import { MAX_KEY_VERSION, MIN_KEY_VERSION } from "./paths.ts";

const PROBLEMS = new Set(["json", "shape", "base64", "iv-length", "salt-length", "data-length"]);

function check(input: unknown) {
  const r = outcome(() => decodeEncryptedData(input), [
    InvalidEncryptedData,
    UnsupportedKeyVersion,
  ]);
  if (!r.ok) {
    if (r.error instanceof InvalidEncryptedData) assert.ok(PROBLEMS.has(r.error.problem));
    return r.error;
  }
  const d = r.value;
  assert.ok(
    Number.isInteger(d.keyVersion) && d.keyVersion >= MIN_KEY_VERSION &&
      d.keyVersion <= MAX_KEY_VERSION,
  );
  assert.equal(d.iv.length, IV_LENGTH);
  assert.equal(d.salt.length, SALT_LENGTH);
  assert.ok(d.data.length >= TAG_LENGTH);
  // What decodes re-encodes to the canonical form, which decodes the same.
  assert.deepEqual(decodeEncryptedData(encodeEncryptedData(d)), d);
  return d;
}

const decoded: fc.Arbitrary<DecodedEncryptedData> = fc.record({
  keyVersion: fc.oneof(
    fc.integer({ min: MIN_KEY_VERSION, max: 100 }),
    fc.constantFrom(MIN_KEY_VERSION, MAX_KEY_VERSION),
    fc.integer({ min: MIN_KEY_VERSION, max: MAX_KEY_VERSION }),
  ),
  salt: fc.uint8Array({ minLength: SALT_LENGTH, maxLength: SALT_LENGTH }),
  iv: fc.uint8Array({ minLength: IV_LENGTH, maxLength: IV_LENGTH }),
  data: fc.uint8Array({ minLength: TAG_LENGTH, maxLength: 200 }),
}).map((d) => ({ ...d })); // a plain object, as decoding returns

const encodedText = decoded.map((d) => JSON.stringify(encodeEncryptedData(d)));

/** Objects with the right field names and wrong values. */
const nearly = fc.record({
  key_version: fc.oneof(
    fc.integer(),
    fc.double(),
    fc.constantFrom(1, 2, 2.5, -0, MAX_KEY_VERSION + 1, NaN, Infinity, "2", null),
  ),
  salt: fc.oneof(
    fc.base64String({ maxLength: 60 }),
    fc.string(),
    fc.constant(btoa("s".repeat(32)) + "\n"),
  ),
  iv: fc.oneof(
    fc.base64String({ maxLength: 24 }),
    fc.constant(btoa("i".repeat(12)).replace("=", "")),
  ),
  data: fc.oneof(fc.base64String({ maxLength: 60 }), fc.constant(""), fc.integer()),
  extra: fc.anything({ maxDepth: 1 }),
}, { requiredKeys: [] });

export const cases: FuzzCase[] = [
  {
    name:
      "EncryptedData: raw text, arbitrary values and near-miss objects give data or a typed vault error",
    runs: 2800,
    property: fc.property(
      fc.oneof(rawText, fc.anything({ maxDepth: 2 }), nearly, nearly.map((o) => JSON.stringify(o))),
      (v) => void check(v),
    ),
  },
  {
    name: "EncryptedData: mutated encodings (field values, base64, JSON syntax)",
    runs: 2800,
    property: fc.property(mutatedText(encodedText), (t) => void check(t)),
  },
  {
    name: "EncryptedData: encode -> decode round trip (text and object), parse is idempotent",
    runs: 2100,
    property: fc.property(decoded, (d) => {
      const e = encodeEncryptedData(d);
      assert.deepEqual(check(JSON.stringify(e)), d);
      assert.deepEqual(check(e), d);
      assert.deepEqual(parseEncryptedData(parseEncryptedData(JSON.stringify(e))), e);
    }),
  },
];

fuzzTests(cases);
