import assert from "node:assert/strict";
import { CallRecorder } from "@alknet/flowgraph";
import { OperationRegistry } from "@alknet/call";
import { auditReader } from "./audit.ts";
import { StatusGate } from "./auth.ts";
import { LiveFeed } from "./live.ts";
import { renderPage } from "./page.ts";

Deno.test("status gate: token once in the address, then a session cookie that expires", async () => {
  let now = 1_000_000;
  const gate = new StatusGate({
    token: "s3cret",
    authorize: (t) => t === "node-token",
    sessionTtlMs: 60_000,
    maxSessions: 2,
    now: () => now,
  });
  const req = (path: string, headers: Record<string, string> = {}) =>
    new Request(`http://127.0.0.1${path}`, { headers });
  assert.equal((await gate.admit(req("/"))).ok, false);
  assert.equal((await gate.admit(req("/?token=s3cre"))).ok, false);
  assert.equal((await gate.admit(req("/", { authorization: "Bearer node-token" }))).ok, true);
  assert.equal((await gate.admit(req("/", { authorization: "Bearer s3cret" }))).ok, true);
  const first = await gate.admit(req("/?token=s3cret"));
  assert.ok(first.ok && first.fromQuery && first.cookie);
  const cookie = first.cookie!.split(";")[0];
  assert.match(first.cookie!, /HttpOnly; SameSite=Strict; Max-Age=60$/);
  const again = await gate.admit(req("/events", { cookie: `other=1; ${cookie}` }));
  assert.deepEqual(again, { ok: true, fromQuery: false });
  assert.equal((await gate.admit(req("/", { cookie: "alknet_status=forged" }))).ok, false);
  now += 61_000;
  assert.equal((await gate.admit(req("/", { cookie }))).ok, false, "expired");
  // At most maxSessions: the oldest goes first.
  const c = async () =>
    ((await gate.admit(req("/?token=s3cret"))) as { cookie: string }).cookie
      .split(";")[0];
  const [a, b, d] = [await c(), await c(), await c()];
  assert.equal((await gate.admit(req("/", { cookie: a }))).ok, false);
  assert.equal((await gate.admit(req("/", { cookie: b }))).ok, true);
  assert.equal((await gate.admit(req("/", { cookie: d }))).ok, true);
  // No token configured and no node tokens: nothing opens it.
  assert.equal((await new StatusGate({}).admit(req("/?token="))).ok, false);
});

Deno.test("status live feed: a state on connect, then one after calls change, none when nobody watches", async () => {
  const recorder = new CallRecorder();
  const feed = new LiveFeed({ recorder, sessions: () => 3, intervalMs: 20 });
  const reader = feed.stream().body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const nextState = async () => {
    for (let i = 0; i < 100; i++) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!message.startsWith("event: state\n")) continue;
        return JSON.parse(message.slice(message.indexOf("data: ") + 6));
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended");
      buffer += value;
    }
    throw new Error("no state");
  };
  try {
    const first = await nextState();
    assert.equal(first.counts.sessions, 3);
    assert.deepEqual(first.calls, []);
    const at = Date.now();
    recorder.observer({ type: "requested", id: "c1", operation: "node/ping", at });
    recorder.observer({ type: "running", id: "c1", operation: "node/ping", at });
    recorder.observer({ type: "completed", id: "c1", operation: "node/ping", at: at + 5 });
    let s = await nextState();
    while (s.calls[0]?.status !== "completed") s = await nextState();
    assert.equal(s.calls[0].operation, "node/ping");
    assert.match(s.svg, /<svg[\s\S]*node\/ping/);
    assert.equal(feed.viewers, 1);
  } finally {
    await reader.cancel();
    feed.close();
  }
  assert.equal(feed.viewers, 0);
});

Deno.test("status page: text is escaped; no store says so; a registry with streams/* gives audit rows", async () => {
  const html = renderPage({
    node: {
      version: "<b>1</b>",
      hostKeyFingerprint: "SHA256:x",
      startedAt: 0,
      listening: [{ address: 'ws://"q"', transport: "ws" }],
      sessions: () => 0,
    },
    live: { at: 0, counts: { sessions: 0, live: 0, recorded: 0, events: 0 }, calls: [], svg: "" },
    recording: false,
    operations: [{ name: "a/<script>", type: "query" }],
    operationsSvg: "",
    audit: null,
  });
  assert.ok(!html.includes("<b>1</b>") && !html.includes("<script>") && html.includes("&lt;b&gt;"));
  assert.ok(html.includes("No store") && html.includes("--no-record-calls"));

  assert.equal(auditReader({ registry: new OperationRegistry() }), null);
  const registry = new OperationRegistry();
  const seen: string[][] = [];
  registry.register({
    name: "streams/topics",
    type: "query",
    handler: (_i, ctx) => (seen.push(ctx.identity!.scopes), [{ topic: "audit", last_seq: 3 }]),
  });
  registry.register({
    name: "streams/read",
    type: "query",
    handler: (i) => {
      const { from, limit } = i as { from: number; limit: number };
      assert.deepEqual([from, limit], [2, 2]);
      return [
        { topic: "audit", seq: 2, type: "login.accepted", data: { identity: "alice" }, at: 1 },
        { topic: "audit", seq: 3, type: "peer.changed", data: { peer: "p1" }, at: 2 },
      ];
    },
  });
  const rows = await auditReader({ registry })!(2);
  assert.deepEqual(rows.map((r) => `${r.seq} ${r.type} ${r.who}`), [
    "3 peer.changed p1",
    "2 login.accepted alice",
  ]);
  assert.deepEqual(seen, [["streams:read", "audit:read"]]);
});
