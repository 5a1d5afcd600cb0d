// Property-based fuzzing of keystore files: openKeystore on hostile text,
// on mutated keystores (with the right passphrase: an edit must never yield
// another secret), scrypt parameters past the memory cap refused before any
// work, and create -> open round trips. scrypt runs with N = 2..16 here so
// thousands of files can be opened; over-cap parameters are refused before
// scrypt runs, so a wrong bound would show as an allocation of gigabytes.
import assert from "node:assert/strict";
import {
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedText,
  outcomeAsync,
  rawText,
} from "../tests/fuzz_util.ts";
import { KeystoreCorrupt, KeystoreError, WrongPassphrase } from "./errors.ts";
import { createKeystore, MnemonicSecret, openKeystore } from "./keystore.ts";
import { entropyToMnemonic } from "./mnemonic.ts";

const PASS = "correct horse";

const mnemonic = fc.constantFrom(16, 20, 24, 28, 32).chain((n) =>
  fc.uint8Array({ minLength: n, maxLength: n }).map(entropyToMnemonic)
);

// Real keystores to mutate, written out (createKeystore picks random salt and
// iv) so a seed replays the same cases in any process. Passphrase: PASS.
const POOL: { mnemonic: string; bip39Pass: string; text: string }[] = [
  {
    mnemonic: "absurd amount doctor acoustic avoid letter advice cage absurd amount doctor adjust",
    bip39Pass: "",
    text:
      '{\n  "alknet_keystore": 1,\n  "kdf": {\n    "name": "scrypt",\n    "log_n": 1,\n    "r": 1,\n    "p": 1,\n    "salt": "6zQOO+4vTYIZ1qFReqSHpuvWQ6qa8Xm621IQ4S2KOCY="\n  },\n  "cipher": {\n    "name": "aes-256-gcm",\n    "iv": "I920mt/CR61yxvlv"\n  },\n  "check": "75Q/T0Iq2vPMs/TuN4qLYFM3Cfk9g2flIPRtvTaU1lg=",\n  "data": "gZMwohjpq2VbqVajZM42oSgAw7uu6YBuPld3yFqPjtX+jd3ZurQ2hH8dj2XvXZLJmDbl+ymJ7AMgXYXYj8gQRv/0f8H+CaO/C6drdZ23WcCohFgMVhouhlswk4JcR14mWknOzq55RHMhR7pQ95e2uMfpeKwtWpEM0G0u/OoconbP"\n}\n',
  },
  {
    mnemonic:
      "acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic balance",
    bip39Pass: "bip39 pässphrase",
    text:
      '{\n  "alknet_keystore": 1,\n  "kdf": {\n    "name": "scrypt",\n    "log_n": 1,\n    "r": 1,\n    "p": 1,\n    "salt": "A+ztKNIbykYT8Njk+eaduvhal6WqICk/dYQ3+Gy37CY="\n  },\n  "cipher": {\n    "name": "aes-256-gcm",\n    "iv": "upWFJKx3nMVUxjrT"\n  },\n  "check": "AqY29yC5i/SSI9QIZpDx59qpBGk0WyY90pxwDeSGKXs=",\n  "data": "wA/Wczqmvkd7gVaK18K+/TLQUsewJ0lhvb2BJNGon0mT1MzQiasmJCf+s51iqboaAI8l8I4XU+r6AMRlbSHRwcAIJMU3TWBom462CBscil/SKRQyLDxp+3Oh84cJ4YoUUEZvCrhiqNx8m7n2KhDfdRc+vvx+JynI3x6ascRsRohanIq9fxMnFHm6ccppOEBLteprnH3iXt6QZtM4I/jVJj6xCHmXXHvqPvHvwk6h756SHJScB2aV39b1Ht8C9w=="\n}\n',
  },
  {
    mnemonic:
      "adapt blossom school alcohol coral light army gather adapt blossom school alcohol coral light army gather adapt blossom school alcohol coral light army hold",
    bip39Pass: "x",
    text:
      '{\n  "alknet_keystore": 1,\n  "kdf": {\n    "name": "scrypt",\n    "log_n": 1,\n    "r": 1,\n    "p": 1,\n    "salt": "1bcp6nHtSiwnjQLbR72vziRFpcF/RKpqeQ/shZSCJdo="\n  },\n  "cipher": {\n    "name": "aes-256-gcm",\n    "iv": "ERVN1n9b+Cty9KGi"\n  },\n  "check": "O3a2fs/z20HHEtUCgKJbCDOwMf/5cSCdgZYfZVQhGQE=",\n  "data": "C7w5PI16cKVamlPEOumgHfjztfCmgVR8z5gswnmS5YM1VrgsezSW1e6QufIdOqMQvhxrBnLEWwBjFU7GwGdeLxO2NALz5VbLXdNqCv+v9wRbHTyWVJ0+XH6YDVI6RRuWwh/xaCCCqJ/5jKkekxwBIRTbkwn1xxQXcMUj35dVaQNHnF+OnA97FeC/KejqWZdD0cBniWZ5CqVrd4MFs9dDDCCzfwOAQP7cAfCR2no/Q/7bLRupSYn1T16flcTKh1cKrVGy7YUkWXePg55R"\n}\n',
  },
];

/** scrypt work (N·r·p) of a keystore text, or 0 when it is not JSON with numeric parameters. */
function cost(text: string): number {
  try {
    const k = JSON.parse(text)?.kdf;
    const [n, r, p] = [k?.log_n, k?.r, k?.p];
    if (![n, r, p].every((x) => typeof x === "number")) return 0;
    return 2 ** n * r * p;
  } catch {
    return 0;
  }
}

async function open(text: string, passphrase = PASS) {
  const r = await outcomeAsync(() => openKeystore(text, passphrase, "fuzz.json"), [KeystoreError]);
  if (!r.ok) {
    assert.ok(
      r.error instanceof KeystoreCorrupt || r.error instanceof WrongPassphrase,
      r.error.name,
    );
    assert.ok(r.error.message.startsWith("keystore fuzz.json: "));
  }
  return r;
}

export const cases: FuzzCase[] = [
  {
    name:
      "keystore: raw text and arbitrary JSON are refused with KeystoreCorrupt or WrongPassphrase",
    runs: 2100,
    property: fc.asyncProperty(
      fc.oneof(rawText, fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v))),
      async (t) => {
        fc.pre(cost(t) <= 2 ** 16);
        const r = await open(t);
        assert.ok(!r.ok);
      },
    ),
  },
  {
    name:
      "keystore: mutated keystores open to the original secret or fail typed, never to another secret",
    runs: 1400,
    property: fc.asyncProperty(
      fc.constantFrom(...POOL).chain((k) =>
        mutatedText(fc.constant(k.text)).map((t) => ({ k, t }))
      ),
      async ({ k, t }) => {
        fc.pre(cost(t) <= 2 ** 16);
        const r = await open(t);
        if (r.ok) {
          assert.equal(r.value.mnemonic, k.mnemonic);
          assert.equal(r.value.mnemonicPassphrase, k.bip39Pass);
        }
      },
    ),
  },
  {
    name: "keystore: scrypt parameters out of range or past the memory cap are refused as corrupt",
    runs: 350,
    property: fc.asyncProperty(
      fc.constantFrom(...POOL),
      fc.record({
        log_n: fc.oneof(
          fc.constantFrom(0, -1, 1.5, 25, 64, 1e9, NaN),
          fc.integer({ min: 22, max: 24 }),
        ),
        r: fc.oneof(fc.constantFrom(0, 65, 1e9, 2.5), fc.integer({ min: 32, max: 64 })),
        p: fc.oneof(fc.constantFrom(0, 65, -3), fc.integer({ min: 1, max: 64 })),
      }),
      async (k, params) => {
        const over = 128 * params.r * (2 ** params.log_n + params.p) > 2 ** 31 ||
          ![params.log_n, params.r, params.p].every((x) => Number.isInteger(x) && x >= 1) ||
          params.log_n > 24 || params.r > 64 || params.p > 64;
        fc.pre(over);
        const doc = JSON.parse(k.text);
        doc.kdf = { ...doc.kdf, ...params };
        const r = await open(JSON.stringify(doc));
        assert.ok(!r.ok && r.error instanceof KeystoreCorrupt);
      },
    ),
  },
  {
    name: "keystore: create -> open round trip; another passphrase (after NFKC) is WrongPassphrase",
    runs: 300,
    property: fc.asyncProperty(
      mnemonic,
      fc.string({ unit: "binary", maxLength: 12 }),
      fc.string({ unit: "binary", minLength: 1, maxLength: 12 }),
      fc.oneof(
        fc.string({ unit: "binary", maxLength: 12 }),
        fc.constantFrom("\ufb01", "fi", "Å", "A\u030a"),
      ),
      fc.constantFrom(1, 2, 3, 4),
      async (m, bip39Pass, pass, other, logN) => {
        const text = await createKeystore(new MnemonicSecret(m, bip39Pass), pass, {
          logN,
          r: 1,
          p: 1,
        });
        const r = await open(text, pass);
        assert.ok(r.ok);
        assert.equal(r.value.mnemonic, m);
        assert.equal(r.value.mnemonicPassphrase, bip39Pass);
        const w = await open(text, other);
        assert.equal(w.ok, other.normalize("NFKC") === pass.normalize("NFKC"));
        if (!w.ok) assert.ok(w.error instanceof WrongPassphrase);
      },
    ),
  },
];

fuzzTests(cases);
