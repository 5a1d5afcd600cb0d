import assert from "node:assert/strict";
import { StorageError } from "./errors.ts";
import type { PeerChange } from "./identity.ts";
import { backendTest, eventually } from "./testing/backends.ts";
import { signToken, testKey } from "./testing/keys.ts";

function code(e: unknown): string {
  assert.ok(e instanceof StorageError, `expected a StorageError, got ${e}`);
  return e.code;
}

async function rejects(p: Promise<unknown>, expected: string): Promise<StorageError> {
  try {
    await p;
  } catch (e) {
    assert.equal(code(e), expected, (e as Error).message);
    return e as StorageError;
  }
  assert.fail(`expected ${expected}`);
}

backendTest("peers: add, get, list, update, enable, disable, remove", async ({ open }) => {
  const store = await open();
  const k1 = testKey("alice@laptop");
  const k2 = testKey("alice@phone");
  const fpOnly = "SHA256:" + "Q".repeat(43);
  const alice = await store.peers.add({
    peerId: "alice",
    displayName: "Alice",
    keys: [k1.line, k2.line],
    fingerprints: [fpOnly],
    scopes: ["relay:connect", "admin:peers"],
    resources: { vault: ["read"] },
  });
  assert.equal(alice.displayName, "Alice");
  assert.equal(alice.enabled, true);
  assert.equal(alice.keys.length, 3);
  assert.equal(alice.tokenKeyIds.length, 2);
  assert.ok(alice.fingerprints.includes(fpOnly));
  assert.deepEqual(alice.resources, { vault: ["read"] });
  const comments = alice.keys.map((k) => k.comment).sort();
  assert.deepEqual(comments, ["", "alice@laptop", "alice@phone"]);

  const bob = await store.peers.add({ peerId: "bob" });
  assert.deepEqual(bob.scopes, ["relay:connect"]);
  assert.equal(bob.displayName, "bob");
  assert.deepEqual((await store.peers.list()).map((p) => p.peerId), ["alice", "bob"]);

  const found = await store.peers.findByFingerprint(alice.fingerprints[0]);
  assert.equal(found?.peerId, "alice");
  assert.equal((await store.peers.findByTokenKeyId(alice.tokenKeyIds[0]))?.peerId, "alice");

  const updated = await store.peers.update("bob", { displayName: "Robert", scopes: ["x"] });
  assert.equal(updated.displayName, "Robert");
  assert.deepEqual(updated.scopes, ["x"]);
  assert.ok(updated.updatedAt >= updated.createdAt);

  await store.peers.disable("bob");
  assert.deepEqual((await store.peers.list({ enabled: false })).map((p) => p.peerId), ["bob"]);
  await store.peers.enable("bob");
  assert.equal((await store.peers.get("bob"))?.enabled, true);

  const k3 = testKey("bob");
  assert.equal((await store.peers.addKey("bob", k3.line)).keys.length, 1);
  const fp3 = (await store.peers.get("bob"))!.fingerprints[0];
  assert.equal((await store.peers.removeKey("bob", fp3)).keys.length, 0);

  await store.peers.remove("bob");
  assert.equal(await store.peers.get("bob"), null);
  assert.equal(await store.peers.findByFingerprint(fp3), null);
});

backendTest("peers: errors carry codes", async ({ open }) => {
  const store = await open();
  const k = testKey();
  await store.peers.add({ peerId: "alice", keys: [k.line] });
  await rejects(store.peers.add({ peerId: "alice" }), "exists");
  await rejects(store.peers.add({ peerId: "bob", keys: [k.line] }), "conflict");
  await rejects(store.peers.addKey("alice", k.line), "exists");
  await rejects(store.peers.add({ peerId: "" }), "invalid-input");
  await rejects(store.peers.add({ peerId: "carol", keys: ["ssh-ed25519 nope"] }), "invalid-input");
  await rejects(store.peers.add({ peerId: "carol", fingerprints: ["MD5:aa"] }), "invalid-input");
  await rejects(store.peers.update("nobody", { enabled: false }), "not-found");
  await rejects(store.peers.remove("nobody"), "not-found");
  await rejects(store.peers.removeKey("alice", "SHA256:" + "Z".repeat(43)), "not-found");
  // A failed write leaves nothing behind: bob was never created.
  assert.equal(await store.peers.get("bob"), null);
});

backendTest(
  "peers: every change is in the audit stream, in the same transaction",
  async ({ open }) => {
    const store = await open();
    await store.peers.add({ peerId: "alice" });
    await store.peers.disable("alice");
    await rejects(store.peers.add({ peerId: "alice" }), "exists");
    await store.peers.remove("alice");
    const events = await store.streams.read("audit");
    assert.deepEqual(
      events.map((e) => [e.type, (e.data as { change: string }).change]),
      [["peer.changed", "added"], ["peer.changed", "disabled"], ["peer.changed", "removed"]],
    );
  },
);

backendTest("identity provider: fingerprints, tokens, disable, key removal", async ({ open }) => {
  const store = await open();
  const changes: PeerChange[] = [];
  const provider = await store.identityProvider({ onChange: (c) => changes.push(c) });
  const k = testKey();
  const other = testKey();
  const alice = await store.peers.add({
    peerId: "alice",
    keys: [k.line],
    scopes: ["relay:connect"],
    resources: { svc: ["a"] },
  });
  await provider.refresh();
  const fp = alice.fingerprints[0];
  assert.deepEqual(provider.resolveFingerprint(fp), {
    id: "alice",
    scopes: ["relay:connect"],
    resources: { svc: ["a"] },
  });
  assert.equal(provider.resolveToken(signToken(k))?.id, "alice");
  assert.equal(provider.resolveTokenKeyId(alice.tokenKeyIds[0])?.id, "alice");
  assert.equal(provider.resolveToken(signToken(other)), null, "unknown key");
  assert.equal(provider.resolveToken(signToken(k, Math.floor(Date.now() / 1000) - 301)), null);
  assert.equal(provider.resolveToken("alk_notakey"), null);
  assert.equal(provider.resolveFingerprint("SHA256:" + "N".repeat(43)), null);
  // Callers get copies: mutating one does not touch the index.
  provider.resolveFingerprint(fp)!.scopes.push("admin");
  assert.deepEqual(provider.resolveFingerprint(fp)!.scopes, ["relay:connect"]);

  assert.deepEqual(changes.map((c) => [c.peerId, c.kind, c.identity?.id ?? null]), [
    ["alice", "added", "alice"],
  ]);

  await store.peers.disable("alice");
  await provider.refresh();
  assert.equal(provider.resolveFingerprint(fp), null);
  assert.equal(provider.resolveToken(signToken(k)), null);
  const disabled = changes.at(-1)!;
  assert.equal(disabled.kind, "updated");
  assert.equal(disabled.identity, null);
  assert.equal(disabled.previous?.id, "alice");
  assert.deepEqual(disabled.revokedFingerprints, [fp]);
  assert.deepEqual(disabled.revokedTokenKeyIds, alice.tokenKeyIds);

  await store.peers.enable("alice");
  await store.peers.addKey("alice", other.line);
  await provider.refresh();
  assert.equal(provider.resolveToken(signToken(other))?.id, "alice");
  await store.peers.removeKey("alice", fp);
  await provider.refresh();
  assert.equal(provider.resolveFingerprint(fp), null);
  const removedKey = changes.at(-1)!;
  assert.notEqual(removedKey.identity, null);
  assert.deepEqual(removedKey.revokedFingerprints, [fp]);

  await store.peers.remove("alice");
  await provider.refresh();
  assert.equal(changes.at(-1)!.kind, "removed");
  assert.equal(provider.size, 0);
});

backendTest(
  "identity provider: follows another connection's writes by itself",
  async ({ open }) => {
    const node = await open();
    const admin = await open();
    const seen: PeerChange[] = [];
    const provider = await node.identityProvider({ onChange: (c) => seen.push(c) });
    const k = testKey();
    const peer = await admin.peers.add({ peerId: "carol", keys: [k.line] });
    await eventually(
      () => provider.resolveFingerprint(peer.fingerprints[0])?.id === "carol",
      "the new peer never reached the index",
    );
    await admin.peers.disable("carol");
    await eventually(
      () => seen.some((c) => c.peerId === "carol" && c.identity === null),
      "the disable never reached the index",
    );
    assert.equal(provider.resolveFingerprint(peer.fingerprints[0]), null);
    // A burst of changes is applied, ending in the last state.
    for (let i = 0; i < 20; i++) await admin.peers.add({ peerId: `p${i}` });
    await eventually(() => provider.size === 21, "the burst never fully arrived");
  },
);

backendTest(
  "identity provider: catches up by full reload past the kept change log",
  async ({ open }) => {
    const store = await open();
    const provider = await store.identityProvider();
    await provider.close();
    await store.peers.add({ peerId: "dave" });
    // Pretend the incremental log was pruned past this follower.
    await store.sql.execute("DELETE FROM peer_changes");
    const again = await store.identityProvider();
    assert.equal(again.size, 1);
    await store.peers.add({ peerId: "erin" });
    await store.sql.execute("DELETE FROM peer_changes");
    await store.peers.add({ peerId: "frank" });
    await again.refresh();
    assert.equal(again.size, 3);
  },
);

backendTest(
  "identity provider: a key moving between peers in one catch-up ends with its new owner",
  async ({ open }) => {
    const store = await open();
    const provider = await store.identityProvider();
    const k = testKey();
    await store.peers.add({ peerId: "x" });
    await store.peers.add({ peerId: "y" });
    await provider.refresh();
    const changes: PeerChange[] = [];
    provider.onChange((c) => changes.push(c));
    // Several writes before the index catches up (refresh only afterwards).
    await store.transaction(async (tx) => {
      await tx.peers.addKey("x", k.line);
      await tx.peers.update("x", { scopes: ["a"] });
      const fp = (await tx.peers.get("x"))!.fingerprints[0];
      await tx.peers.removeKey("x", fp);
      await tx.peers.addKey("y", k.line);
    });
    await provider.refresh();
    const fp = (await store.peers.get("y"))!.fingerprints[0];
    assert.equal(provider.resolveFingerprint(fp)?.id, "y");
    assert.equal(provider.resolveToken(signToken(k))?.id, "y");
    assert.deepEqual(changes.map((c) => c.peerId).sort(), ["x", "y"]);
    assert.deepEqual(provider.resolveFingerprint(fp)?.scopes, ["relay:connect"]);
  },
);
