import assert from "node:assert/strict";
import { serve } from "./serve.ts";
import type { NodeAuditEvent } from "./serve_log.ts";
import type { IdentityChange } from "./serve_options.ts";
import type { Identity } from "../auth/identity.ts";
import { generateEd25519Key, parsePrivateKey } from "../auth/ssh_keys.ts";
import { connectSsh, SshConnectError } from "../ssh/client.ts";

/** An identity provider over a map that reports changes, like a store's. */
function watchedProvider() {
  const byFingerprint = new Map<string, Identity>();
  const listeners = new Set<(c: IdentityChange) => void>();
  return {
    byFingerprint,
    listeners,
    resolveFingerprint: (fp: string) => byFingerprint.get(fp) ?? null,
    resolveToken: () => null,
    onChange(listener: (c: IdentityChange) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(change: IdentityChange) {
      for (const l of listeners) l(change);
    },
  };
}

function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`never happened: ${what}`)), 10_000);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("serve: audit hook (logins, sessions, reload; no destination) and sessions closed on revoke", async () => {
  const host = generateEd25519Key("host");
  const alice = generateEd25519Key("alice");
  const mallory = generateEd25519Key("mallory");
  const provider = watchedProvider();
  provider.byFingerprint.set(alice.fingerprint, {
    id: "alice",
    scopes: ["relay:connect"],
    resources: {},
  });
  const events: NodeAuditEvent[] = [];
  const node = await serve({
    listen: "127.0.0.1:0",
    hostKey: host.privateText,
    identity: provider,
    audit: (e) => events.push(e),
    logger: false,
  });
  try {
    const port = node.addrs[0].port;
    const login = (key: string) =>
      connectSsh({
        host: "127.0.0.1",
        port,
        identity: parsePrivateKey(key, "client"),
        hostKey: { pinnedFingerprint: host.fingerprint },
        readyTimeoutMs: 5000,
      });
    const session = await login(alice.privateText);
    await until(() => events.some((e) => e.type === "session.opened"), "session.opened");
    const accepted = events.find((e) => e.type === "login.accepted");
    assert.ok(accepted?.type === "login.accepted");
    assert.equal(accepted.method, "publickey");
    assert.equal(accepted.identity, "alice");
    assert.equal(accepted.fingerprint, alice.fingerprint);
    assert.equal(accepted.transport, "tcp");
    assert.match(accepted.remote, /^127\.0\.0\.1:\d+$/);
    await assert.rejects(() => login(mallory.privateText), SshConnectError);
    const refused = events.find((e) => e.type === "login.refused");
    assert.equal(refused?.type === "login.refused" && refused.fingerprint, mallory.fingerprint);

    // The provider stops resolving alice: her session is closed by the node.
    provider.byFingerprint.clear();
    provider.emit({ peerId: "alice", identity: null, revokedFingerprints: [alice.fingerprint] });
    await bounded(session.closed, "alice's session closed");
    await until(() => events.some((e) => e.type === "session.closed"), "session.closed");
    const closed = events.find((e) => e.type === "session.closed");
    assert.equal(closed?.type === "session.closed" && closed.reason, "revoked");
    assert.equal(closed?.type === "session.closed" && closed.identity, "alice");

    assert.deepEqual(await node.reload(), { ok: true });
    assert.deepEqual(events.at(-1), { type: "config.reloaded", ok: true });
    for (const e of events) assert.ok(!JSON.stringify(e).includes("destination"));
  } finally {
    await node.shutdown(0);
  }
  assert.equal(provider.listeners.size, 0, "the node unsubscribes at shutdown");
});

Deno.test("serve: closeSessionsOnRevoke false keeps sessions; closeSessions closes them on demand", async () => {
  const host = generateEd25519Key("host");
  const alice = generateEd25519Key("alice");
  const provider = watchedProvider();
  provider.byFingerprint.set(alice.fingerprint, { id: "alice", scopes: [], resources: {} });
  const node = await serve({
    listen: "127.0.0.1:0",
    hostKey: host.privateText,
    identity: provider,
    closeSessionsOnRevoke: false,
    logger: false,
  });
  try {
    assert.equal(provider.listeners.size, 0);
    const session = await connectSsh({
      host: "127.0.0.1",
      port: node.addrs[0].port,
      identity: parsePrivateKey(alice.privateText, "client"),
      hostKey: { pinnedFingerprint: host.fingerprint },
      readyTimeoutMs: 5000,
    });
    assert.equal(node.closeSessions("bob"), 0);
    assert.equal(node.closeSessions("alice", { fingerprints: ["SHA256:other"] }), 0);
    await until(() => node.closeSessions("alice") === 1, "alice's session is known");
    await bounded(session.closed, "the session closed");
  } finally {
    await node.shutdown(0);
  }
});
