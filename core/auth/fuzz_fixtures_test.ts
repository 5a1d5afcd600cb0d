// Fixtures shared by the auth fuzz tests (no tests here): one key of every
// supported type, and length-lying mutations of SSH wire blobs.
import { EXTREME_U32, fc, lieAboutLength } from "../../tests/fuzz_util.ts";
import { ecdsaKey, ed25519Key, rsaKey, type TestKey } from "./fixtures_test.ts";

/** One key of every supported type (RSA and ECDSA generated once). */
export const KEYS: TestKey[] = [
  ed25519Key(1),
  ed25519Key(2),
  ecdsaKey(256),
  ecdsaKey(384),
  ecdsaKey(521),
  rsaKey(),
];

/** Offsets of the top-level length fields of a blob made of strings only. */
export function stringOffsets(blob: Uint8Array): number[] {
  const out: number[] = [];
  let off = 0;
  while (off + 4 <= blob.length) {
    out.push(off);
    off += 4 + new DataView(blob.buffer, blob.byteOffset + off, 4).getUint32(0);
  }
  return out;
}

/** Valid blobs with one string length rewritten (too short, too long, huge). */
export function lyingBlobs(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(
    valid,
    fc.nat(),
    fc.oneof(fc.constantFrom(...EXTREME_U32), fc.integer({ min: -4, max: 4 })),
  )
    .map(([b, i, v]) => {
      const offs = stringOffsets(b);
      const at = offs[i % offs.length];
      const len = new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0);
      return lieAboutLength(b, at, v >= -4 && v <= 4 && v !== 0 ? len + v : v);
    });
}
