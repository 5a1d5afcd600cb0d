// Property-based fuzzing of recovery phrase validation (typed or pasted by
// the user, read from keystores): hostile and edited phrases give the
// normalized phrase or InvalidMnemonic, and entropy -> phrase round trips.
import assert from "node:assert/strict";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { fc, type FuzzCase, fuzzTests, mutatedText, outcome, rawText } from "../tests/fuzz_util.ts";
import { InvalidMnemonic } from "./errors.ts";
import { entropyToMnemonic, normalizeMnemonic, validateMnemonic } from "./mnemonic.ts";

const PROBLEMS = new Set(["empty", "word-count", "unknown-word", "checksum"]);

function check(phrase: string) {
  const r = outcome(() => validateMnemonic(phrase), [InvalidMnemonic]);
  if (!r.ok) {
    const e = r.error as InvalidMnemonic;
    assert.ok(PROBLEMS.has(e.problem));
    if (e.problem === "unknown-word") assert.ok(e.position !== undefined && e.position >= 1);
    return e;
  }
  assert.equal(r.value, normalizeMnemonic(phrase));
  assert.equal(validateMnemonic(r.value), r.value);
  return r.value;
}

const phrase = fc.constantFrom(16, 20, 24, 28, 32).chain((n) =>
  fc.uint8Array({ minLength: n, maxLength: n }).map(entropyToMnemonic)
);

/** A valid phrase with one word replaced by another list word (a typo the checksum must catch most of the time). */
const swapped = fc.tuple(phrase, fc.nat(), fc.constantFrom(...wordlist)).map(([p, i, w]) => {
  const words = p.split(" ");
  words[i % words.length] = w;
  return words.join(" ");
});

export const cases: FuzzCase[] = [
  {
    name:
      "mnemonic: raw, edited and word-swapped phrases give the normalized phrase or InvalidMnemonic",
    runs: 1050,
    property: fc.property(fc.oneof(rawText, mutatedText(phrase), swapped), (p) => void check(p)),
  },
  {
    name: "mnemonic: entropy -> phrase round trip, also with odd case and spacing",
    runs: 400,
    property: fc.property(
      phrase,
      fc.constantFrom(" ", "  ", "\t", "\n", "\u3000"),
      fc.boolean(),
      (p, sep, upper) => {
        let messy = p.split(" ").join(sep);
        if (upper) messy = messy.toUpperCase();
        assert.equal(check(` ${messy} `), p);
      },
    ),
  },
];

fuzzTests(cases);
