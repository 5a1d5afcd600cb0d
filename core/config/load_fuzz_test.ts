// Property-based fuzzing of the TOML configuration: parseConfigFile on
// hostile and mutated text (a layer or a ConfigError whose issues name file,
// line and key), and render -> parse -> merge round trips of whole
// configurations.
import assert from "node:assert/strict";
import { stringify } from "smol-toml";
import {
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedText,
  outcome,
  rawText,
} from "../../tests/fuzz_util.ts";
import { type ApiKeyRecord, hashApiKey } from "../auth/api_keys.ts";
import { RulePolicy } from "../auth/policy.ts";
import { parseConfigFile } from "./load.ts";
import { REDACTED, renderConfig } from "./render.ts";
import { type AlknetConfig, ConfigError, mergeLayers } from "./schema.ts";

const PATH = "/etc/alknet/alknet.toml";

function check(text: string) {
  const r = outcome(() => parseConfigFile(text, PATH), [ConfigError]);
  if (!r.ok) {
    const e = r.error as ConfigError;
    assert.ok(e.issues.length >= 1);
    const lines = text.split("\n").length;
    for (const i of e.issues) {
      assert.equal(i.source, PATH);
      assert.equal(typeof i.key, "string");
      assert.ok(i.message.length > 0);
      assert.ok(
        i.line === undefined || (Number.isInteger(i.line) && i.line >= 1 && i.line <= lines + 1),
      );
    }
    return e;
  }
  // A valid layer merges into a complete configuration.
  const c = mergeLayers([r.value]);
  assert.ok(Array.isArray(c.server.listen));
  return r.value;
}

const TARGETS = [
  "*",
  "*:443",
  "db.internal:5432",
  "10.0.0.0/8:*",
  "[::1]:22",
  "*.example.com:80-90",
]
  .filter((t) => {
    try {
      new RulePolicy([{ action: "allow", target: t }]);
      return true;
    } catch {
      return false;
    }
  });

const pathText = fc.oneof(
  fc.stringMatching(/^\/[a-z0-9_.\/-]{1,30}$/),
  fc.constantFrom("host_key", "keys/authorized_keys", "../x"),
);

/** A valid configuration; API key records keep their real hashes beside the rendering. */
const config = fc.record({
  listen: fc.array(
    fc.constantFrom("127.0.0.1:2222", "tls://0.0.0.0:443", "[::]:22", "wss://h:8443/p"),
    {
      minLength: 1,
      maxLength: 3,
    },
  ),
  hostKey: fc.option(pathText, { nil: undefined }),
  logFormat: fc.constantFrom("text" as const, "json" as const),
  allowRemoteBind: fc.boolean(),
  authorizedKeys: fc.option(pathText, { nil: undefined }),
  apiKeys: fc.array(
    fc.record({
      scopes: fc.array(fc.constantFrom("relay:connect", "call:*", "a b"), {
        minLength: 1,
        maxLength: 2,
      }),
      expiresAt: fc.option(fc.integer({ min: 0, max: Date.UTC(9999, 0, 1) }), { nil: undefined }),
    }),
    { maxLength: 2 },
  ),
  default: fc.constantFrom("allow" as const, "deny" as const),
  rules: fc.array(
    fc.record({
      action: fc.constantFrom("allow" as const, "deny" as const),
      target: fc.constantFrom(...TARGETS),
      principals: fc.option(
        fc.array(fc.constantFrom("alice", "SHA256:abc"), { minLength: 1, maxLength: 2 }),
        {
          nil: undefined,
        },
      ),
      transports: fc.option(
        fc.array(fc.constantFrom("tcp", "tls", "quic"), { minLength: 1, maxLength: 2 }),
        {
          nil: undefined,
        },
      ),
    }),
    { maxLength: 3 },
  ),
  limits: fc.tuple(
    fc.nat({ max: 1e6 }),
    fc.nat({ max: 100 }),
    fc.nat({ max: 1e5 }),
    fc.nat({ max: 100 }),
    fc.integer({ min: 1, max: 1e5 }),
    fc.nat({ max: 1e3 }),
  ),
}).map((g) => {
  const keys = g.apiKeys.map((k, i) => {
    // Fixed, distinct keys (the same seed gives the same document in any process).
    const prefix = `alk_${String(i).padStart(8, "0")}`;
    const record: ApiKeyRecord = {
      prefix,
      hash: hashApiKey(`${prefix}_${"s".repeat(43)}`),
      scopes: k.scopes,
    };
    if (k.expiresAt !== undefined) record.expiresAt = k.expiresAt;
    return record;
  });
  const c: AlknetConfig = {
    server: { listen: g.listen, logFormat: g.logFormat, allowRemoteBind: g.allowRemoteBind },
    auth: { apiKeys: keys },
    forwarding: {
      default: g.default,
      rules: g.rules.map((r) => {
        const o: AlknetConfig["forwarding"]["rules"][number] = {
          action: r.action,
          target: r.target,
        };
        if (r.principals) o.principals = r.principals;
        if (r.transports) o.transports = r.transports;
        return o;
      }),
    },
    limits: {
      maxConnectionsPerIp: g.limits[0],
      maxAuthFailures: g.limits[1],
      penaltySeconds: g.limits[2],
      penaltyAfterFailures: g.limits[3],
      preauthTimeoutS: g.limits[4],
      maxSessionsPerIdentity: g.limits[5],
    },
  };
  if (g.hostKey !== undefined) c.server.hostKey = g.hostKey;
  if (g.authorizedKeys !== undefined) c.auth.authorizedKeys = g.authorizedKeys;
  return c;
});

/** Renders a configuration with the real API key hashes put back in place of the redaction. */
function renderWithHashes(c: AlknetConfig): string {
  let i = 0;
  return renderConfig(c).replaceAll(
    `"${REDACTED}"`,
    () => JSON.stringify(c.auth.apiKeys[i++].hash),
  );
}

function resolved(p: string): string {
  return p.startsWith("/") ? p : new URL(p, "file:///etc/alknet/").pathname;
}

/** TOML documents of the right shape with wrong values here and there. */
const wrongish = fc.dictionary(
  fc.constantFrom("server", "auth", "forwarding", "limits", "extra"),
  fc.dictionary(
    fc.constantFrom(
      "listen",
      "host_key",
      "log_format",
      "allow_remote_bind",
      "authorized_keys",
      "api_keys",
      "default",
      "rules",
      "penalty_seconds",
      "preauth_timeout_s",
      "max_connections_per_ip",
      "bogus",
    ),
    fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.integer(),
      fc.double({ noNaN: false }),
      fc.boolean(),
      fc.date({ noInvalidDate: true }),
      fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { maxLength: 3 }),
      fc.array(
        fc.dictionary(
          fc.constantFrom(
            "prefix",
            "hash",
            "scopes",
            "expires_at",
            "action",
            "target",
            "principals",
            "x",
          ),
          fc.oneof(
            fc.string({ maxLength: 12 }),
            fc.integer(),
            fc.date({ noInvalidDate: true }),
            fc.array(fc.string(), { maxLength: 2 }),
          ),
        ),
        { maxLength: 2 },
      ),
    ),
  ),
).map((doc) => {
  try {
    return stringify(doc);
  } catch {
    return "";
  }
});

/** Syntax that stresses the TOML parser: deep nesting, long keys, odd strings. */
const nasty = fc.oneof(
  fc.integer({ min: 1, max: 5000 }).map((n) =>
    `[server]\nlisten = ${"[".repeat(n)}${"]".repeat(n)}\n`
  ),
  fc.integer({ min: 1, max: 5000 }).map((n) => `x = ${"{a=".repeat(n)}1${"}".repeat(n)}\n`),
  fc.integer({ min: 1, max: 2000 }).map((n) => `[${"a.".repeat(n)}b]\nc = 1\n`),
  fc.constantFrom(
    'a = """\n',
    "a = '''",
    "[[limits]]\n[[limits]]",
    "[server]\n[server]",
    'server = { listen = ["x"] }\n[server]',
    "limits.penalty_seconds = 99999999999999999999",
    "limits.penalty_seconds = 1e400",
    "[limits]\npenalty_seconds = -0",
    "[auth]\n[[auth.api_keys]]\nexpires_at = 1979-05-27T07:32:00",
    "[auth]\n[[auth.api_keys]]\nexpires_at = 0000-01-01T00:00:00Z",
    "\ufeff[server]\nlisten=['a']",
    "__proto__ = 1\n[constructor]\nprototype = 2",
  ),
);

export const cases: FuzzCase[] = [
  {
    name:
      "config file: raw text and parser-stressing TOML give a layer or a ConfigError naming file, line and key",
    runs: 1050,
    property: fc.property(fc.oneof(rawText, nasty), (t) => void check(t)),
  },
  {
    name: "config file: well-formed TOML with wrong types, unknown keys and edits",
    runs: 700,
    property: fc.property(
      fc.oneof(wrongish, mutatedText(wrongish), mutatedText(config.map(renderWithHashes))),
      (t) => void check(t),
    ),
  },
  {
    name:
      "config file: renderConfig -> parseConfigFile -> mergeLayers round trip (paths resolved against the file)",
    runs: 550,
    property: fc.property(config, (c) => {
      const layer = check(renderWithHashes(c));
      assert.ok(!(layer instanceof Error), String(layer));
      const want = structuredClone(c);
      if (want.server.hostKey !== undefined) want.server.hostKey = resolved(want.server.hostKey);
      if (want.auth.authorizedKeys !== undefined) {
        want.auth.authorizedKeys = resolved(want.auth.authorizedKeys);
      }
      assert.deepEqual(mergeLayers([layer]), want);
    }),
  },
];

fuzzTests(cases);
