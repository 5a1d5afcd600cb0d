// Property-based fuzzing of the native data-path (`alknet/tcp`) header:
// the decoder on raw and mutated bytes, encode -> decode round trips, the
// incremental contract, and the server handler reading hostile headers from
// a connection.
import assert from "node:assert/strict";
import {
  chunked,
  concat,
  cutPoints,
  fc,
  type FuzzCase,
  fuzzTests,
  lieAboutLength,
  mutatedBytes,
  outcome,
  rawBytes,
} from "../../tests/fuzz_util.ts";
import type { ByteConn } from "../transport/stream.ts";
import {
  decodeNativeTcpHeader,
  encodeNativeTcpHeader,
  NATIVE_TCP_MAX_TOKEN,
  NativeTcpError,
  nativeTcpHandler,
  type NativeTcpHeader,
  NativeTcpStatus,
} from "./native_path.ts";

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

class ChunkConn implements ByteConn {
  #chunks: Uint8Array[];
  reads = 0;
  written: number[] = [];
  #closed = false;
  readonly done: Promise<void>;
  #resolve!: () => void;
  constructor(chunks: Uint8Array[]) {
    this.#chunks = chunks.map((c) => c.slice());
    this.done = new Promise((r) => this.#resolve = r);
  }
  read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    const c = this.#chunks.shift();
    if (c === undefined || this.#closed) return Promise.resolve(null);
    const n = Math.min(p.length, c.length);
    p.set(c.subarray(0, n));
    if (n < c.length) this.#chunks.unshift(c.subarray(n));
    return Promise.resolve(n);
  }
  write(p: Uint8Array): Promise<number> {
    this.written.push(...p);
    return Promise.resolve(p.length);
  }
  close(): void {
    this.#closed = true;
    this.#resolve();
  }
}

type Info = Parameters<ReturnType<typeof nativeTcpHandler>>[1];

/**
 * The handler on hostile input: it answers exactly one status byte and
 * closes. The decoder on the whole input is the oracle: a valid header
 * reaches the token check (refused here: FORBIDDEN), anything else is
 * MALFORMED. Reads are bounded by the chunks delivered.
 */
async function checkHandler(bytes: Uint8Array, cuts: number[]): Promise<void> {
  const chunks = chunked(bytes, cuts);
  const conn = new ChunkConn(chunks);
  const tokens: string[] = [];
  const handler = nativeTcpHandler({
    resolveToken: (t) => {
      tokens.push(t);
      return null;
    },
    policy: { evaluate: () => "deny" },
    dial: () => Promise.reject(new Error("the fuzz test never dials")),
  });
  const info = { remoteAddress: "127.0.0.1", remotePort: 1, transport: "tls" } as Info;
  handler(conn, info);
  await conn.done;
  assert.ok(conn.reads <= chunks.length + 1);
  const expected = outcome(() => decodeNativeTcpHeader(bytes), [NativeTcpError]);
  if (expected.ok && expected.value) {
    assert.deepEqual(tokens, [expected.value.header.token]);
    assert.deepEqual(conn.written, [NativeTcpStatus.FORBIDDEN]);
  } else {
    assert.deepEqual(tokens, []);
    assert.deepEqual(conn.written, [NativeTcpStatus.MALFORMED]);
  }
}

export const cases: FuzzCase[] = [
  {
    name:
      "native header: raw bytes decode to a header inside the input, null, or NativeTcpError(malformed)",
    runs: 4000,
    property: fc.property(
      fc.oneof(rawBytes, rawBytes.map((b) => concat(Uint8Array.of(1), b))),
      (b) => void check(b),
    ),
  },
  {
    name: "native header: mutated and length-lying headers",
    runs: 4000,
    property: fc.property(fc.oneof(mutatedBytes(encoded), lying), (b) => void check(b)),
  },
  {
    name: "native header: encode -> decode round trip, trailing bytes left alone",
    runs: 3000,
    property: fc.property(header, fc.uint8Array({ maxLength: 16 }), (h, extra) => {
      const enc = encodeNativeTcpHeader(h);
      const r = check(concat(enc, extra));
      assert.ok(r !== null && r !== "error");
      assert.deepEqual(r, { header: { ...h }, used: enc.length });
    }),
  },
  {
    name: "native header: every prefix is incomplete until the verdict, which never changes",
    runs: 1000,
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
    name: "native header: encoder refuses out-of-range fields with NativeTcpError",
    runs: 2000,
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
          // Whatever the encoder accepts has the declared lengths and decodes or is refused as malformed.
          const d = check(r.value);
          if (d !== "error") assert.ok(d !== null);
        }
      },
    ),
  },
  {
    name:
      "native handler: hostile headers in chunks get one status byte (FORBIDDEN or MALFORMED) and a close",
    runs: 1000,
    property: fc.asyncProperty(
      fc.oneof(encoded, mutatedBytes(encoded), lying, rawBytes),
      cutPoints,
      async (b, cuts) => await checkHandler(b, cuts),
    ),
  },
  {
    name: "native header: a length field rewritten with huge values never reads past the input",
    runs: 1000,
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
