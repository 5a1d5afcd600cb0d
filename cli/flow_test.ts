import assert from "node:assert/strict";
import { OperationRegistry } from "@alknet/call";
import { UsageError } from "./args.ts";
import { FlowWiring } from "./flow.ts";

const noEnv = { get: (_: string) => undefined };

Deno.test("serve flags: recording on by default, bounded, or off", () => {
  const on = FlowWiring.fromFlags({}, noEnv);
  assert.ok(on.recorder !== null);
  const reg = on.wire(new OperationRegistry());
  assert.equal(reg.observer, on.recorder!.observer);
  for (const n of ["flow/operations", "flow/calls", "flow/calls-snapshot"]) assert.ok(reg.spec(n));
  assert.deepEqual(reg.spec("flow/calls")?.access, { scopes_any: ["flow:read", "admin:flow"] });

  const off = FlowWiring.fromFlags({ "no-record-calls": true }, noEnv);
  const quiet = off.wire(new OperationRegistry());
  assert.equal(off.recorder, null);
  assert.equal(quiet.observer, undefined);
  assert.ok(quiet.spec("flow/operations") && !quiet.spec("flow/calls"));

  const small = FlowWiring.fromFlags({ "record-calls": "2" }, noEnv);
  for (const id of ["a", "b", "c"]) {
    small.recorder!.observer({ type: "requested", id, operation: "x/y", at: Date.now() });
    small.recorder!.observer({ type: "running", id, operation: "x/y", at: Date.now() });
    small.recorder!.observer({ type: "completed", id, operation: "x/y", at: Date.now() });
  }
  assert.deepEqual(small.recorder!.snapshot().calls.map((c) => c.id), ["b", "c"]);
});

Deno.test("serve flags: bad recording and status flags are usage errors", () => {
  const bad = [
    { "record-calls": "0" },
    { "record-calls": "ten" },
    { "record-calls-minutes": "-1" },
    { "no-record-calls": true, "record-calls": "5" },
    { "status-token": "t" },
    { "status-public": true },
    { status: "not an address" },
    { status: "192.0.2.1:8099" }, // not loopback without --status-public
  ];
  for (const v of bad) {
    assert.throws(() => FlowWiring.fromFlags(v, noEnv), UsageError, JSON.stringify(v));
  }
  FlowWiring.fromFlags({ status: "192.0.2.1:8099", "status-public": true }, noEnv);
  FlowWiring.fromFlags({ status: "[::1]:0" }, noEnv);
  FlowWiring.fromFlags({ status: "8099" }, noEnv); // a port alone: 127.0.0.1
});

Deno.test("serve flags: the status token comes from the flag, else ALKNET_STATUS_TOKEN", async () => {
  const env = { get: (k: string) => (k === "ALKNET_STATUS_TOKEN" ? "from-env" : undefined) };
  const log: string[] = [];
  const node = {
    hostKeyFingerprint: "SHA256:test",
    listening: [],
    ssh: { connectionCount: 0 },
  } as unknown as Parameters<FlowWiring["start"]>[0];
  for (
    const [flags, good] of [[{}, "from-env"], [
      { "status-token": "from-flag" },
      "from-flag",
    ]] as const
  ) {
    const flow = FlowWiring.fromFlags({ status: "127.0.0.1:0", ...flags }, env);
    flow.wire(new OperationRegistry());
    const status = flow.start(node, {
      version: "test",
      resolveToken: () => null,
      log: (e, f) => log.push(`${e} ${f.token}`),
    })!;
    try {
      const ok = await fetch(status.url, { headers: { authorization: `Bearer ${good}` } });
      await ok.body?.cancel();
      assert.equal(ok.status, 200);
      const other = await fetch(status.url, { headers: { authorization: "Bearer nope" } });
      await other.body?.cancel();
      assert.equal(other.status, 401);
    } finally {
      await status.close();
    }
  }
  assert.deepEqual(log, ["status listening status-token", "status listening status-token"]);
});
