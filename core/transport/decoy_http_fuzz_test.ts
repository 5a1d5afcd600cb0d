// Property-based fuzzing of the stealth decoy's request parser (what any
// client on the TLS port can send): it never throws, answers only nginx's
// statuses, never claims bytes it was not given, reads valid requests back
// field for field, keeps every proper prefix of a valid request incomplete,
// and normalises paths to a fixed point.
import assert from "node:assert/strict";
import {
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedBytes,
  mutatedText,
  rawBytes,
  rawText,
} from "../../tests/fuzz_util.ts";
import {
  DECOY_HEAD_MAX,
  type DecoyHeadResult,
  normalizeDecoyPath,
  parseDecoyHead,
} from "./decoy_http.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
const STATUSES = new Set([400, 405, 414, 494, 501, 505]);

function check(b: Uint8Array): DecoyHeadResult {
  const r = parseDecoyHead(b);
  if (r.kind === "error") assert.ok(STATUSES.has(r.status), `status ${r.status}`);
  if (r.kind === "request") {
    assert.ok(r.used >= 1 && r.used <= b.length && r.used <= DECOY_HEAD_MAX);
    assert.ok(r.request.path.startsWith("/"));
    assert.ok(!r.request.path.includes("//"));
    assert.match(r.request.method, /^[A-Z_-]+$/);
  }
  return r;
}

const token = fc.string({
  minLength: 1,
  maxLength: 12,
  unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-".split("")),
});
const segment = fc.string({
  minLength: 1,
  maxLength: 10,
  unit: fc.constantFrom(..."abcxyz019-_.~".split("")),
}).filter((s) => s !== "." && s !== "..");

/** Well-formed HTTP/1.x requests nginx accepts. */
const request = fc.record({
  method: fc.constantFrom("GET", "HEAD", "POST", "PUT", "FOO"),
  path: fc.array(segment, { maxLength: 5 }).map((s) => "/" + s.join("/")),
  args: fc.option(fc.string({ maxLength: 10, unit: fc.constantFrom(..."ab=&1".split("")) })),
  minor: fc.constantFrom(0, 1),
  headers: fc.array(fc.tuple(token, token), { maxLength: 6 }),
}).map((r) => {
  const headers = r.headers.filter(([n]) =>
    !/^(host|content-length|transfer-encoding|connection)$/.test(n)
  );
  const text = `${r.method} ${r.path}${r.args !== null ? `?${r.args}` : ""} HTTP/1.${r.minor}\r\n` +
    `Host: example.com\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
  return { ...r, headers, text };
});

export const cases: FuzzCase[] = [
  {
    name:
      "decoy request head: raw and mutated bytes give more, an nginx status, or a request inside the input",
    runs: 4000,
    property: fc.property(
      fc.oneof(rawBytes, rawText.map(latin1), mutatedBytes(request.map((r) => latin1(r.text)))),
      (b) => void check(b),
    ),
  },
  {
    name: "decoy request head: valid requests read back field for field, trailing bytes left alone",
    runs: 3000,
    property: fc.property(request, fc.uint8Array({ maxLength: 16 }), (r, extra) => {
      const bytes = latin1(r.text);
      const all = new Uint8Array(bytes.length + extra.length);
      all.set(bytes);
      all.set(extra, bytes.length);
      const got = check(all);
      assert.equal(got.kind, "request", r.text);
      if (got.kind !== "request") return;
      assert.equal(got.used, bytes.length);
      assert.equal(got.request.method, r.method);
      assert.equal(got.request.version, 1000 + r.minor);
      assert.equal(got.request.path, normalizeDecoyPath(r.path));
      assert.equal(got.request.args, r.args ?? "");
      for (const [n, v] of r.headers) assert.ok(got.request.headers.get(n)?.includes(v));
    }),
  },
  {
    name: "decoy request head: every proper prefix of a valid request is incomplete",
    runs: 500,
    property: fc.property(request, (r) => {
      const bytes = latin1(r.text);
      for (let n = 0; n < bytes.length; n++) {
        assert.equal(
          check(bytes.subarray(0, n)).kind,
          "more",
          `prefix ${n} of ${JSON.stringify(r.text)}`,
        );
      }
    }),
  },
  {
    name: "decoy path: normalised paths are absolute, merged, dot-free fixed points (or refused)",
    runs: 3000,
    property: fc.property(
      fc.oneof(
        rawText,
        mutatedText(
          fc.array(fc.constantFrom("a", "..", ".", "", "%2e", "%2F", "%zz", "b#c"), {
            maxLength: 8,
          }).map((s) => "/" + s.join("/")),
        ),
      ),
      (raw) => {
        const p = normalizeDecoyPath(raw);
        if (p === null) return;
        assert.ok(p.startsWith("/"));
        assert.ok(!p.includes("//"));
        for (const seg of p.split("/")) assert.ok(seg !== "." && seg !== "..", p);
        if (!/[%#]/.test(p)) assert.equal(normalizeDecoyPath(p), p);
      },
    ),
  },
];

fuzzTests(cases);
