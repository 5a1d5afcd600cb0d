// Property-based fuzzing of signed tokens: verifyToken on hostile text and
// on minted tokens with edits, and mint -> verify round trips.
import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
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
  keyLookup,
  mintToken,
  TOKEN_WINDOW_SECONDS,
  TokenError,
  tokenKeyId,
  verifyToken,
} from "./token.ts";

const CODES = new Set(["malformed", "expired", "unknown-key", "bad-signature"]);

// A few fixed signers: key generation is not what is being fuzzed.
const SEEDS = [1, 2, 3].map((n) => new Uint8Array(32).fill(n));
const PUBS = SEEDS.map((s) => ed25519.getPublicKey(s));
const lookup = keyLookup(PUBS.slice(0, 2)); // the third signer is unknown
const NOW = 1_750_000_000;

function check(
  token: string,
  now = NOW,
  look = lookup,
): ReturnType<typeof verifyToken> | TokenError {
  const r = outcome(() => verifyToken(token, look, now), [TokenError]);
  if (!r.ok) {
    const e = r.error as TokenError;
    assert.ok(CODES.has(reasonOf(e)), reasonOf(e));
    return e;
  }
  const v = r.value;
  assert.equal(v.publicKey.length, 32);
  assert.ok(PUBS.slice(0, 2).some((p) => p.every((b, i) => b === v.publicKey[i])));
  assert.ok(Math.abs(v.timestamp - now) <= TOKEN_WINDOW_SECONDS);
  return v;
}

// Minting costs two Ed25519 operations: mint a pool once, fuzz around it.
const TIMESTAMPS = [
  NOW - 400,
  NOW - 300,
  NOW - 1,
  NOW,
  NOW + 250,
  NOW + 301,
  0,
  2 ** 40,
  Number.MAX_SAFE_INTEGER,
];
const POOL = SEEDS.flatMap((seed, signer) =>
  TIMESTAMPS.map((ts) => ({ signer, ts, token: mintToken(seed, ts) }))
);
const pooled = fc.constantFrom(...POOL);
const minted = pooled.map((p) => p.token);

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Tokens of the right length built from the base64url alphabet: reach the signature checks. */
const rightShape = fc.string({
  minLength: 139,
  maxLength: 139,
  unit: fc.constantFrom(...B64URL),
});

/** A minted token with single characters swapped for other base64url characters. */
const substituted = fc.tuple(
  minted,
  fc.array(fc.tuple(fc.nat(), fc.constantFrom(...B64URL)), { minLength: 1, maxLength: 3 }),
)
  .map(([t, edits]): [string, string] => {
    const chars = [...t];
    for (const [at, c] of edits) chars[at % chars.length] = c;
    return [t, chars.join("")];
  });

export const cases: FuzzCase[] = [
  {
    name:
      "token: raw text and right-shaped base64url give a verified token or a TokenError with a known code",
    runs: 2800,
    property: fc.property(fc.oneof(rawText, rightShape), (t) => void check(t)),
  },
  {
    name: "token: minted tokens with edits (truncation, insertion, character swaps)",
    runs: 1400,
    property: fc.property(
      fc.oneof(
        minted.chain((t) => mutatedText(fc.constant(t)).map((m): [string, string] => [t, m])),
        substituted,
      ),
      ([original, edited]) => {
        const r = check(edited);
        // An edited token verifies only if the edit left it unchanged.
        if (!(r instanceof TokenError)) assert.equal(edited, original);
      },
    ),
  },
  {
    name:
      "token: mint -> verify round trip within the window; outside it, expired; unknown signer refused",
    runs: 550,
    property: fc.property(
      pooled,
      fc.integer({ min: -1000, max: 1000 }),
      ({ signer, ts, token }, skew) => {
        const now = ts + skew;
        fc.pre(Number.isSafeInteger(now)); // a clock past 2^53 s is not a clock
        const r = check(token, now);
        if (Math.abs(skew) > TOKEN_WINDOW_SECONDS) {
          assert.ok(r instanceof TokenError && reasonOf(r) === "expired");
        } else if (signer === 2) {
          assert.ok(r instanceof TokenError && reasonOf(r) === "unknown-key");
        } else {
          assert.ok(!(r instanceof TokenError));
          assert.equal(r.timestamp, ts);
          assert.deepEqual(r.publicKey, PUBS[signer]);
          assert.equal(
            r.keyId,
            Array.from(tokenKeyId(PUBS[signer]), (b) => b.toString(16).padStart(2, "0")).join(""),
          );
        }
      },
    ),
  },
  {
    name: "token: a lookup returning garbage keys never makes verify throw anything but TokenError",
    runs: 700,
    property: fc.property(
      minted,
      fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constant(PUBS[0])),
      (t, key) => void check(t, NOW, () => key),
    ),
  },
];

fuzzTests(cases);
