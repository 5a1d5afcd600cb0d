import assert from "node:assert/strict";
import { bip32Derive } from "./bip32.ts";
import { fromHex, toHex } from "./bytes.ts";
import { ethereumAddress, toChecksumAddress } from "./ethereum.ts";
import { mnemonicToSeed } from "./mnemonic.ts";
import { parsePath } from "./path.ts";

Deno.test("known answer (docs/reference/vectors.md): BIP-32 secp256k1 test vector 1 master", () => {
  const node = bip32Derive(fromHex("000102030405060708090a0b0c0d0e0f"), []);
  assert.equal(
    toHex(node.privateKey),
    "e8f32e723decf4051aefac8e2c93c9c5b214313817cdb01a1494b917c8436b35",
  );
  assert.equal(
    toHex(node.publicKey),
    "0339a36013301597daef41fbe593a02cc513d0b55527ec2df1050e2e8ff49c85c2",
  );
  assert.equal(
    toHex(node.chainCode),
    "873dff81c02f525623fd1fe5167eac3a55a049de3d314bb42ee227ffed37d508",
  );
});

Deno.test("BIP-32 test vector 1, m/0'/1/2'/2/1000000000 (mixed hardening)", () => {
  const node = bip32Derive(
    fromHex("000102030405060708090a0b0c0d0e0f"),
    parsePath("m/0'/1/2'/2/1000000000"),
  );
  assert.equal(
    toHex(node.privateKey),
    "471b76e389e528d6de6d816857e012c5455051cad6660850e58372a6c3e6e7c8",
  );
  assert.equal(
    toHex(node.chainCode),
    "c783e67b921d2beb8f6b389cc646d7263b4145701dadd2161548a8b078e65e9e",
  );
});

Deno.test("EIP-55 checksums and the Ethereum address of the all-zero mnemonic", async () => {
  for (
    const a of [
      "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
      "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
      "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
      "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ]
  ) {
    assert.equal(toChecksumAddress(a.toLowerCase()), a);
  }
  const seed = await mnemonicToSeed(
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
  );
  const node = bip32Derive(seed, parsePath("m/44'/60'/0'/0/0"));
  assert.equal(ethereumAddress(node.publicKey), "0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
  assert.throws(() => toChecksumAddress("0x1234"), RangeError);
});
