import assert from "node:assert/strict";
import { equalBytes, fromBase64Strict, fromHex, toBase64, toHex, wipe } from "./bytes.ts";

Deno.test("bytes: hex and strict base64", () => {
  assert.equal(toHex(new Uint8Array([0, 1, 254, 255])), "0001feff");
  assert.deepEqual(fromHex("0001FEff"), new Uint8Array([0, 1, 254, 255]));
  assert.throws(() => fromHex("abc"), RangeError);
  assert.throws(() => fromHex("zz"), RangeError);
  for (let n = 0; n < 40; n++) {
    const b = crypto.getRandomValues(new Uint8Array(n));
    assert.deepEqual(fromBase64Strict(toBase64(b)), b);
  }
  const big = new Uint8Array(100_000).map((_, i) => (i * 7919) & 255);
  assert.deepEqual(fromBase64Strict(toBase64(big)), big);
  for (
    const bad of [
      "A",
      "AA",
      "AAA",
      "AA=A",
      "AAAA\n",
      "AAAA    ",
      "A AA",
      "AA\tA",
      "AA-_",
      "AB==",
      "AAB=",
      "=",
      "AAAA====",
    ]
  ) {
    assert.equal(fromBase64Strict(bad), undefined, bad);
  }
  assert.deepEqual(fromBase64Strict(""), new Uint8Array(0));
});

Deno.test("bytes: wipe and equalBytes", () => {
  const a = new Uint8Array([1, 2, 3]);
  const b = new Uint8Array([4]);
  wipe(a, undefined, b);
  assert.deepEqual(a, new Uint8Array(3));
  assert.deepEqual(b, new Uint8Array(1));
  assert.ok(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
  assert.ok(!equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
  assert.ok(!equalBytes(new Uint8Array([1]), new Uint8Array([1, 2])));
});
