import assert from "node:assert/strict";
import {
  ConnectionLimiter,
  DEFAULT_LIMITS,
  LimitSettingsError,
  normalizeLimits,
} from "./limits.ts";

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

function admit(l: ConnectionLimiter, ip: string) {
  const a = l.open(ip);
  if (!a.ok) throw new assert.AssertionError({ message: `refused ${ip}: ${a.reason}` });
  return a.connection;
}

Deno.test("limits: concurrent connections per source address", () => {
  const l = new ConnectionLimiter({ maxConnectionsPerIp: 2 });
  const a = admit(l, "10.0.0.1");
  const b = admit(l, "10.0.0.1");
  assert.deepEqual(l.open("10.0.0.1"), { ok: false, reason: "too-many-connections" });
  admit(l, "10.0.0.2").close();
  assert.equal(l.openConnections("10.0.0.1"), 2);
  a.close();
  a.close(); // idempotent
  assert.equal(l.openConnections("10.0.0.1"), 1);
  const c = admit(l, "10.0.0.1");
  c.close();
  b.close();
  assert.equal(l.trackedSources, 0, "idle addresses are forgotten");
});

Deno.test("limits: IPv4-mapped and spelled-out IPv6 count as the same source", () => {
  const l = new ConnectionLimiter({ maxConnectionsPerIp: 1 });
  admit(l, "::ffff:192.0.2.1");
  assert.equal(l.open("192.0.2.1").ok, false);
  admit(l, "2001:db8::1");
  assert.equal(l.open("2001:0db8:0:0:0:0:0:1").ok, false);
});

Deno.test("limits: failed attempts per connection", () => {
  const l = new ConnectionLimiter({ maxAuthFailures: 3 });
  const c = admit(l, "10.0.0.1");
  assert.equal(c.authFailed(), false);
  assert.equal(c.authFailed(), false);
  assert.equal(c.authFailed(), true, "third failure: disconnect");
  assert.equal(c.failures, 3);
  const u = new ConnectionLimiter({ maxAuthFailures: 0 });
  const d = admit(u, "10.0.0.1");
  for (let i = 0; i < 100; i++) assert.equal(d.authFailed(), false);
});

Deno.test("limits: penalty after repeated failed connections, then released", () => {
  const c = clock();
  const l = new ConnectionLimiter({ penaltyAfterFailures: 3, penaltySeconds: 60 }, c);
  const fail = () => {
    const x = admit(l, "198.51.100.7");
    x.authFailed();
    x.close();
  };
  fail();
  fail();
  assert.equal(l.penaltyRemaining("198.51.100.7"), 0);
  fail();
  assert.deepEqual(l.open("198.51.100.7"), { ok: false, reason: "penalty", retryAfterS: 60 });
  assert.equal(l.open("198.51.100.8").ok, true, "other addresses unaffected");
  c.t += 59_500;
  assert.deepEqual(l.open("198.51.100.7"), { ok: false, reason: "penalty", retryAfterS: 1 });
  c.t += 500;
  admit(l, "198.51.100.7").close();
  assert.equal(l.penaltyRemaining("198.51.100.7"), 0);
});

Deno.test("limits: failures spread beyond the window do not penalize", () => {
  const c = clock();
  const l = new ConnectionLimiter({ penaltyAfterFailures: 2, penaltySeconds: 10 }, c);
  for (let i = 0; i < 5; i++) {
    const x = admit(l, "192.0.2.9");
    x.authFailed();
    x.close();
    c.t += 11_000;
  }
  assert.equal(l.open("192.0.2.9").ok, true);
});

Deno.test("limits: successful logins and clean closes are not strikes", () => {
  const c = clock();
  const l = new ConnectionLimiter({ penaltyAfterFailures: 1, penaltySeconds: 10 }, c);
  const ok = admit(l, "192.0.2.1");
  ok.authFailed(); // wrong key first, as ssh clients do
  assert.deepEqual(ok.authSucceeded("SHA256:a"), { ok: true });
  ok.close();
  admit(l, "192.0.2.1").close(); // no attempt at all (e.g. a port scan)
  assert.equal(l.open("192.0.2.1").ok, true);
});

Deno.test("limits: sessions per identity", () => {
  const l = new ConnectionLimiter({ maxSessionsPerIdentity: 2 });
  const a = admit(l, "10.0.0.1");
  const b = admit(l, "10.0.0.2");
  const c = admit(l, "10.0.0.3");
  assert.deepEqual(a.authSucceeded("id"), { ok: true });
  assert.deepEqual(
    a.authSucceeded("id"),
    { ok: true },
    "repeated success on one connection counts once",
  );
  assert.deepEqual(b.authSucceeded("id"), { ok: true });
  assert.deepEqual(c.authSucceeded("id"), { ok: false, reason: "too-many-sessions" });
  assert.equal(l.sessions("id"), 2);
  a.close();
  assert.deepEqual(c.authSucceeded("id"), { ok: true });
  b.close();
  c.close();
  assert.equal(l.sessions("id"), 0);
});

Deno.test("limits: swapped at runtime; bad limits rejected and old ones kept", () => {
  const l = new ConnectionLimiter({ maxConnectionsPerIp: 1 });
  admit(l, "10.0.0.1");
  assert.equal(l.open("10.0.0.1").ok, false);
  l.setLimits({ maxConnectionsPerIp: 3 });
  admit(l, "10.0.0.1");
  assert.equal(l.limits.maxConnectionsPerIp, 3);
  assert.throws(
    () => l.setLimits({ maxAuthFailures: 1.5 }),
    (e: unknown) => e instanceof LimitSettingsError && e.key === "maxAuthFailures",
  );
  assert.equal(l.limits.maxConnectionsPerIp, 3);
  assert.throws(() => normalizeLimits({ preauthTimeoutS: 0 }), LimitSettingsError);
  assert.deepEqual(normalizeLimits(), { ...DEFAULT_LIMITS });
});

Deno.test("limits: many distinct addresses stay bounded work", () => {
  const l = new ConnectionLimiter();
  for (let i = 0; i < 5000; i++) {
    const x = admit(l, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    x.close();
  }
  assert.equal(l.trackedSources, 0);
});
