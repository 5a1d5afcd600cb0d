// Property-based fuzzing of known_hosts parsing: hostile text, lines as
// verifyHostKey writes them (plain and hashed) round trip, wildcard host
// patterns against a reference matcher (and star-heavy patterns, which must
// stay linear), and trust-on-first-use through a real file.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import {
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedText,
  outcome,
  outcomeAsync,
  rawText,
} from "../../tests/fuzz_util.ts";
import { KEYS } from "../auth/fuzz_fixtures_test.ts";
import { publicKeyLine } from "../auth/ssh_keys.ts";
import { findKnownHost, HostKeyError, knownHostsName, verifyHostKey } from "./known_hosts.ts";

function check(text: string, host: string, port: number) {
  const r = outcome(() => findKnownHost(text, host, port), []);
  assert.ok(r.ok);
  const lines = text.split("\n").length;
  for (const e of r.value) {
    assert.ok(e.line >= 1 && e.line <= lines);
    assert.equal(typeof e.revoked, "boolean");
    assert.ok(e.blob.length > 0);
  }
  return r.value;
}

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const host = fc.oneof(
  fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join(".")),
  fc.ipV4(),
  fc.ipV6(),
);
const port = fc.oneof(fc.constant(22), fc.integer({ min: 1, max: 65535 }));
const key = fc.integer({ min: 0, max: KEYS.length - 1 });

/** A known_hosts line as verifyHostKey writes it, optionally hashed or marked. */
const line = fc.tuple(
  host,
  port,
  key,
  fc.boolean(),
  fc.uint8Array({ minLength: 1, maxLength: 20 }),
  fc.constantFrom("", "@revoked "),
)
  .map(([h, p, k, hashed, salt, marker]) => {
    const name = knownHostsName(h, p);
    const field = hashed
      ? `|1|${Buffer.from(salt).toString("base64")}|${
        createHmac("sha1", Buffer.from(salt)).update(name).digest("base64")
      }`
      : name;
    return { h, p, k, marker, text: `${marker}${field} ${publicKeyLine(KEYS[k].blob)}` };
  });

/** Reference glob matcher (dynamic programming, no regular expressions). */
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

function fieldMatches(field: string, name: string): boolean {
  let matched = false;
  for (const pattern of field.split(",")) {
    const neg = pattern.startsWith("!");
    if (glob(neg ? pattern.slice(1) : pattern, name)) {
      if (neg) return false;
      matched = true;
    }
  }
  return matched;
}

const patternChar = fc.constantFrom(
  "*",
  "?",
  "a",
  "b",
  ".",
  "[",
  "]",
  ":",
  "1",
  "\\",
  "(",
  "+",
  "^",
  "$",
  "|",
);
const pattern = fc.tuple(
  fc.boolean(),
  fc.string({ unit: patternChar, minLength: 1, maxLength: 12 }),
)
  .map(([neg, p]) => (neg ? "!" : "") + p);

export const cases: FuzzCase[] = [
  {
    name: "known_hosts: hostile and mutated text returns entries inside the file, never throws",
    runs: 2100,
    property: fc.property(
      fc.oneof(
        rawText,
        mutatedText(
          fc.array(line, { minLength: 1, maxLength: 3 }).map((ls) =>
            ls.map((l) => l.text).join("\n")
          ),
        ),
      ),
      host,
      port,
      (text, h, p) => void check(text, h, p),
    ),
  },
  {
    name:
      "known_hosts: lines as verifyHostKey writes them (plain, hashed, @revoked) are found for their host and port only",
    runs: 1400,
    property: fc.property(fc.array(line, { minLength: 1, maxLength: 4 }), fc.nat(), (ls, pick) => {
      const text = ["# comment", ...ls.map((l) => l.text), ""].join("\n");
      const target = ls[pick % ls.length];
      const found = check(text, target.h, target.p);
      // Every line naming the same host:port is found, in order, with its key.
      const want = ls.map((l, i) => ({ l, n: i + 2 })).filter(({ l }) =>
        knownHostsName(l.h, l.p) === knownHostsName(target.h, target.p)
      );
      assert.deepEqual(
        found.map((e) => [e.line, e.type, e.revoked]),
        want.map(({ l, n }) => [n, KEYS[l.k].type, l.marker !== ""]),
      );
      found.forEach((e, i) => assert.deepEqual(e.blob, KEYS[want[i].l.k].blob));
    }),
  },
  {
    name: "known_hosts: wildcard and negated host patterns match as a reference glob does",
    runs: 2100,
    property: fc.property(
      fc.array(pattern, { minLength: 1, maxLength: 3 }),
      fc.oneof(host, fc.string({ unit: patternChar, maxLength: 12 })),
      port,
      (pats, h, p) => {
        const field = pats.join(",");
        const text = `${field} ${publicKeyLine(KEYS[0].blob)}`;
        const found = check(text, h, p).length > 0;
        assert.equal(
          found,
          fieldMatches(field, knownHostsName(h, p)),
          `${field} vs ${knownHostsName(h, p)}`,
        );
      },
    ),
  },
  {
    name: "known_hosts: star-heavy patterns against long names finish (no backtracking blow-up)",
    runs: 50,
    property: fc.property(
      fc.integer({ min: 8, max: 40 }),
      fc.integer({ min: 20, max: 120 }),
      fc.constantFrom("a", "b"),
      (stars, len, last) => {
        const text = `${"*a".repeat(stars)}${last} ${publicKeyLine(KEYS[0].blob)}`;
        void check(text, "a".repeat(len), 22);
      },
    ),
  },
  {
    name:
      "known_hosts: trust on first use through a file, then the same key passes and another is refused",
    runs: 80,
    property: fc.asyncProperty(
      host,
      port,
      key,
      key,
      fc.boolean(),
      async (h, p, k1, k2, noNewline) => {
        const dir = await Deno.makeTempDir({ prefix: "alknet-fuzz-kh-" });
        try {
          const path = `${dir}/sub/known_hosts`;
          if (noNewline) {
            await Deno.mkdir(`${dir}/sub`);
            await Deno.writeTextFile(path, "# no trailing newline");
          }
          const told: string[] = [];
          const policy = { knownHostsPath: path, onTrusted: (m: string) => told.push(m) };
          await verifyHostKey(h, p, KEYS[k1].blob, policy);
          assert.equal(told.length, 1);
          await verifyHostKey(h, p, KEYS[k1].blob, policy);
          assert.equal(told.length, 1);
          const again = await outcomeAsync(() => verifyHostKey(h, p, KEYS[k2].blob, policy), [
            HostKeyError,
          ]);
          assert.equal(
            again.ok,
            KEYS[k1].blob.every((b, i) => b === KEYS[k2].blob[i]) &&
              KEYS[k1].blob.length === KEYS[k2].blob.length,
          );
          const text = await Deno.readTextFile(path);
          assert.equal(findKnownHost(text, h, p).length, 1);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    ),
  },
];

fuzzTests(cases);
