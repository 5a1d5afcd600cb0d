// Property-based fuzzing of the native data-path (`alknet/tcp`) header
// codec: the decoder on raw and mutated bytes, encode -> decode round trips
// and the incremental contract. The server reading headers from a
// connection is fuzzed in core/ssh/native_server_fuzz_test.ts.
import assert from "node:assert/strict";
import {
  concat,
  fc,
  type FuzzCase,
  fuzzTests,
  lieAboutLength,
  mutatedBytes,
  outcome,
  rawBytes,
} from "../../tests/fuzz_util.ts";
import {
  decodeNativeTcpHeader,
  encodeNativeTcpHeader,
  NATIVE_TCP_MAX_TOKEN,
  NativeTcpError,
  type NativeTcpHeader,
} from "./native_header.ts";

const utf8 = new TextEncoder();

/** Decodes; a throw must be NativeTcpError("malformed"); a value must lie inside the input. */
function check(buf: Uint8Array): ReturnType<typeof decodeNativeTcpHeader> | "error" {
  const r = outcome(() => decodeNativeTcpHeader(buf), [NativeTcpError]);
  if (!r.ok) {
    assert.equal((r.error as NativeTcpError).status, "malformed");
    return "error";
  }
  const v = r.value;
  if (v === null) return null;
  assert.ok(v.used >= 7 && v.used <= buf.length);
  const { token, host, port } = v.header;
  const tl = utf8.encode(token).length, hl = utf8.encode(host).length;
  assert.ok(tl >= 1 && tl <= NATIVE_TCP_MAX_TOKEN);
  assert.ok(hl >= 1 && hl <= 255);
  assert.ok(Number.isInteger(port) && port >= 1 && port <= 65535);
  assert.equal(v.used, 1 + 2 + tl + 1 + hl + 2);
  assert.doesNotMatch(token, /[\0-\x20\x7f]/);
  assert.doesNotMatch(host, /[\0-\x20\x7f/]/);
  return v;
}

/** Text without the characters the header refuses, within a UTF-8 byte budget. */
function headerText(maxBytes: number, forbidSlash: boolean): fc.Arbitrary<string> {
  const bad = forbidSlash ? /[\0-\x20\x7f/]/ : /[\0-\x20\x7f]/;
  return fc.oneof(
    fc.string({
      minLength: 1,
      maxLength: Math.min(maxBytes, 64),
      unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    }),
    fc.string({ minLength: 1, maxLength: 40, unit: "binary" }),
    // Long ASCII texts near the limits.
    fc.integer({ min: Math.max(1, maxBytes - 8), max: maxBytes }).map((n) => "a".repeat(n)),
  ).filter((s) => !bad.test(s) && utf8.encode(s).length >= 1 && utf8.encode(s).length <= maxBytes);
}

const header: fc.Arbitrary<NativeTcpHeader> = fc.record({
  token: headerText(NATIVE_TCP_MAX_TOKEN, false),
  host: headerText(255, true),
  port: fc.integer({ min: 1, max: 65535 }),
});

const encoded = header.map(encodeNativeTcpHeader);

/** Valid headers whose token length or host length lies. */
const lying = fc.tuple(encoded, fc.constantFrom(0, 1, 2, 0x3ff, 0x400, 0x401, 0xffff), fc.nat())
  .map(([b, tokenLen, hostLen]) => {
    const out = b.slice();
    if (hostLen % 2 === 0) {
      out[1] = tokenLen >> 8;
      out[2] = tokenLen & 0xff;
    } else {
      const tl = (b[1] << 8) | b[2];
      out[3 + tl] = hostLen % 256;
    }
    return out;
  });

export const cases: FuzzCase[] = [
  {
    name:
      "native header: raw bytes decode to a header inside the input, null, or NativeTcpError(malformed)",
    runs: 2800,
    property: fc.property(
      fc.oneof(rawBytes, rawBytes.map((b) => concat(Uint8Array.of(1), b))),
      (b) => void check(b),
    ),
  },
  {
    name: "native header: mutated and length-lying headers",
    runs: 2800,
    property: fc.property(fc.oneof(mutatedBytes(encoded), lying), (b) => void check(b)),
  },
  {
    name: "native header: encode -> decode round trip, trailing bytes left alone",
    runs: 2100,
    property: fc.property(header, fc.uint8Array({ maxLength: 16 }), (h, extra) => {
      const enc = encodeNativeTcpHeader(h);
      const r = check(concat(enc, extra));
      assert.ok(r !== null && r !== "error");
      assert.deepEqual(r, { header: { ...h }, used: enc.length });
    }),
  },
  {
    name: "native header: every prefix is incomplete until the verdict, which never changes",
    runs: 700,
    property: fc.property(fc.oneof(encoded, mutatedBytes(encoded)), (b) => {
      let verdict: ReturnType<typeof check> | undefined;
      for (let n = 0; n <= b.length; n++) {
        const r = check(b.subarray(0, n));
        if (verdict === undefined) {
          if (r !== null) verdict = r;
        } else assert.deepEqual(r, verdict, `prefix ${n}`);
      }
    }),
  },
  {
    name:
      "native header: the encoder refuses what the decoder would (NativeTcpError), and round trips the rest",
    runs: 1400,
    property: fc.property(
      fc.record({
        token: fc.oneof(
          fc.constant(""),
          fc.string({ unit: "binary", maxLength: 20 }),
          fc.constant("t".repeat(1025)),
        ),
        host: fc.oneof(
          fc.constant(""),
          fc.string({ unit: "binary", maxLength: 20 }),
          fc.constant("h".repeat(256)),
        ),
        port: fc.oneof(fc.integer({ min: -2, max: 70000 }), fc.double()),
      }),
      (h) => {
        const r = outcome(() => encodeNativeTcpHeader(h), [NativeTcpError]);
        if (r.ok) {
          // Whatever the encoder accepts, the decoder gives back unchanged.
          assert.deepEqual(check(r.value), { header: { ...h }, used: r.value.length });
        }
      },
    ),
  },
  {
    name: "native header: a length field rewritten with huge values never reads past the input",
    runs: 700,
    property: fc.property(
      encoded,
      fc.nat(),
      fc.constantFrom(0xffffffff, 0x80000000, 0x04010000),
      (b, at, v) => {
        void check(lieAboutLength(b, at % Math.max(1, b.length), v));
      },
    ),
  },
];

fuzzTests(cases);
