import assert from "node:assert/strict";
import fc from "fast-check";
import { fromBase64, fromBase64Url, fromHex, toBase64, toBase64Url, toHex } from "./bytes.ts";

Deno.test("bytes: known values", () => {
  const hi = new TextEncoder().encode("hi?");
  assert.equal(toHex(Uint8Array.of(0, 15, 255)), "000fff");
  assert.deepEqual(fromHex("000FfF"), Uint8Array.of(0, 15, 255));
  assert.equal(toBase64(hi), "aGk/");
  assert.equal(toBase64Url(hi), "aGk_");
  assert.equal(toBase64(Uint8Array.of(0)), "AA==");
  assert.equal(toBase64Url(Uint8Array.of(0)), "AA");
  assert.deepEqual(fromBase64("AA=="), Uint8Array.of(0));
  assert.deepEqual(fromBase64("AA"), Uint8Array.of(0));
  assert.deepEqual(fromBase64(""), new Uint8Array(0));
});

Deno.test("bytes: malformed input is null", () => {
  for (const bad of ["0", "0g", "zz", " 00"]) assert.equal(fromHex(bad), null, bad);
  for (const bad of ["A", "A===", "AA=A", "a!", "AA AA", "AAA=="]) {
    assert.equal(fromBase64(bad), null, bad);
  }
  for (const bad of ["aGk/", "aGk=", "a"]) assert.equal(fromBase64Url(bad), null, bad);
});

Deno.test("bytes: encode then decode is the identity (property)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      assert.deepEqual(fromHex(toHex(b)), b);
      assert.deepEqual(fromBase64(toBase64(b)), b);
      assert.deepEqual(fromBase64Url(toBase64Url(b)), b);
      assert.equal(toBase64(b), btoa(String.fromCharCode(...b)));
    }),
  );
});

Deno.test("bytes: large inputs do not overflow the call stack", () => {
  const big = new Uint8Array(1 << 18).fill(7);
  assert.deepEqual(fromBase64(toBase64(big)), big);
});
