// Property-based fuzzing of derivation paths (`m/74'/0'/…`): hostile text
// gives indices or InvalidPath, and indices -> path -> indices round trips.
import assert from "node:assert/strict";
import { fc, type FuzzCase, fuzzTests, mutatedText, outcome, rawText } from "../tests/fuzz_util.ts";
import { InvalidPath } from "./errors.ts";
import { canonicalPath, formatPath, HARDENED_OFFSET, parsePath } from "./path.ts";

const indices = fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 8 });

function check(path: string, hardenedOnly: boolean) {
  const r = outcome(() => parsePath(path, { hardenedOnly }), [InvalidPath]);
  if (!r.ok) return r.error;
  for (const i of r.value) {
    assert.ok(Number.isInteger(i) && i >= 0 && i <= 0xffffffff);
    if (hardenedOnly) assert.ok(i >= HARDENED_OFFSET);
  }
  assert.deepEqual(parsePath(formatPath(r.value)), r.value);
  assert.equal(canonicalPath(path), formatPath(r.value));
  return r.value;
}

export const cases: FuzzCase[] = [
  {
    name:
      "derivation path: raw and mutated text give indices (canonical form reparses) or InvalidPath",
    runs: 2800,
    property: fc.property(
      fc.oneof(
        rawText,
        mutatedText(indices.map(formatPath)),
        fc.stringMatching(/^m(\/[0-9h']{0,12}){0,4}$/),
      ),
      fc.boolean(),
      (p, h) => void check(p, h),
    ),
  },
  {
    name: "derivation path: indices -> formatPath -> parsePath round trip ('h' and ' spellings)",
    runs: 2100,
    property: fc.property(indices, fc.boolean(), (ix, hSpelling) => {
      const text = formatPath(ix);
      assert.deepEqual(check(text, false), ix);
      if (hSpelling) assert.deepEqual(check(text.replaceAll("'", "h"), false), ix);
    }),
  },
];

fuzzTests(cases);
