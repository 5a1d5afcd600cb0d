import assert from "node:assert/strict";
import fc from "fast-check";
import { CoreError } from "../util/errors.ts";
import {
  decodeNativeTcpHeader,
  encodeNativeTcpHeader,
  NATIVE_TCP_ALPN,
  NATIVE_TCP_MAX_HEADER,
  NATIVE_TCP_MAX_TOKEN,
  NativeTcpError,
  type NativeTcpHeader,
  NativeTcpStatus,
  nativeTcpStatusByte,
  nativeTcpStatusName,
} from "./native_header.ts";

const enc = new TextEncoder();

Deno.test("native header: the documented layout, byte by byte", () => {
  const bytes = encodeNativeTcpHeader({ token: "tok", host: "db", port: 5432 });
  assert.deepEqual(
    Array.from(bytes),
    [1, 0, 3, ...enc.encode("tok"), 2, ...enc.encode("db"), 0x15, 0x38],
  );
  assert.equal(NATIVE_TCP_ALPN, "alknet/tcp");
  assert.equal(NATIVE_TCP_MAX_HEADER, 1 + 2 + 1024 + 1 + 255 + 2);
});

Deno.test("native header: status bytes and names", () => {
  assert.equal(nativeTcpStatusName(NativeTcpStatus.OK), null);
  for (const name of ["forbidden", "unreachable", "refused", "malformed", "timeout"] as const) {
    assert.equal(nativeTcpStatusName(nativeTcpStatusByte(name)), name);
  }
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(nativeTcpStatusName),
    ["forbidden", "unreachable", "refused", "malformed", "timeout"],
  );
  assert.equal(nativeTcpStatusName(6), "malformed");
  assert.equal(nativeTcpStatusName(255), "malformed");
});

Deno.test("native header: out-of-range fields are NativeTcpError(malformed), a CoreError", () => {
  const bad: NativeTcpHeader[] = [
    { token: "", host: "h", port: 1 },
    { token: "x".repeat(NATIVE_TCP_MAX_TOKEN + 1), host: "h", port: 1 },
    { token: "t", host: "", port: 1 },
    { token: "t", host: "h".repeat(256), port: 1 },
    { token: "t", host: "h", port: 0 },
    { token: "t", host: "h", port: 65536 },
    { token: "t", host: "h", port: 1.5 },
    { token: "t t", host: "h", port: 1 },
    { token: "t", host: "a/b", port: 1 },
    { token: "t", host: "a\nb", port: 1 },
  ];
  for (const h of bad) {
    assert.throws(
      () => encodeNativeTcpHeader(h),
      (e: unknown) =>
        e instanceof NativeTcpError && e instanceof CoreError && e.code === "native-path" &&
        e.status === "malformed",
      JSON.stringify(h).slice(0, 80),
    );
  }
  const malformed = [
    [2, 0, 1, 116, 1, 104, 0, 1], // version 2
    [1, 0, 0], // token length 0
    [1, 0x04, 0x01], // token length 1025
    [1, 0, 1, 116, 0], // empty host
    [1, 0, 1, 116, 1, 104, 0, 0], // port 0
    [1, 0, 1, 0xff, 1, 104, 0, 1], // token not UTF-8
    [1, 0, 1, 32, 1, 104, 0, 1], // space in the token
  ];
  for (const b of malformed) {
    assert.throws(
      () => decodeNativeTcpHeader(Uint8Array.from(b)),
      (e: unknown) => e instanceof NativeTcpError && e.status === "malformed",
      b.join(","),
    );
  }
});

// Tokens: printable ASCII without space; hosts: printable text without space and '/'.
const token = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: NATIVE_TCP_MAX_TOKEN,
});
const host = fc.oneof(
  fc.domain(),
  fc.ipV4(),
  fc.ipV6(),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 })
    .filter((s) => !/[\0-\x20\x7f/]/.test(s) && enc.encode(s).length <= 255),
);
const header = fc.record({ token, host, port: fc.integer({ min: 1, max: 65535 }) });

Deno.test("native header: decode(encode(h)) is h, and trailing bytes are left alone (property)", () => {
  fc.assert(
    fc.property(header, fc.uint8Array({ maxLength: 64 }), (h, tail) => {
      const bytes = encodeNativeTcpHeader(h);
      const out = decodeNativeTcpHeader(Uint8Array.from([...bytes, ...tail]));
      assert.deepEqual(out, { header: { ...h }, used: bytes.length });
      assert.ok(bytes.length <= NATIVE_TCP_MAX_HEADER);
    }),
  );
});

Deno.test("native header: every strict prefix of a header needs more bytes (property)", () => {
  fc.assert(
    fc.property(header, (h) => {
      const bytes = encodeNativeTcpHeader(h);
      for (let n = 0; n < bytes.length; n++) {
        assert.equal(decodeNativeTcpHeader(bytes.subarray(0, n)), null, `prefix ${n}`);
      }
    }),
    { numRuns: 50 },
  );
});

Deno.test("native header: arbitrary bytes decode, need more, or throw NativeTcpError (property)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        const r = decodeNativeTcpHeader(bytes);
        if (r) {
          assert.ok(r.used <= bytes.length);
          assert.deepEqual(encodeNativeTcpHeader(r.header), bytes.subarray(0, r.used));
        }
      } catch (e) {
        assert.ok(e instanceof NativeTcpError && e.status === "malformed");
      }
    }),
  );
});
