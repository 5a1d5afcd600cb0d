// Shared plumbing for the property-based fuzz tests (`*_fuzz_test.ts` beside
// each decoder) and the long campaign in bench/fuzz.ts. Test-only: nothing
// here is published.
//
// Every fuzz file exports its cases (`cases: FuzzCase[]`) and registers them
// with `fuzzTests`. The seed is fixed (ALKNET_FUZZ_SEED overrides it) so a CI
// failure replays exactly; ALKNET_FUZZ_SCALE multiplies every case's run count.

import fc from "fast-check";

export { fc };

/** The default seed; override with ALKNET_FUZZ_SEED. */
export const DEFAULT_FUZZ_SEED = 0x5eed_a1c;

function envNumber(name: string): number | undefined {
  let raw: string | undefined;
  try {
    raw = Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: use the defaults
  }
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name}=${raw} is not a number`);
  return n;
}

/** The seed every property runs with. */
export const FUZZ_SEED: number = Math.trunc(envNumber("ALKNET_FUZZ_SEED") ?? DEFAULT_FUZZ_SEED);

/** Multiplier for CI run counts (default 1). */
export const FUZZ_SCALE: number = envNumber("ALKNET_FUZZ_SCALE") ?? 1;

/** A property over any arguments, sync or async. */
// deno-lint-ignore no-explicit-any
export type AnyProperty = fc.IRawProperty<any, boolean>;

/** One named property of one decoder. */
export interface FuzzCase {
  /** Decoder, then what the property checks: `socks5 request: round trip`. */
  name: string;
  /** Cases per CI run (before ALKNET_FUZZ_SCALE). */
  runs: number;
  /** The property. */
  property: AnyProperty;
}

/** Runs one case with `numRuns` and `seed`, throwing fast-check's report on failure. */
export async function runCase(c: FuzzCase, numRuns: number, seed = FUZZ_SEED): Promise<void> {
  await fc.assert(c.property, { seed, numRuns, endOnFailure: false });
}

/** Registers one Deno test per case (a no-op outside `deno test`). */
export function fuzzTests(cases: readonly FuzzCase[]): void {
  for (const c of cases) {
    const numRuns = Math.max(1, Math.round(c.runs * FUZZ_SCALE));
    Deno.test(`fuzz ${c.name} (${numRuns} cases, seed ${FUZZ_SEED})`, () => runCase(c, numRuns));
  }
}

/** An error constructor a decoder is allowed to throw. */
// deno-lint-ignore no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => Error;

/** Names of built-in errors that mean a decoder bug when they escape or are wrapped. */
const BUG_NAMES =
  /\b(TypeError|RangeError|ReferenceError|SyntaxError|InternalError)\b|is not a function|Cannot read properties|Maximum call stack/;

/**
 * Fails unless `e` is an instance of one of `allowed` whose message does not
 * betray a wrapped TypeError/RangeError (a catch-all hiding a bug).
 */
export function assertTypedError(e: unknown, allowed: readonly ErrorClass[]): void {
  if (!allowed.some((cls) => e instanceof cls)) {
    const name = e instanceof Error ? e.name : typeof e;
    throw new Error(
      `decoder threw ${name} (allowed: ${allowed.map((c) => c.name).join(", ")}): ${
        e instanceof Error ? e.message : String(e)
      }`,
      { cause: e },
    );
  }
  const msg = (e as Error).message;
  if (BUG_NAMES.test(msg)) {
    throw new Error(`typed error wraps an internal bug: ${msg}`, { cause: e });
  }
}

/**
 * The specific reason of a typed error: `reason` where the error has one
 * (core errors carry the area in `code` and the check in `reason`), else `code`.
 */
export function reasonOf(e: unknown): string {
  const { reason, code } = e as { reason?: unknown; code?: unknown };
  if (typeof reason === "string") return reason;
  if (typeof code === "string") return code;
  throw new Error(`error has neither reason nor code: ${String(e)}`);
}

/** The outcome of a decoder call: a value or one of its typed errors. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

/** Calls `fn`; a thrown error must be one of `allowed` (see {@link assertTypedError}). */
export function outcome<T>(fn: () => T, allowed: readonly ErrorClass[]): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    assertTypedError(e, allowed);
    return { ok: false, error: e as Error };
  }
}

/** Async {@link outcome}. */
export async function outcomeAsync<T>(
  fn: () => Promise<T>,
  allowed: readonly ErrorClass[],
): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    assertTypedError(e, allowed);
    return { ok: false, error: e as Error };
  }
}

// ---------------------------------------------------------------------------
// Mutations of valid inputs.

/** One edit of a byte string. */
export type ByteMutation =
  | { kind: "truncate"; at: number }
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number }
  | { kind: "append"; bytes: Uint8Array }
  | { kind: "u16"; at: number; value: number }
  | { kind: "u32"; at: number; value: number };

/** Values that make length fields lie: zero, one, off by one, all ones, past any cap. */
export const EXTREME_U32: readonly number[] = [
  0,
  1,
  2,
  3,
  4,
  0x7f,
  0x80,
  0xff,
  0x100,
  0x7fff,
  0x8000,
  0xffff,
  0x10000,
  0x7fffffff,
  0x80000000,
  0xfffffffe,
  0xffffffff,
  64 * 1024 * 1024,
  64 * 1024 * 1024 + 1,
];

const smallBytes = fc.uint8Array({ maxLength: 16 });

/** Arbitrary single byte edit (positions are taken modulo the input length). */
export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant("set" as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: smallBytes }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({ kind: fc.constant("append" as const), bytes: smallBytes }),
  fc.record({
    kind: fc.constant("u16" as const),
    at: fc.nat(),
    value: fc.oneof(
      fc.constantFrom(0, 1, 0xff, 0x100, 0x400, 0x401, 0xffff),
      fc.integer({ min: 0, max: 0xffff }),
    ),
  }),
  fc.record({
    kind: fc.constant("u32" as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(...EXTREME_U32), fc.integer({ min: 0, max: 0xffffffff })),
  }),
);

/** Applies `m` to a copy of `b`. */
export function applyByteMutation(b: Uint8Array, m: ByteMutation): Uint8Array {
  const n = b.length;
  const pos = (at: number, extra = 0) => (n + extra === 0 ? 0 : at % (n + extra));
  switch (m.kind) {
    case "truncate":
      return b.slice(0, pos(m.at));
    case "flip": {
      if (n === 0) return b.slice();
      const out = b.slice();
      out[pos(m.at)] ^= 1 << m.bit;
      return out;
    }
    case "set": {
      if (n === 0) return b.slice();
      const out = b.slice();
      out[pos(m.at)] = m.value;
      return out;
    }
    case "insert": {
      const at = pos(m.at, 1);
      return concat(b.subarray(0, at), m.bytes, b.subarray(at));
    }
    case "delete": {
      const at = pos(m.at);
      return concat(b.subarray(0, at), b.subarray(at + m.count));
    }
    case "append":
      return concat(b, m.bytes);
    case "u16":
    case "u32": {
      const width = m.kind === "u16" ? 2 : 4;
      if (n < width) return b.slice();
      const out = b.slice();
      const at = m.at % (n - width + 1);
      const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
      if (width === 2) dv.setUint16(at, m.value);
      else dv.setUint32(at, m.value >>> 0);
      return out;
    }
  }
}

/** One to three edits. */
export const byteMutations: fc.Arbitrary<ByteMutation[]> = fc.array(byteMutation, {
  minLength: 1,
  maxLength: 3,
});

/** `valid` bytes with one to three edits applied. */
export function mutatedBytes(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, byteMutations).map(([b, ms]) => ms.reduce(applyByteMutation, b));
}

/** Overwrites the big-endian uint32 at `offset` (a length field) with `value`. */
export function lieAboutLength(b: Uint8Array, offset: number, value: number): Uint8Array {
  const out = b.slice();
  if (offset + 4 <= out.length) {
    new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(offset, value >>> 0);
  }
  return out;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Characters that matter to text decoders: separators, quotes, escapes, controls, non-ASCII. */
export const SPECIAL_CHARS: readonly string[] = [
  " ",
  "\t",
  "\n",
  "\r",
  "\0",
  '"',
  "'",
  "\\",
  ",",
  ":",
  ";",
  "=",
  "@",
  "/",
  "#",
  "[",
  "]",
  "{",
  "}",
  "*",
  "?",
  "!",
  "%",
  "|",
  ".",
  "-",
  "_",
  "é",
  "\u2028",
  "\ud800",
  "😀",
  "\u00a0",
  "\ufeff",
];

/** A short string of special and random characters. */
export const noiseText: fc.Arbitrary<string> = fc.array(
  fc.oneof(fc.constantFrom(...SPECIAL_CHARS), fc.string({ maxLength: 3, unit: "binary" })),
  { maxLength: 6 },
).map((a) => a.join(""));

/** One edit of a text. */
export type TextMutation =
  | { kind: "truncate"; at: number }
  | { kind: "delete"; at: number; count: number }
  | { kind: "insert"; at: number; text: string }
  | { kind: "replace"; at: number; text: string }
  | { kind: "duplicate"; at: number; count: number }
  | { kind: "case"; at: number };

/** Arbitrary text edit (positions modulo the text length). */
export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 6 }),
  }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: noiseText }),
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), text: noiseText }),
  fc.record({
    kind: fc.constant("duplicate" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 12 }),
  }),
  fc.record({ kind: fc.constant("case" as const), at: fc.nat() }),
);

/** Applies `m` to `s`. */
export function applyTextMutation(s: string, m: TextMutation): string {
  const n = s.length;
  const at = n === 0 ? 0 : m.at % (n + 1);
  switch (m.kind) {
    case "truncate":
      return s.slice(0, at);
    case "delete":
      return s.slice(0, at) + s.slice(at + m.count);
    case "insert":
      return s.slice(0, at) + m.text + s.slice(at);
    case "replace":
      return s.slice(0, at) + m.text + s.slice(at + m.text.length);
    case "duplicate":
      return s.slice(0, at) + s.slice(at, at + m.count) + s.slice(at);
    case "case": {
      const c = s.charAt(at);
      const flipped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
      return s.slice(0, at) + flipped + s.slice(at + 1);
    }
  }
}

/** `valid` text with one to three edits applied. */
export function mutatedText(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(valid, fc.array(textMutation, { minLength: 1, maxLength: 3 })).map(([s, ms]) =>
    ms.reduce(applyTextMutation, s)
  );
}

/** Raw random text: printable, full Unicode (lone surrogates included) and special characters. */
export const rawText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ maxLength: 200, unit: "binary" }),
  fc.string({ maxLength: 80, unit: fc.constantFrom(...SPECIAL_CHARS) }),
  fc.string({
    maxLength: 80,
    unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  }),
);

/** Raw random bytes, sometimes long. */
export const rawBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }) },
);

/** Splits `b` into chunks at the given cut points (for incremental decoders). */
export function chunked(b: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => (b.length === 0 ? 0 : c % (b.length + 1))))].sort((
    x,
    y,
  ) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) out.push(b.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  if (prev < b.length) out.push(b.subarray(prev));
  return out;
}

/** Cut points for {@link chunked}. */
export const cutPoints: fc.Arbitrary<number[]> = fc.array(fc.nat(), { maxLength: 8 });

/** Host names and IP literals as users write them (IPv6 without brackets). */
export const hostName: fc.Arbitrary<string> = fc.oneof(
  fc.array(fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?$/), {
    minLength: 1,
    maxLength: 4,
  }).map((l) => l.join(".")),
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom("localhost", "::", "::1", "fe80::1%eth0", "0.0.0.0", "db_1.internal"),
);

/** `host:port` with IPv6 in brackets. */
export function bracketed(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
