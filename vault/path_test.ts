import assert from "node:assert/strict";
import { InvalidPath } from "./errors.ts";
import { canonicalPath, formatPath, HARDENED_OFFSET, parsePath } from "./path.ts";
import {
  CURRENT_KEY_VERSION,
  devicePath,
  encryptionKeyPath,
  ETHEREUM_PATH,
  IDENTITY_PATH,
  isKeyVersion,
  MAX_KEY_VERSION,
  SSH_HOST_PATH,
} from "./paths.ts";
import { UnsupportedKeyVersion } from "./errors.ts";

const H = HARDENED_OFFSET;

Deno.test("parsePath: accepts ' and h, the root and the largest index", () => {
  assert.deepEqual(parsePath("m"), []);
  assert.deepEqual(parsePath("m/74'/0h/1"), [H + 74, H, 1]);
  assert.deepEqual(parsePath("m/2147483647'"), [H + 2147483647]);
  assert.deepEqual(parsePath("m/2147483647"), [2147483647]);
  assert.deepEqual(parsePath("m/0'/1'", { hardenedOnly: true }), [H, H + 1]);
  assert.equal(canonicalPath("m/74h/0h/0h/0h"), IDENTITY_PATH);
  assert.equal(formatPath([H + 44, H + 60, H, 0, 0]), ETHEREUM_PATH);
});

Deno.test("parsePath: refuses malformed paths with a reason", () => {
  const bad: [string, RegExp][] = [
    ["", /start with 'm'/],
    ["0'/1'", /must start with 'm'/],
    ["M/0'", /must start with 'm'/],
    ["/0'", /must start with 'm'/],
    ["m/", /segment 1 is empty/],
    ["m//0'", /segment 1 is empty/],
    ["m/0'/", /segment 2 is empty/],
    ["m/0' ", /whitespace/],
    [" m/0'", /whitespace/],
    ["m/ 0'", /whitespace/],
    ["m/0'/1\t", /whitespace/],
    ["m/2147483648'", /below 2\^31 before hardening/],
    ["m/2147483648", /below 2\^31 before hardening/],
    ["m/99999999999999999999'", /below 2\^31 before hardening/],
    ["m/-1'", /not a decimal index/],
    ["m/1.5'", /not a decimal index/],
    ["m/01'", /not a decimal index/],
    ["m/0''", /not a decimal index/],
    ["m/0H", /not a decimal index/],
    ["m/0x10'", /not a decimal index/],
    ["m/abc", /not a decimal index/],
  ];
  for (const [p, re] of bad) {
    assert.throws(() => parsePath(p), (e: unknown) => {
      assert.ok(e instanceof InvalidPath, p);
      assert.match(e.message, re, p);
      assert.equal(e.path, p);
      return true;
    });
  }
});

Deno.test("parsePath: hardenedOnly refuses unhardened indices", () => {
  for (const p of ["m/0", "m/0'/1", "m/44'/60'/0'/0/0"]) {
    assert.throws(() => parsePath(p, { hardenedOnly: true }), /hardened indices only/);
  }
});

Deno.test("paths: the constants of docs/reference/wire-formats.md (vault data) and helpers", () => {
  assert.equal(IDENTITY_PATH, "m/74'/0'/0'/0'");
  assert.equal(SSH_HOST_PATH, "m/74'/0'/1'/0'");
  assert.equal(ETHEREUM_PATH, "m/44'/60'/0'/0/0");
  assert.equal(devicePath(0), IDENTITY_PATH);
  assert.equal(devicePath(7), "m/74'/0'/0'/7'");
  assert.throws(() => devicePath(-1), RangeError);
  assert.throws(() => devicePath(2 ** 31), RangeError);
  assert.equal(CURRENT_KEY_VERSION, 2);
  assert.equal(encryptionKeyPath(2), "m/74'/2'/0'/0'");
  assert.equal(encryptionKeyPath(5), "m/74'/2'/0'/3'");
  assert.equal(encryptionKeyPath(MAX_KEY_VERSION), "m/74'/2'/0'/2147483647'");
  for (const v of [1, 0, -2, 2.5, NaN, MAX_KEY_VERSION + 1]) {
    assert.equal(isKeyVersion(v), false);
    assert.throws(() => encryptionKeyPath(v), UnsupportedKeyVersion);
  }
  for (const p of [IDENTITY_PATH, SSH_HOST_PATH, encryptionKeyPath(9), devicePath(3)]) {
    parsePath(p, { hardenedOnly: true });
  }
});
