// Property-based fuzzing of the stealth listener's ClientHello reader (the
// first bytes of every connection to a stealth TLS port): it never throws,
// refuses only with alerts nginx sends, reads a built ClientHello back field
// for field however it is split into records, keeps every proper prefix
// incomplete, and judges every hello with a verdict or a go-ahead.
import assert from "node:assert/strict";
import { fc, type FuzzCase, fuzzTests, mutatedBytes, rawBytes } from "../../tests/fuzz_util.ts";
import {
  alertRecord,
  type ClientHelloInfo,
  judgeClientHello,
  scanClientHello,
} from "./stealth_hello.ts";

const ALERTS = new Set([10, 22, 40, 47, 50, 70, 120]);

function check(b: Uint8Array) {
  const r = scanClientHello(b);
  if (r.kind === "refuse") {
    assert.ok(r.alert === null || ALERTS.has(r.alert), `alert ${r.alert}`);
    if (r.alert !== null) assert.equal(alertRecord(r.alert, r.recordVersion).length, 7);
  }
  if (r.kind === "hello") {
    const v = judgeClientHello(r.hello, { key: "ec-p256", alpn: ["http/1.1"] });
    if (v) assert.ok(ALERTS.has(v.alert) && v.recordVersion <= 0x0303);
  }
  return r;
}

const u16 = (n: number) => [n >> 8, n & 0xff];
const list16 = (xs: number[]) => xs.flatMap(u16);
const ext = (type: number, data: number[]) => [...u16(type), ...u16(data.length), ...data];
const latin1 = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** A ClientHello body (no handshake header) from its fields. */
function helloBody(h: ClientHelloInfo): number[] {
  const exts: number[] = [];
  if (h.serverName !== undefined) {
    const name = latin1(h.serverName);
    exts.push(...ext(0, [...u16(name.length + 3), 0, ...u16(name.length), ...name]));
  }
  if (h.groups) exts.push(...ext(10, [...u16(h.groups.length * 2), ...list16(h.groups)]));
  if (h.sigalgs) exts.push(...ext(13, [...u16(h.sigalgs.length * 2), ...list16(h.sigalgs)]));
  if (h.alpn) {
    const names = h.alpn.flatMap((a) => [a.length, ...latin1(a)]);
    exts.push(...ext(16, [...u16(names.length), ...names]));
  }
  if (h.versions) exts.push(...ext(43, [h.versions.length * 2, ...list16(h.versions)]));
  return [
    ...u16(h.legacyVersion),
    ...new Array(32).fill(7),
    0,
    ...u16(h.ciphers.length * 2),
    ...list16(h.ciphers),
    1,
    0,
    ...u16(exts.length),
    ...exts,
  ];
}

/** Records of type handshake carrying the ClientHello, split at `cuts`. */
function records(h: ClientHelloInfo, cuts: number[]): Uint8Array {
  const body = helloBody(h);
  const msg = [1, 0, ...u16(body.length), ...body];
  const points = [...new Set(cuts.map((c) => 1 + (c % msg.length)))].sort((a, b) => a - b);
  const out: number[] = [];
  let from = 0;
  for (const at of [...points, msg.length]) {
    if (at <= from) continue;
    out.push(0x16, 3, 1, ...u16(at - from), ...msg.slice(from, at));
    from = at;
  }
  return Uint8Array.from(out);
}

const nonGrease = fc.integer({ min: 1, max: 0xffff }).filter((v) =>
  !((v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff))
);
const hello: fc.Arbitrary<ClientHelloInfo> = fc.record({
  legacyVersion: fc.constantFrom(0x0200, 0x0300, 0x0301, 0x0302, 0x0303, 0xff03),
  ciphers: fc.array(fc.oneof(fc.constantFrom(0x1301, 0x1302, 0xc02b, 0x002f), nonGrease), {
    minLength: 1,
    maxLength: 8,
  }),
  versions: fc.option(
    fc.array(fc.constantFrom(0x0301, 0x0303, 0x0304), { minLength: 1, maxLength: 3 }),
    {
      nil: undefined,
    },
  ),
  groups: fc.option(
    fc.array(fc.constantFrom(0x001d, 0x0017, 0x001e), { minLength: 1, maxLength: 3 }),
    {
      nil: undefined,
    },
  ),
  sigalgs: fc.option(
    fc.array(fc.constantFrom(0x0403, 0x0804, 0x0503), { minLength: 1, maxLength: 3 }),
    {
      nil: undefined,
    },
  ),
  alpn: fc.option(
    fc.array(fc.string({ minLength: 1, maxLength: 12, unit: "grapheme-ascii" }), {
      minLength: 1,
      maxLength: 3,
    }),
    { nil: undefined },
  ),
  serverName: fc.option(fc.domain(), { nil: undefined }),
}, { requiredKeys: ["legacyVersion", "ciphers"] });

export const cases: FuzzCase[] = [
  {
    name:
      "stealth ClientHello: raw and mutated bytes give more, an nginx alert, a silent close or a hello",
    runs: 4000,
    property: fc.property(
      fc.oneof(
        rawBytes,
        rawBytes.map((b) => Uint8Array.of(0x16, 3, 1, ...b)),
        mutatedBytes(hello.map((h) => records(h, []))),
      ),
      (b) => void check(b),
    ),
  },
  {
    name: "stealth ClientHello: built hellos read back field for field across any record split",
    runs: 3000,
    property: fc.property(hello, fc.array(fc.nat(), { maxLength: 4 }), (h, cuts) => {
      const r = check(records(h, cuts));
      assert.equal(r.kind, "hello");
      const fields = Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined));
      if (r.kind === "hello") assert.deepEqual(r.hello, fields);
    }),
  },
  {
    name: "stealth ClientHello: every proper prefix of a hello is incomplete",
    runs: 300,
    property: fc.property(hello, fc.array(fc.nat(), { maxLength: 3 }), (h, cuts) => {
      const b = records(h, cuts);
      for (let n = 0; n < b.length; n++) assert.equal(check(b.subarray(0, n)).kind, "more");
    }),
  },
];

fuzzTests(cases);
