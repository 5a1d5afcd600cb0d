import assert from "node:assert/strict";
import {
  ConfigError,
  ConfigReloader,
  defaultConfig,
  loadConfig,
  parseConfigFile,
  renderConfig,
  TomlLineIndex,
} from "./mod.ts";
import { generateApiKey } from "../auth/api_keys.ts";
import { ed25519Key } from "../auth/fixtures_test.ts";
import type { Identity } from "../auth/identity.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "alknet-config-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) {
      return e.issues.map((i) => `${i.line ?? "-"} ${i.key}: ${i.message}`);
    }
    throw e;
  }
  throw new assert.AssertionError({ message: "expected a ConfigError" });
}

const ME: Identity = { id: "SHA256:me", scopes: ["relay:connect"], resources: {} };

Deno.test("config: defaults", async () => {
  const { config, path } = await loadConfig({ env: {} });
  assert.equal(path, undefined);
  assert.deepEqual(config, defaultConfig());
  assert.equal(config.limits.preauthTimeoutS, 30);
  assert.equal(config.forwarding.default, "allow");
});

Deno.test("config: file values, relative paths resolved against the file", () => {
  const layer = parseConfigFile(
    `# alknet
[server]
listen = ["0.0.0.0:22", "tls://[::]:443"]
host_key = "keys/host"
log_format = "json"
allow_remote_bind = true

[auth]
authorized_keys = "/etc/alknet/authorized_keys"

[[auth.api_keys]]
prefix = "alk_ab12cd34"
hash = "sha256:${"a".repeat(64)}"
scopes = ["call:read"]
expires_at = 2027-01-01T00:00:00Z

[forwarding]
default = "deny"

[[forwarding.rules]]
action = "allow"
target = "*.example.com:443"
principals = ["ops"]
transports = ["tls"]

[limits]
max_connections_per_ip = 4
max_auth_failures = 2
penalty_seconds = 120
penalty_after_failures = 3
preauth_timeout_s = 10
max_sessions_per_identity = 8
`,
    "/srv/alknet/alknet.toml",
  );
  assert.deepEqual(layer.server, {
    listen: ["0.0.0.0:22", "tls://[::]:443"],
    hostKey: "/srv/alknet/keys/host",
    logFormat: "json",
    allowRemoteBind: true,
  });
  assert.equal(layer.auth?.authorizedKeys, "/etc/alknet/authorized_keys");
  assert.deepEqual(layer.auth?.apiKeys, [{
    prefix: "alk_ab12cd34",
    hash: `sha256:${"a".repeat(64)}`,
    scopes: ["call:read"],
    expiresAt: Date.UTC(2027, 0, 1),
  }]);
  assert.deepEqual(layer.forwarding, {
    default: "deny",
    rules: [{
      action: "allow",
      target: "*.example.com:443",
      principals: ["ops"],
      transports: ["tls"],
    }],
  });
  assert.deepEqual(layer.limits, {
    maxConnectionsPerIp: 4,
    maxAuthFailures: 2,
    penaltySeconds: 120,
    penaltyAfterFailures: 3,
    preauthTimeoutS: 10,
    maxSessionsPerIdentity: 8,
  });
});

Deno.test("config: precedence flags > env > file > defaults", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/a.toml`;
    await Deno.writeTextFile(
      path,
      `[server]\nlisten = ["127.0.0.1:1"]\nlog_format = "json"\n[limits]\npenalty_seconds = 5\nmax_auth_failures = 9\n`,
    );
    const env = { ALKNET_LISTEN: "127.0.0.1:2, [::1]:2", ALKNET_PENALTY_SECONDS: "7", HOME: "/x" };
    const { config } = await loadConfig({
      path,
      env,
      flags: { server: { listen: ["127.0.0.1:3"] } },
    });
    assert.deepEqual(config.server.listen, ["127.0.0.1:3"], "flag wins");
    assert.equal(config.limits.penaltySeconds, 7, "env beats file");
    assert.equal(config.limits.maxAuthFailures, 9, "file beats default");
    assert.equal(config.server.logFormat, "json");
    assert.equal(config.limits.preauthTimeoutS, 30, "default");
    const viaEnv = await loadConfig({ env: { ...env, ALKNET_CONFIG: path } });
    assert.equal(viaEnv.path, path, "ALKNET_CONFIG names the file");
    assert.deepEqual(viaEnv.config.server.listen, ["127.0.0.1:2", "[::1]:2"]);
  });
});

Deno.test("config: environment errors name the variable", async () => {
  await assert.rejects(
    loadConfig({
      env: {
        ALKNET_MAX_AUTH_FAILURES: "lots",
        ALKNET_LOG_FORMAT: "xml",
        ALKNET_ALLOW_REMOTE_BIND: "maybe",
      },
    }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const text = e.issues.map((i) => `${i.source} ${i.key}`).sort();
      assert.deepEqual(text, [
        "env ALKNET_ALLOW_REMOTE_BIND",
        "env ALKNET_LOG_FORMAT",
        "env ALKNET_MAX_AUTH_FAILURES",
      ]);
      return true;
    },
  );
  const ok = await loadConfig({ env: { ALKNET_UNRELATED: "x", ALKNET_ALLOW_REMOTE_BIND: "yes" } });
  assert.equal(ok.config.server.allowRemoteBind, true);
});

Deno.test("config: unknown keys name file, line and key", () => {
  const text = `[server]
listen = ["127.0.0.1:1"]
lisen = ["x"]

[limits]
max_conections_per_ip = 3

[[forwarding.rules]]
action = "allow"
target = "*"
colour = "red"

[extra]
a = 1
`;
  assert.throws(() => parseConfigFile(text, "my.toml"), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.issues.map((i) => [i.source, i.line, i.key]), [
      ["my.toml", 3, "server.lisen"],
      ["my.toml", 6, "limits.max_conections_per_ip"],
      ["my.toml", 11, "forwarding.rules[0].colour"],
      ["my.toml", 13, "extra"],
    ]);
    assert.match(e.message, /my\.toml:3: server\.lisen: unknown key/);
    return true;
  });
});

Deno.test("config: type errors name file, line and key", () => {
  assert.deepEqual(
    issuesOf(() =>
      parseConfigFile(
        `[server]
listen = "127.0.0.1:1"
log_format = "yaml"
allow_remote_bind = "yes"
[auth]
authorized_keys = 7
[forwarding]
default = "maybe"
[limits]
penalty_seconds = -1
preauth_timeout_s = 0
max_auth_failures = 1.5
`,
        "t.toml",
      )
    ),
    [
      "2 server.listen: must be an array of strings, not a string",
      '3 server.log_format: must be one of "text", "json", not "yaml"',
      "4 server.allow_remote_bind: must be true or false, not a string",
      "6 auth.authorized_keys: must be a non-empty string, not a number",
      '8 forwarding.default: must be one of "allow", "deny", not "maybe"',
      "10 limits.penalty_seconds: must be an integer >= 0, not -1",
      "11 limits.preauth_timeout_s: must be an integer >= 1, not 0",
      "12 limits.max_auth_failures: must be an integer >= 0, not 1.5",
    ],
  );
});

Deno.test("config: forwarding rules and API keys are validated per entry", () => {
  const issues = issuesOf(() =>
    parseConfigFile(
      `[forwarding]
rules = [
  { action = "allow", target = "*.example.com" },
  { action = "allow", target = "a*b*c" },
  { action = "nope", target = "*" },
]

[[auth.api_keys]]
prefix = "ALK_bad"
hash = "sha256:${"0".repeat(64)}"

[[auth.api_keys]]
prefix = "alk_ab12cd34"
hash = "md5:1"

[[auth.api_keys]]
prefix = "alk_ab12cd35"
hash = "sha256:${"0".repeat(64)}"
expires_at = 2027-01-01T00:00:00
`,
      "r.toml",
    )
  );
  assert.equal(issues.length, 5, issues.join("\n"));
  assert.match(issues[0], /^4 forwarding\.rules\[1\]\.target: bad target 'a\*b\*c': more than one/);
  assert.match(issues[1], /^5 forwarding\.rules\[2\]\.action: must be one of/);
  assert.match(issues[2], /^9 auth\.api_keys\[0\]\.prefix: api key prefix 'ALK_bad'/);
  assert.match(issues[3], /^14 auth\.api_keys\[1\]\.hash: .*sha256:/);
  assert.match(
    issues[4],
    /^19 auth\.api_keys\[2\]\.expires_at: must be a date-time with an offset/,
  );
});

Deno.test("config: TOML syntax errors give the line", () => {
  assert.deepEqual(
    issuesOf(() => parseConfigFile(`[server]\nlisten = [\n"a",\nnope\n]\n`, "s.toml")).map((s) =>
      s.split(" ").slice(0, 2).join(" ")
    ),
    ["4 (syntax):"],
  );
});

Deno.test("config: missing file is a ConfigError naming it", async () => {
  await assert.rejects(
    loadConfig({ path: "/nonexistent/alknet.toml", env: {} }),
    /\/nonexistent\/alknet\.toml: \(file\): cannot read: no such file/,
  );
});

Deno.test("config: line index handles dotted, quoted, multi-line values", () => {
  const idx = new TomlLineIndex(`a = 1
[server]
"listen" = [
  "x",
]
notes = """
[fake]
k = 1
"""
limits.penalty_seconds = 3
[[forwarding.rules]]
target = "*"
[[forwarding.rules]]
target = "x" # comment
`);
  assert.equal(idx.lineOf("a"), 1);
  assert.equal(idx.lineOf("server.listen"), 3);
  assert.equal(idx.lineOf("server.notes"), 6);
  assert.equal(idx.lineOf("fake.k"), undefined);
  assert.equal(idx.lineOf("server.limits.penalty_seconds"), 10);
  assert.equal(idx.lineOf("forwarding.rules[1].target"), 14);
  assert.equal(idx.lineOf("forwarding.rules[1].missing"), 13, "falls back to the table");
  assert.equal(idx.lineOf("nothing.at.all"), undefined);
});

Deno.test("config: render redacts API key hashes and round-trips", () => {
  const { record } = generateApiKey();
  const c = defaultConfig();
  c.auth.apiKeys = [record];
  const text = renderConfig(c);
  assert.ok(!text.includes(record.hash.slice(7)), "hash not printed");
  assert.match(text, /hash = "<redacted>"/);
  const back = parseConfigFile(text.replace("<redacted>", record.hash), "/x.toml");
  assert.deepEqual(back.auth?.apiKeys, [record]);
  assert.deepEqual(back.limits, c.limits);
});

Deno.test("reloader: swaps the dynamic part atomically, keeps the old one when invalid", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/alknet.toml`;
    const ak = `${dir}/authorized_keys`;
    const alice = ed25519Key(40);
    const bob = ed25519Key(41);
    await Deno.writeTextFile(ak, alice.line() + "\n");
    const write = (body: string) =>
      Deno.writeTextFile(path, `[auth]\nauthorized_keys = "authorized_keys"\n${body}`);
    await write(`[forwarding]\ndefault = "deny"\n[limits]\nmax_connections_per_ip = 1\n`);
    const warnings: string[] = [];
    const r = await ConfigReloader.create({ path, env: {}, warn: (m) => warnings.push(m) });
    const results: boolean[] = [];
    r.onReload((res) => results.push(res.ok));
    const req = (k: typeof alice) => ({
      algo: "ssh-ed25519",
      key: k.blob,
      username: "u",
      remoteAddress: "127.0.0.1",
      remotePort: 1,
    });
    const policy = r.policy;
    const authenticator = r.authenticator;
    const polReq = {
      kind: "connect" as const,
      host: "example.com",
      port: 443,
      transport: "tcp",
      identity: ME,
    };
    assert.equal(policy.evaluate(polReq), "deny");
    assert.equal(authenticator.authorize(req(alice)).ok, true);
    assert.equal(authenticator.authorize(req(bob)).ok, false);
    assert.equal(r.limiter.limits.maxConnectionsPerIp, 1);

    // A valid change: policy, keys and limits all switch.
    await Deno.writeTextFile(ak, bob.line() + "\n");
    await write(`[forwarding]\ndefault = "allow"\n[limits]\nmax_connections_per_ip = 5\n`);
    assert.deepEqual(await r.reload(), { ok: true, restartNeeded: [] });
    assert.equal(
      policy.evaluate(polReq),
      "allow",
      "the same policy object now delegates to the new rules",
    );
    assert.equal(authenticator.authorize(req(alice)).ok, false);
    assert.equal(authenticator.authorize(req(bob)).ok, true);
    assert.equal(r.limiter.limits.maxConnectionsPerIp, 5);

    // An invalid change is refused with file, line and key; the old config stays.
    await write(
      `[forwarding]\ndefault = "deny"\n[[forwarding.rules]]\naction = "allow"\ntarget = "::1/200"\n`,
    );
    const bad = await r.reload();
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.error.message, /alknet\.toml:7: forwarding\.rules\[0\]\.target/);
    assert.equal(policy.evaluate(polReq), "allow");
    assert.equal(r.config.forwarding.default, "allow");

    // A missing authorized_keys file is also refused.
    await Deno.remove(ak);
    await write("");
    const missing = await r.reload();
    assert.equal(missing.ok, false);
    if (!missing.ok) assert.match(missing.error.message, /auth\.authorized_keys: .*no such file/);
    assert.equal(authenticator.authorize(req(bob)).ok, true);

    // Static changes are reported, not applied.
    await Deno.writeTextFile(ak, alice.line() + "\n");
    await write(
      `[server]\nlisten = ["127.0.0.1:9"]\nlog_format = "json"\n[ssh]\nbanner = "OpenSSH_9.9"\n`,
    );
    const st = await r.reload();
    assert.deepEqual(st, {
      ok: true,
      restartNeeded: ["server.listen", "server.log_format", "ssh.banner"],
    });
    assert.deepEqual(r.config.server.listen, ["127.0.0.1:2222"]);
    assert.equal(r.config.ssh?.banner, undefined);
    assert.deepEqual(results, [true, false, false, true]);
    assert.deepEqual(warnings, []);
  });
});

Deno.test("reloader: concurrent reloads run one at a time", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/a.toml`;
    await Deno.writeTextFile(path, `[limits]\npenalty_seconds = 1\n`);
    const r = await ConfigReloader.create({ path, env: {} });
    const all = await Promise.all([r.reload(), r.reload(), r.reload()]);
    assert.ok(all.every((x) => x.ok));
  });
});

Deno.test("reloader: SIGHUP triggers a reload", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/a.toml`;
    await Deno.writeTextFile(path, `[forwarding]\ndefault = "deny"\n`);
    const r = await ConfigReloader.create({ path, env: {} });
    const stop = r.watchSignal("SIGHUP");
    try {
      await Deno.writeTextFile(path, `[forwarding]\ndefault = "allow"\n`);
      const done = new Promise<boolean>((resolve) => r.onReload((res) => resolve(res.ok)));
      Deno.kill(Deno.pid, "SIGHUP");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ok = await Promise.race([
        done,
        new Promise<boolean>((_, reject) => {
          timer = setTimeout(() => reject(new Error("no reload within 5 s")), 5000);
        }),
      ]);
      clearTimeout(timer);
      assert.equal(ok, true);
      assert.equal(r.config.forwarding.default, "allow");
    } finally {
      stop();
    }
  });
});

Deno.test("reloader: invalid initial configuration throws ConfigError", async () => {
  await assert.rejects(
    ConfigReloader.create({ env: { ALKNET_AUTHORIZED_KEYS: "/nonexistent/ak" } }),
    ConfigError,
  );
});
