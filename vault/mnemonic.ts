/**
 * BIP39 mnemonics (English): generation, validation with precise errors, and
 * the 64-byte seed (PBKDF2-HMAC-SHA512, 2048 rounds, through WebCrypto).
 *
 * @module
 */

import * as bip39 from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { wipe } from "./bytes.ts";
import { InvalidMnemonic } from "./errors.ts";

/**
 * The word counts BIP39 allows.
 *
 * @example
 * ```ts
 * import { MNEMONIC_WORD_COUNTS, type MnemonicWordCount } from "@alknet/vault";
 * const words: MnemonicWordCount = 24;
 * console.log(MNEMONIC_WORD_COUNTS.includes(words)); // true
 * ```
 */
export type MnemonicWordCount = 12 | 15 | 18 | 21 | 24;

/**
 * The word counts BIP39 allows, smallest first.
 *
 * @example
 * ```ts
 * import { MNEMONIC_WORD_COUNTS } from "@alknet/vault";
 * console.log(MNEMONIC_WORD_COUNTS.includes(24)); // true
 * ```
 */
export const MNEMONIC_WORD_COUNTS: readonly MnemonicWordCount[] = [12, 15, 18, 21, 24];

const WORDS = new Set(wordlist);

/**
 * Whether `n` is a BIP39 word count.
 *
 * @example
 * ```ts
 * import { isMnemonicWordCount } from "@alknet/vault";
 * console.log(isMnemonicWordCount(13)); // false
 * ```
 */
export function isMnemonicWordCount(n: number): n is MnemonicWordCount {
  return (MNEMONIC_WORD_COUNTS as readonly number[]).includes(n);
}

/**
 * Generates a random English mnemonic of `words` words (default 24).
 *
 * @example
 * ```ts
 * import { generateMnemonic } from "@alknet/vault";
 * console.log(generateMnemonic(12).split(" ").length); // 12
 * ```
 */
export function generateMnemonic(words: MnemonicWordCount = 24): string {
  if (!isMnemonicWordCount(words)) {
    throw new RangeError(`a mnemonic has 12, 15, 18, 21 or 24 words, not ${words}`);
  }
  return bip39.generateMnemonic(wordlist, (words / 3) * 32);
}

/**
 * The mnemonic for the given entropy (16, 20, 24, 28 or 32 bytes).
 *
 * @example
 * ```ts
 * import { entropyToMnemonic } from "@alknet/vault";
 * console.log(entropyToMnemonic(new Uint8Array(16))); // "abandon abandon ... about"
 * ```
 */
export function entropyToMnemonic(entropy: Uint8Array): string {
  if (![16, 20, 24, 28, 32].includes(entropy.length)) {
    throw new RangeError("entropy must be 16, 20, 24, 28 or 32 bytes");
  }
  return bip39.entropyToMnemonic(entropy, wordlist);
}

/**
 * Normalizes a phrase the way the vault reads it: Unicode NFKD, lower case,
 * words separated by single spaces.
 *
 * @example
 * ```ts
 * import { normalizeMnemonic } from "@alknet/vault";
 * console.log(normalizeMnemonic("  Abandon\tabout ")); // "abandon about"
 * ```
 */
export function normalizeMnemonic(phrase: string): string {
  return phrase.normalize("NFKD").toLowerCase().trim().split(/\s+/).filter((w) => w).join(" ");
}

/**
 * Checks a phrase and returns it normalized; throws `InvalidMnemonic` saying
 * what is wrong: no words, a wrong word count, an unknown word (with its
 * 1-based position) or a bad checksum.
 *
 * @example
 * ```ts
 * import { validateMnemonic } from "@alknet/vault";
 * const ok = validateMnemonic("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about");
 * console.log(ok.split(" ").length); // 12
 * ```
 */
export function validateMnemonic(phrase: string): string {
  const normalized = normalizeMnemonic(phrase);
  if (normalized === "") throw new InvalidMnemonic("empty", "no words");
  const words = normalized.split(" ");
  for (let i = 0; i < words.length; i++) {
    if (!WORDS.has(words[i])) {
      const shown = words[i].length > 16 ? words[i].slice(0, 16) + "…" : words[i];
      throw new InvalidMnemonic(
        "unknown-word",
        `word ${i + 1} (${JSON.stringify(shown)}) is not in the BIP39 English wordlist`,
        i + 1,
      );
    }
  }
  if (!isMnemonicWordCount(words.length)) {
    throw new InvalidMnemonic(
      "word-count",
      `${words.length} words; a mnemonic has 12, 15, 18, 21 or 24 words`,
    );
  }
  let entropy: Uint8Array | undefined;
  try {
    entropy = bip39.mnemonicToEntropy(normalized, wordlist);
  } catch {
    throw new InvalidMnemonic(
      "checksum",
      "bad checksum (the words are valid but one is wrong or they are out of order)",
    );
  } finally {
    wipe(entropy);
  }
  return normalized;
}

const encoder = new TextEncoder();

/**
 * The 64-byte BIP39 seed of a phrase and optional passphrase (both NFKD),
 * computed with WebCrypto PBKDF2-HMAC-SHA512. Validates the phrase first.
 * The caller owns the result and should `fill(0)` it when done.
 *
 * @example
 * ```ts
 * import { mnemonicToSeed } from "@alknet/vault";
 * const seed = await mnemonicToSeed("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "TREZOR");
 * console.log(seed.length); // 64
 * ```
 */
export async function mnemonicToSeed(phrase: string, passphrase = ""): Promise<Uint8Array> {
  const normalized = validateMnemonic(phrase);
  // Fresh arrays each call, zero-filled below once WebCrypto has consumed them.
  const password = encoder.encode(normalized);
  const salt = encoder.encode("mnemonic" + passphrase.normalize("NFKD"));
  try {
    const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
    const bits = await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-512", salt, iterations: 2048 },
      key,
      512,
    );
    return new Uint8Array(bits);
  } finally {
    wipe(password, salt);
  }
}
