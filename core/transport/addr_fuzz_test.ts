// Property-based fuzzing of IP literal, CIDR and wildcard parsing (used by
// authorized_keys `from=`, certificate `source-address`, forwarding rules
// and connection limits): nothing throws except CidrError, and bytes ->
// text -> bytes round trips.
import assert from "node:assert/strict";
import {
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedText,
  outcome,
  rawText,
} from "../../tests/fuzz_util.ts";
import {
  cidrContains,
  CidrError,
  formatIp,
  parseCidr,
  parseIp,
  parseIPv4,
  parseIPv6,
  wildcardMatch,
} from "./addr.ts";

const ipText = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.ipV4Extended(),
  fc.constantFrom(
    "::ffff:1.2.3.4",
    "[::1]",
    "fe80::1%eth0",
    "::1.2.3.4",
    "1::2::3",
    "01.2.3.4",
    "::",
    "0.0.0.0",
  ),
);
const ipish = fc.oneof(
  ipText,
  mutatedText(ipText),
  fc.stringMatching(/^[0-9a-f:.%\[\]]{0,70}$/),
  rawText,
);

function checkIp(s: string): Uint8Array | null {
  const r = outcome(() => parseIp(s), []);
  assert.ok(r.ok);
  const b = r.value;
  if (b === null) return null;
  assert.ok(b.length === 4 || b.length === 16);
  // The canonical text parses back to the same bytes.
  assert.deepEqual(parseIp(formatIp(b)), b);
  return b;
}

/** Reference glob matcher (dynamic programming). */
function glob(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase(), t = text.toLowerCase();
  let row = new Array<boolean>(t.length + 1).fill(false);
  row[0] = true;
  for (const c of p) {
    const next = new Array<boolean>(t.length + 1).fill(false);
    if (c === "*") {
      next[0] = row[0];
      for (let j = 1; j <= t.length; j++) next[j] = row[j] || next[j - 1];
    } else {
      for (let j = 1; j <= t.length; j++) next[j] = row[j - 1] && (c === "?" || c === t[j - 1]);
    }
    row = next;
  }
  return row[t.length];
}

export const cases: FuzzCase[] = [
  {
    name:
      "ip literals: parseIp/parseIPv4/parseIPv6 never throw; what parses formats and reparses equal",
    runs: 3500,
    property: fc.property(ipish, (s) => {
      checkIp(s);
      for (const f of [parseIPv4, parseIPv6]) {
        const r = outcome(() => f(s), []);
        assert.ok(r.ok && (r.value === null || r.value.length === (f === parseIPv4 ? 4 : 16)));
      }
    }),
  },
  {
    name:
      "ip literals: bytes -> formatIp -> parseIp round trip (IPv4-mapped IPv6 comes back as IPv4)",
    runs: 2100,
    property: fc.property(
      fc.oneof(
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
      ),
      (b) => {
        const back = checkIp(formatIp(b));
        const mapped = b.length === 16 && b.subarray(0, 10).every((x) => x === 0) &&
          b[10] === 0xff &&
          b[11] === 0xff;
        assert.deepEqual(back, mapped ? b.slice(12) : b);
      },
    ),
  },
  {
    name: "cidr: parseCidr gives a block or CidrError; a block contains its own address",
    runs: 2800,
    property: fc.property(
      fc.oneof(
        fc.tuple(
          ipText,
          fc.oneof(
            fc.integer({ min: 0, max: 130 }).map(String),
            fc.constantFrom("", "08", "-1", "1e2"),
          ),
        )
          .map(([a, b]) => `${a}/${b}`),
        mutatedText(ipText.map((a) => `${a}/24`)),
        rawText,
      ),
      ipish,
      (s, other) => {
        const r = outcome(() => parseCidr(s), [CidrError]);
        if (!r.ok) return;
        const c = r.value;
        assert.ok(c.addr.length === 4 || c.addr.length === 16);
        assert.ok(Number.isInteger(c.bits) && c.bits >= 0 && c.bits <= c.addr.length * 8);
        assert.ok(cidrContains(c, c.addr));
        assert.equal(typeof cidrContains(c, other), "boolean");
      },
    ),
  },
  {
    name: "wildcards: wildcardMatch agrees with a reference glob, also on star-heavy patterns",
    runs: 2800,
    property: fc.property(
      fc.string({ unit: fc.constantFrom("*", "?", "a", "b", "A", "."), maxLength: 16 }),
      fc.string({ unit: fc.constantFrom("a", "b", "B", ".", "c"), maxLength: 40 }),
      (p, t) => assert.equal(wildcardMatch(p, t), glob(p, t)),
    ),
  },
];

fuzzTests(cases);
