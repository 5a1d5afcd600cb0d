// Property-based fuzzing of authorized_keys parsing: generated lines with
// options round trip to the options they state; hostile and mutated files
// give, for every non-comment line, exactly one entry or one warning, and
// never an "unexpected error"; the helpers (from= matching, expiry times,
// host:port) stay total.
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
  type AuthorizedKeyOptions,
  DEFAULT_SCOPE,
  matchFrom,
  parseAuthorizedKeys,
  parseExpiryTime,
  splitHostPort,
} from "./authorized_keys.ts";
import { KEYS } from "./fuzz_fixtures_test.ts";

/** One option as written, and what it does to the parsed options. */
interface Opt {
  text: string;
  single?: string;
  apply(o: Draft): void;
}

interface Draft {
  certAuthority: boolean;
  explicitNoPf: boolean;
  restrict: boolean;
  portForwarding: boolean;
  principals?: string[];
  from?: string[];
  expiresAt?: number;
  permitOpen?: string[];
  permitListen?: string[];
  scopes?: string[];
}

/** Random upper/lower case: option names are case-insensitive. */
const anyCase = (name: string) =>
  fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }).map((up) =>
    [...name].map((c, i) => (up[i] ? c.toUpperCase() : c)).join("")
  );

const flag = (name: string, apply: (o: Draft) => void): fc.Arbitrary<Opt> =>
  anyCase(name).map((n) => ({ text: n, apply }));

const valued = (
  name: string,
  values: fc.Arbitrary<string>,
  apply: (o: Draft, v: string) => void,
  single: boolean,
): fc.Arbitrary<Opt> =>
  fc.tuple(anyCase(name), values).map(([n, v]) => ({
    text: `${n}="${v.replace(/"/g, '\\"')}"`,
    single: single ? name : undefined,
    apply: (o: Draft) => apply(o, v),
  }));

const list = (items: readonly string[]) =>
  fc.uniqueArray(fc.constantFrom(...items), { minLength: 1, maxLength: 3 }).map((a) => a.join(","));

/** A UTC time at the precision of the chosen format, with its text. */
const expiry = fc.tuple(
  fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2200, 0, 1) }),
  fc.constantFrom("day", "minute", "second"),
).map(([t, precision]) => {
  const d = new Date(t);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const day = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
  const hm = `${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
  const text = precision === "day"
    ? day
    : precision === "minute"
    ? day + hm
    : day + hm + p(d.getUTCSeconds());
  const ms = Date.UTC(
    d.getUTCFullYear(),
    d.getUTCMonth(),
    d.getUTCDate(),
    precision === "day" ? 0 : d.getUTCHours(),
    precision === "day" ? 0 : d.getUTCMinutes(),
    precision === "second" ? d.getUTCSeconds() : 0,
  );
  return { text: text + "Z", ms };
});

const permitOpenValue = fc.tuple(
  fc.constantFrom("db.internal", "10.0.0.1", "[::1]", "[fd00::5]", "*", "host-*.example"),
  fc.oneof(fc.integer({ min: 1, max: 65535 }).map(String), fc.constant("*")),
).map(([h, p]) => `${h}:${p}`);

const permitListenValue = fc.tuple(
  fc.option(fc.constantFrom("localhost", "127.0.0.1", "[::1]", "*"), { nil: undefined }),
  fc.oneof(fc.integer({ min: 0, max: 65535 }).map(String), fc.constant("*")),
).map(([h, p]) => (h === undefined ? p : `${h}:${p}`));

const option: fc.Arbitrary<Opt> = fc.oneof(
  flag("cert-authority", (o) => o.certAuthority = true),
  flag("no-port-forwarding", (o) => o.explicitNoPf = true),
  flag("restrict", (o) => o.restrict = true),
  flag("port-forwarding", (o) => o.portForwarding = true),
  flag("no-pty", () => {}),
  flag("no-agent-forwarding", () => {}),
  flag("no-x11-forwarding", () => {}),
  flag("no-user-rc", () => {}),
  valued(
    "principals",
    list(["alice", "bob", "deploy", "ci-runner"]),
    (o, v) => o.principals = v.split(","),
    true,
  ),
  valued(
    "from",
    list([
      "10.0.0.0/8",
      "!10.0.0.1",
      "192.168.1.*",
      "*.example.com",
      "::1",
      "fd00::/8",
      "127.0.0.?",
    ]),
    (o, v) => o.from = v.split(","),
    true,
  ),
  expiry.chain((e) => valued("expiry-time", fc.constant(e.text), (o) => o.expiresAt = e.ms, true)),
  valued("permitopen", permitOpenValue, (o, v) => (o.permitOpen ??= []).push(v), false),
  valued("permitlisten", permitListenValue, (o, v) => (o.permitListen ??= []).push(v), false),
  valued(
    "alknet-scopes",
    list(["relay:connect", "call:*", "call:read", "a/b.c_d-e"]),
    (o, v) => o.scopes = v.split(","),
    true,
  ),
);

/** Options without repeating the single-use ones. */
const options = fc.array(option, { maxLength: 5 }).map((opts) => {
  const seen = new Set<string>();
  return opts.filter((o) => !o.single || (!seen.has(o.single) && (seen.add(o.single), true)));
});

function expected(opts: Opt[]): AuthorizedKeyOptions {
  const d: Draft = {
    certAuthority: false,
    explicitNoPf: false,
    restrict: false,
    portForwarding: false,
  };
  for (const o of opts) o.apply(d);
  const out: AuthorizedKeyOptions = {
    certAuthority: d.certAuthority,
    noPortForwarding: d.explicitNoPf || (d.restrict && !d.portForwarding),
    scopes: d.scopes ?? [DEFAULT_SCOPE],
  };
  if (d.principals) out.principals = d.principals;
  if (d.from) out.from = d.from;
  if (d.expiresAt !== undefined) out.expiresAt = d.expiresAt;
  if (d.permitOpen) out.permitOpen = d.permitOpen;
  if (d.permitListen) out.permitListen = d.permitListen;
  return out;
}

const comment = fc.stringMatching(/^([!-~]+( [!-~]+){0,3})?$/);

/** A valid line, what it must parse to, and whether it has options. */
const goodLine = fc.tuple(
  options,
  fc.integer({ min: 0, max: KEYS.length - 1 }),
  comment,
  fc.constantFrom(" ", "\t", "  "),
)
  .map(([opts, k, c, sep]) => {
    const key = KEYS[k];
    const body = key.line("").trimEnd() + (c ? ` ${c}` : "");
    const text = opts.length ? `${opts.map((o) => o.text).join(",")}${sep}${body}` : body;
    return { text, key: k, comment: c, options: expected(opts) };
  });

/** Parses `text` and checks the per-line contract; returns entries and warnings. */
function parse(text: string) {
  const warnings: string[] = [];
  const r = outcome(() => parseAuthorizedKeys(text, "fuzz", (m) => warnings.push(m)), []);
  assert.ok(r.ok);
  const entries = r.value;
  for (const w of warnings) {
    assert.match(w, /^fuzz:\d+: /);
    assert.doesNotMatch(w, /unexpected error/, w);
  }
  // Every line that is not blank or a comment yields exactly one entry or one warning.
  const lines = text.split("\n");
  const counted = lines.map((l, i) => ({ l: l.replace(/\r$/, "").trim(), n: i + 1 })).filter((x) =>
    x.l !== "" && !x.l.startsWith("#")
  );
  const byLine = new Map<number, number>();
  for (const e of entries) byLine.set(e.line, (byLine.get(e.line) ?? 0) + 1);
  for (const w of warnings) {
    const n = Number(/^fuzz:(\d+):/.exec(w)![1]);
    byLine.set(n, (byLine.get(n) ?? 0) + 1);
  }
  assert.equal(byLine.size, counted.length);
  for (const { n } of counted) assert.equal(byLine.get(n), 1, `line ${n}`);
  for (const e of entries) {
    assert.ok(e.options.scopes.length >= 1);
    assert.equal(e.source, "fuzz");
  }
  return { entries, warnings };
}

export const cases: FuzzCase[] = [
  {
    name: "authorized_keys: generated lines with options parse to exactly the options they state",
    runs: 850,
    property: fc.property(
      fc.array(goodLine, { minLength: 1, maxLength: 4 }),
      fc.boolean(),
      (lines, crlf) => {
        const text = lines.map((l) => l.text).join(crlf ? "\r\n" : "\n") + "\n# end\n";
        const { entries, warnings } = parse(text);
        assert.deepEqual(warnings, []);
        assert.equal(entries.length, lines.length);
        entries.forEach((e, i) => {
          assert.deepEqual(e.key.blob, KEYS[lines[i].key].blob);
          assert.equal(e.comment, lines[i].comment);
          assert.deepEqual(e.options, lines[i].options);
          assert.equal(e.line, i + 1);
        });
      },
    ),
  },
  {
    name:
      "authorized_keys: mutated lines and raw text give one entry or one warning per line, never an unexpected error",
    runs: 1050,
    property: fc.property(
      fc.array(
        fc.oneof(mutatedText(goodLine.map((l) => l.text)), rawText, goodLine.map((l) => l.text)),
        {
          maxLength: 5,
        },
      ),
      (lines) => void parse(lines.join("\n")),
    ),
  },
  {
    name: "authorized_keys helpers: matchFrom, parseExpiryTime and splitHostPort are total",
    runs: 2100,
    property: fc.property(
      fc.array(
        fc.oneof(
          rawText,
          fc.constantFrom("10.0.0.0/8", "!*", "*", "::1", "[::1]/128", "1.2.3.4/40"),
        ),
        {
          maxLength: 4,
        },
      ),
      fc.oneof(rawText, fc.constantFrom("10.0.0.1", "::ffff:10.0.0.1", "fd00::1", "[::1]")),
      fc.oneof(rawText, mutatedText(expiry.map((e) => e.text))),
      fc.boolean(),
      (patterns, address, time, optionalHost) => {
        assert.equal(typeof matchFrom(patterns, address), "boolean");
        const t = parseExpiryTime(time);
        assert.ok(t === null || Number.isFinite(t));
        const hp = splitHostPort(time, optionalHost);
        assert.ok(hp === null || typeof hp.port === "string");
      },
    ),
  },
  {
    name: "authorized_keys: expiry-time text round trips to its instant",
    runs: 1400,
    property: fc.property(expiry, (e) => assert.equal(parseExpiryTime(e.text), e.ms)),
  },
];

fuzzTests(cases);
