import assert from "node:assert/strict";
import { parseTarget, PolicyRuleError, restrictionsAllow, RulePolicy } from "./policy.ts";
import type { Identity, PolicyRequest } from "./identity.ts";

const alice: Identity = { id: "SHA256:alice", scopes: ["relay:connect"], resources: {} };
const ops: Identity = { id: "SHA256:ops", scopes: ["relay:connect", "admin"], resources: {} };

function r(host: string, port: number, extra: Partial<PolicyRequest> = {}): PolicyRequest {
  return { kind: "connect", host, port, transport: "tcp", identity: alice, ...extra };
}

function m(pattern: string, host: string, port: number): boolean {
  return parseTarget(pattern).matches(host, port);
}

Deno.test("policy target: * matches everything", () => {
  assert.equal(m("*", "example.com", 1), true);
  assert.equal(m("*", "::1", 65535), true);
  assert.equal(m("*", "alknet-control", 0), true);
  assert.equal(m("*:443", "example.com", 443), true);
  assert.equal(m("*:443", "example.com", 80), false);
});

Deno.test("policy target: exact hosts, case and trailing dot", () => {
  assert.equal(m("example.com", "EXAMPLE.com", 80), true);
  assert.equal(m("example.com", "example.com.", 80), true);
  assert.equal(m("example.com", "www.example.com", 80), false);
  assert.equal(m("example.com:22", "example.com", 22), true);
  assert.equal(m("example.com:22", "example.com", 23), false);
});

Deno.test("policy target: one-star wildcards", () => {
  assert.equal(m("*.example.com", "www.example.com", 1), true);
  assert.equal(m("*.example.com", "a.b.example.com", 1), true);
  assert.equal(m("*.example.com", "example.com", 1), false, "no bare-domain match");
  assert.equal(m("*.example.com", "badexample.com", 1), false);
  assert.equal(m("db-*", "db-1", 5432), true);
  assert.equal(m("db-*", "db-", 5432), false, "* stands for at least one character");
  assert.equal(m("db-*", "xdb-1", 5432), false);
  assert.equal(m("a*z", "abcz", 1), true);
  assert.equal(m("alknet-*", "alknet-control", 7), true);
  assert.equal(m("alknet-*", "example.com", 7), false);
  assert.throws(() => parseTarget("*.*.example.com"), /more than one '\*'/);
});

Deno.test("policy target: IPv4 and IPv6 literals", () => {
  assert.equal(m("10.1.2.3", "10.1.2.3", 1), true);
  assert.equal(m("10.1.2.3", "10.1.2.4", 1), false);
  assert.equal(m("10.1.2.3:22", "10.1.2.3", 22), true);
  assert.equal(m("[::1]:22", "::1", 22), true);
  assert.equal(m("[::1]:22", "[::1]", 22), true);
  assert.equal(m("[::1]:22", "0:0:0:0:0:0:0:1", 22), true, "canonical comparison");
  assert.equal(m("[::1]:22", "::1", 23), false);
  assert.equal(m("::1", "::1", 5), true, "bare IPv6 literal, any port");
  assert.equal(m("[::1]", "::2", 5), false);
  assert.equal(m("127.0.0.1", "localhost", 5), false, "no DNS");
});

Deno.test("policy target: CIDR v4 and v6 match IP literals only", () => {
  assert.equal(m("10.0.0.0/8", "10.255.0.1", 1), true);
  assert.equal(m("10.0.0.0/8", "11.0.0.1", 1), false);
  assert.equal(m("10.0.0.0/8", "ten.example", 1), false, "names never match CIDR");
  assert.equal(m("10.0.0.0/8", "::ffff:10.1.1.1", 1), true, "v4-mapped v6");
  assert.equal(m("192.168.1.128/25", "192.168.1.200", 1), true);
  assert.equal(m("192.168.1.128/25", "192.168.1.100", 1), false);
  assert.equal(m("0.0.0.0/0", "1.2.3.4", 1), true);
  assert.equal(m("0.0.0.0/0", "::1", 1), false, "families do not mix");
  assert.equal(m("fd00::/8", "fd12:3456::1", 1), true);
  assert.equal(m("fd00::/8", "fe80::1", 1), false);
  assert.equal(m("[fd00::]/8:443", "fd00::1", 443), true);
  assert.equal(m("[fd00::]/8:443", "fd00::1", 444), false);
  assert.equal(m("[fd00::/8]:443", "fd00::1", 443), true);
  assert.equal(m("10.0.0.0/8:22", "10.0.0.1", 22), true);
  assert.equal(m("10.0.0.0/8:22", "10.0.0.1", 80), false);
});

Deno.test("policy target: port ranges are inclusive", () => {
  assert.equal(m("*:1000-2000", "h", 999), false);
  assert.equal(m("*:1000-2000", "h", 1000), true);
  assert.equal(m("*:1000-2000", "h", 2000), true);
  assert.equal(m("*:1000-2000", "h", 2001), false);
  assert.equal(m("db-*:5432-5433", "db-a", 5433), true);
  assert.equal(m("[::1]:1-2", "::1", 2), true);
});

Deno.test("policy target: malformed patterns are typed errors naming the pattern", () => {
  for (
    const bad of [
      "",
      "10.0.0.0/33",
      "300.1.1.1/8",
      "host:99999",
      "host:20-10",
      "host:abc",
      "[::1",
      "[::1]x",
      "[example.com]:22",
      "ho st",
      "a*b*c",
      "host:",
    ]
  ) {
    assert.throws(() => parseTarget(bad), (e: unknown) => {
      assert.ok(e instanceof PolicyRuleError, `${bad}: ${e}`);
      assert.equal(e.pattern, bad);
      assert.ok(e.message.includes(`'${bad}'`), e.message);
      return true;
    });
  }
});

Deno.test("policy: first match wins, else the default", () => {
  const p = new RulePolicy([
    { action: "deny", target: "10.0.0.1" },
    { action: "allow", target: "10.0.0.0/8" },
    { action: "deny", target: "*" },
  ]);
  assert.equal(p.evaluate(r("10.0.0.1", 80)), "deny");
  assert.equal(p.evaluate(r("10.0.0.2", 80)), "allow");
  assert.equal(p.evaluate(r("example.com", 80)), "deny");
  assert.equal(new RulePolicy([]).evaluate(r("x", 1)), "allow", "default allow");
  const strict = new RulePolicy([{ action: "allow", target: "*.example.com:443" }], {
    defaultAction: "deny",
  });
  assert.equal(strict.defaultAction, "deny");
  assert.equal(strict.evaluate(r("www.example.com", 443)), "allow");
  assert.equal(strict.evaluate(r("www.example.com", 80)), "deny", "default deny");
  assert.equal(strict.evaluate(r("example.com", 443)), "deny");
});

Deno.test("policy: principals match the identity id or any scope", () => {
  const p = new RulePolicy([
    { action: "allow", target: "10.0.0.0/8", principals: ["admin"] },
    { action: "allow", target: "db:5432", principals: ["SHA256:alice"] },
  ], { defaultAction: "deny" });
  assert.equal(p.evaluate(r("10.1.1.1", 22, { identity: ops })), "allow", "by scope");
  assert.equal(p.evaluate(r("10.1.1.1", 22)), "deny");
  assert.equal(p.evaluate(r("db", 5432)), "allow", "by id");
  assert.equal(p.evaluate(r("db", 5432, { identity: ops })), "deny");
});

Deno.test("policy: transport filter", () => {
  const p = new RulePolicy([
    { action: "deny", target: "*", transports: ["ws", "quic"] },
  ]);
  assert.equal(p.evaluate(r("x", 1, { transport: "ws" })), "deny");
  assert.equal(p.evaluate(r("x", 1, { transport: "QUIC" })), "deny");
  assert.equal(p.evaluate(r("x", 1, { transport: "tcp" })), "allow");
});

Deno.test("policy: listen requests use the same rules", () => {
  const p = new RulePolicy([{ action: "allow", target: "127.0.0.1:8000-8999" }], {
    defaultAction: "deny",
  });
  assert.equal(p.evaluate(r("127.0.0.1", 8080, { kind: "listen" })), "allow");
  assert.equal(p.evaluate(r("0.0.0.0", 8080, { kind: "listen" })), "deny");
});

Deno.test("policy: bad rules fail up front naming rule and pattern", () => {
  assert.throws(
    () =>
      new RulePolicy([{ action: "allow", target: "*" }, { action: "deny", target: "10.0.0.0/40" }]),
    (e: unknown) =>
      e instanceof PolicyRuleError && e.index === 1 &&
      /rule 2: bad target '10\.0\.0\.0\/40'/.test(e.message),
  );
  assert.throws(
    () => new RulePolicy([{ action: "maybe" as "allow", target: "*" }]),
    /action 'maybe'/,
  );
  assert.throws(
    () => new RulePolicy([{ action: "allow", target: "*", principals: [""] }]),
    /principals must be a list/,
  );
  assert.throws(
    () => new RulePolicy([], { defaultAction: "sure" as "allow" }),
    PolicyRuleError,
  );
});

Deno.test("restrictionsAllow: no-port-forwarding refuses everything", () => {
  const rs = { noPortForwarding: true };
  assert.equal(restrictionsAllow(rs, { kind: "connect", host: "x", port: 1 }), false);
  assert.equal(restrictionsAllow(rs, { kind: "listen", host: "", port: 1 }), false);
  assert.equal(
    restrictionsAllow({ noPortForwarding: false }, { kind: "listen", host: "", port: 1 }),
    true,
  );
});

Deno.test("restrictionsAllow: permitopen", () => {
  const rs = { noPortForwarding: false, permitOpen: ["db:5432", "[::1]:22", "web:*"] };
  const c = (host: string, port: number) => restrictionsAllow(rs, { kind: "connect", host, port });
  assert.equal(c("db", 5432), true);
  assert.equal(c("DB", 5432), true);
  assert.equal(c("db", 5433), false);
  assert.equal(c("::1", 22), true);
  assert.equal(c("0:0::1", 22), true);
  assert.equal(c("127.0.0.1", 22), false);
  assert.equal(c("web", 1), true);
  assert.equal(c("web2", 1), false);
  assert.equal(
    restrictionsAllow(rs, { kind: "listen", host: "", port: 1 }),
    true,
    "permitopen does not limit listen",
  );
});

Deno.test("restrictionsAllow: permitlisten", () => {
  const rs = {
    noPortForwarding: false,
    permitListen: ["8080", "localhost:9000", "[::1]:*", "*.lan:7000"],
  };
  const l = (host: string, port: number) => restrictionsAllow(rs, { kind: "listen", host, port });
  assert.equal(l("0.0.0.0", 8080), true, "no host = any host");
  assert.equal(l("", 9000), true, "empty bind host counts as localhost");
  assert.equal(l("localhost", 9000), true);
  assert.equal(l("127.0.0.1", 9000), false, "no DNS");
  assert.equal(l("::1", 12345), true);
  assert.equal(l("box.lan", 7000), true);
  assert.equal(l("box.lan", 7001), false);
  assert.equal(l("", 9001), false);
  assert.equal(restrictionsAllow(rs, { kind: "connect", host: "x", port: 1 }), true);
});

Deno.test("policy target: random patterns either parse or throw PolicyRuleError (bounded fuzz)", () => {
  let seed = 17;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const alphabet = "*:/[]-.0123456789abcdef:!%? ";
  for (let i = 0; i < 3000; i++) {
    const len = Math.floor(rand() * 20);
    let p = "";
    for (let j = 0; j < len; j++) p += alphabet[Math.floor(rand() * alphabet.length)];
    try {
      const t = parseTarget(p);
      t.matches("10.0.0.1", 80);
      t.matches("::1", 22);
      t.matches("example.com", 443);
    } catch (e) {
      assert.ok(e instanceof PolicyRuleError, `${JSON.stringify(p)}: ${e}`);
    }
  }
});
