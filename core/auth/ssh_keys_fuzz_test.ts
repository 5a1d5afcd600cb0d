// Property-based fuzzing of OpenSSH key files: private key text (armor,
// base64 body, openssh-key-v1 binary), `.pub` lines, and their round trips.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedBytes,
  mutatedText,
  outcome,
  rawText,
} from "../../tests/fuzz_util.ts";
import { fixedEd25519File, KEYS, lyingBlobs, OPENSSH_OTHER_FILES } from "./fuzz_fixtures_test.ts";
import {
  encodeOpenSshPrivateKey,
  fingerprint,
  KeyError,
  parsePrivateKey,
  parsePublicKeyLine,
  publicKeyLine,
} from "./ssh_keys.ts";

const KINDS = new Set([
  "not-found",
  "unreadable",
  "pem-format",
  "encrypted",
  "malformed",
  "unsupported",
]);
const BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
const END = "-----END OPENSSH PRIVATE KEY-----";

function checkPrivate(text: string) {
  const r = outcome(() => parsePrivateKey(text, "fuzz"), [KeyError]);
  if (!r.ok) {
    assert.ok(KINDS.has((r.error as KeyError).kind));
    assert.ok(r.error.message.startsWith("fuzz: "));
    return r.error;
  }
  const k = r.value;
  assert.equal(k.fingerprint, fingerprint(k.publicBlob));
  assert.ok(k.pem.startsWith(BEGIN) && k.pem.trimEnd().endsWith(END));
  if (k.type === "ssh-ed25519") assert.equal(k.seed?.length, 32);
  return k;
}

function checkPublic(line: string) {
  const r = outcome(() => parsePublicKeyLine(line, "fuzz"), [KeyError]);
  if (!r.ok) {
    assert.equal((r.error as KeyError).kind, "malformed");
    return r.error;
  }
  const [type] = line.trim().split(/\s+/);
  assert.equal(r.value.type, type);
  return r.value;
}

/** Armors binary as an OpenSSH private key file. */
function armor(bin: Uint8Array): string {
  const b64 = Buffer.from(bin).toString("base64");
  return `${BEGIN}\n${(b64.match(/.{1,70}/g) ?? []).join("\n")}\n${END}\n`;
}

function unarmor(text: string): Uint8Array {
  const body = text.slice(text.indexOf(BEGIN) + BEGIN.length, text.indexOf(END));
  return new Uint8Array(Buffer.from(body.replace(/\s+/g, ""), "base64"));
}

const comment = fc.string({ unit: "binary", maxLength: 40 });

// Fixed files: an Ed25519 key per seed (fixed check bytes), and the fixture RSA/ECDSA files.
const ED_FILES = [1, 2, 3].map((n) => fixedEd25519File(new Uint8Array(32).fill(n), `key ${n}`));
const OTHER_FILES = OPENSSH_OTHER_FILES;
const FILES = [...ED_FILES, ...OTHER_FILES];
const file = fc.constantFrom(...FILES);

/** The openssh-key-v1 binary of a file, mutated (including lying string lengths after the magic). */
const mutatedBinary = fc.oneof(
  mutatedBytes(file.map(unarmor)),
  file.map(unarmor).chain((bin) =>
    lyingBlobs(fc.constant(bin.subarray(15))).map((rest) =>
      Uint8Array.from([...bin.subarray(0, 15), ...rest])
    )
  ),
).map(armor);

/** Other PEM kinds and armor damage. */
const pemish = fc.tuple(
  fc.constantFrom(
    "OPENSSH PRIVATE KEY",
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "X",
    "",
  ),
  fc.oneof(fc.base64String({ maxLength: 200 }), rawText),
  fc.boolean(),
).map(([label, body, end]) =>
  `-----BEGIN ${label}-----\n${body}\n${end ? `-----END ${label}-----` : ""}`
);

const pubLine = fc.tuple(fc.constantFrom(...KEYS), fc.stringMatching(/^[!-~]+( [!-~]+){0,3}$/))
  .map(([k, c]) => publicKeyLine(k.blob, c));

export const cases: FuzzCase[] = [
  {
    name: "private key: raw and PEM-shaped text give a key or KeyError",
    runs: 1400,
    property: fc.property(fc.oneof(rawText, pemish), (t) => void checkPrivate(t)),
  },
  {
    name: "private key: mutated files (text edits; binary edits and lying lengths under the armor)",
    runs: 1400,
    property: fc.property(fc.oneof(mutatedText(file), mutatedBinary), (t) => void checkPrivate(t)),
  },
  {
    name:
      "private key: encode -> parse round trip (seed, comment, blob, fingerprint; pem reparses the same)",
    runs: 200,
    property: fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), comment, (seed, c) => {
      const k = checkPrivate(encodeOpenSshPrivateKey(seed, c));
      assert.ok(!(k instanceof Error));
      assert.deepEqual(k.seed, seed);
      assert.equal(k.comment, c);
      const again = checkPrivate(k.pem);
      assert.ok(!(again instanceof Error));
      assert.deepEqual(again.publicBlob, k.publicBlob);
      assert.equal(again.fingerprint, k.fingerprint);
    }),
  },
  {
    name: "private key: RSA and ECDSA files from ssh2 parse with the right type",
    runs: 20,
    property: fc.property(fc.constantFrom(...OTHER_FILES), (t) => {
      const k = checkPrivate(t);
      assert.ok(!(k instanceof Error));
      assert.match(k.type, /^(ssh-rsa|ecdsa-sha2-nistp256)$/);
    }),
  },
  {
    name: "public key line: raw text and mutated lines give a key or KeyError(malformed)",
    runs: 2100,
    property: fc.property(fc.oneof(rawText, mutatedText(pubLine)), (l) => void checkPublic(l)),
  },
  {
    name:
      "public key line: publicKeyLine -> parsePublicKeyLine round trip; garbage blobs refused with KeyError",
    runs: 1400,
    property: fc.property(
      fc.constantFrom(...KEYS),
      fc.stringMatching(/^([!-~]+( [!-~]+){0,3})?$/),
      fc.uint8Array({ maxLength: 40 }),
      (k, c, junk) => {
        const p = checkPublic(publicKeyLine(k.blob, c));
        assert.ok(!(p instanceof Error));
        assert.deepEqual(p.blob, k.blob);
        assert.equal(p.comment, c);
        const r = outcome(() => publicKeyLine(junk, c), [KeyError]);
        if (r.ok) void checkPublic(r.value);
      },
    ),
  },
];

fuzzTests(cases);
