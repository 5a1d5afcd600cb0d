// A node recording its calls while a peer reuses the request id of another
// connection's call (ids are chosen by callers): the other call's recorded
// state does not change, and what was refused is counted. Both connections
// talk to one registry through in-process transports (the dispatcher and
// the recorder are what is under test).
import assert from "node:assert/strict";
import {
  CallConnection,
  type Envelope,
  type EnvelopeTransport,
  memoryTransportPair,
  OperationRegistry,
} from "@alknet/call";
import { CallRecorder } from "@alknet/flowgraph";

/** A raw peer on its own connection to `registry`: it sends envelopes as given. */
function rawPeer(registry: OperationRegistry): { t: EnvelopeTransport; got: Envelope[] } {
  const [server, client] = memoryTransportPair();
  new CallConnection(server, { router: registry });
  const got: Envelope[] = [];
  client.start({ message: (e) => got.push(e), close: () => {} });
  return { t: client, got };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

const request = (id: string, operationId: string): Envelope => ({
  type: "call.requested",
  id,
  payload: { operationId, input: null },
});

Deno.test("recording: a call reusing another connection's id cannot end or hide that call", async () => {
  const recorder = new CallRecorder();
  const registry = new OperationRegistry({ observer: recorder.observer });
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  registry.register({
    name: "t/slow",
    type: "query",
    allow: ["t/slow"],
    handler: async () => {
      await gate;
      return "slow";
    },
  });
  registry.register({ name: "t/echo", type: "query", allow: ["t/echo"], handler: () => "echo" });
  const honest = rawPeer(registry);
  const hostile = rawPeer(registry);

  honest.t.send(request("x", "/t/slow"));
  await until(() => recorder.live === 1, "the slow call to be recorded");
  // Same id from the other connection, for a call that ends at once.
  hostile.t.send(request("x", "/t/echo"));
  await until(() => hostile.got.length === 1, "the hostile call's answer");
  assert.equal(hostile.got[0].type, "call.responded", "the hostile peer's call itself is served");

  const during = recorder.snapshot().calls;
  assert.equal(during.length, 1);
  assert.equal(during[0].operation, "t/slow");
  assert.equal(during[0].status, "running", "still running: the other call's end was not applied");
  const refused = recorder.stats();
  assert.equal(refused.refused, 3, "its requested, running and completed were refused");

  open();
  await until(() => honest.got.length === 1, "the slow call's answer");
  const after = recorder.snapshot().calls;
  assert.equal(after.length, 1);
  assert.equal(after[0].status, "completed", "the slow call ends when it ends");
  assert.equal(recorder.stats().refused, 3);
  honest.t.close();
  hostile.t.close();
});

Deno.test("recording: calls that end at once and calls that wait interleave without loss", async () => {
  const recorder = new CallRecorder({ maxCalls: 1000 });
  const registry = new OperationRegistry({ observer: recorder.observer });
  registry.register({ name: "t/echo", type: "query", allow: ["t/echo"], handler: () => "echo" });
  registry.register({
    name: "t/later",
    type: "query",
    allow: ["t/later"],
    handler: async () => {
      await new Promise((r) => setTimeout(r, 1));
      return "later";
    },
  });
  const peers = [rawPeer(registry), rawPeer(registry)];
  for (let i = 0; i < 100; i++) {
    peers[i % 2].t.send(request(`c${i}`, i % 3 === 0 ? "/t/later" : "/t/echo"));
  }
  await until(() => peers[0].got.length + peers[1].got.length === 100, "100 answers");
  await until(() => recorder.live === 0, "every call to end");
  const calls = recorder.snapshot().calls;
  assert.equal(calls.length, 100);
  assert.ok(calls.every((c) => c.status === "completed" && c.runningAt !== undefined));
  assert.deepEqual(recorder.stats(), { calls: 100, recorded: 300, refused: 0, evicted: 0 });
  for (const p of peers) p.t.close();
});
