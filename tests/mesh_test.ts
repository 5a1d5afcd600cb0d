// End-to-end: the mesh with real processes. A head (`alknet serve`), two
// workers that only dial out (`alknet connect --worker w1` over SSH, and the
// library program tests/mesh_worker.ts as w2 over the call protocol on the
// head's WebSocket, with `joinMesh`), a worker that is also a node
// (`alknet serve --worker-of`), and this test process as the client calling
// through the head (plus `alknet call --node` and `alknet ops --node`).
import assert from "node:assert/strict";
import { type CallConnection, CallError, connectCall } from "@alknet/call";
import { alknetEnv, type KeyFiles, makeKey, meshWorkerProgram, Proc } from "./helpers.ts";

const START_MS = 90_000; // a deno process starting on a loaded 2-core machine

/** Waits (bounded) until `proc` printed `n` lines matching `re`. */
async function lines(proc: Proc, re: RegExp, n: number, timeoutMs = START_MS): Promise<string[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = proc.lines.filter((l) => re.test(l));
    if (found.length >= n) return found;
    if (Date.now() > until) {
      throw new Error(`pid ${proc.pid}: ${n}× ${re} not seen; output:\n${proc.lines.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `promise`, or a rejection after `ms` (a bound, not a timing assertion). */
function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

Deno.test("mesh: a head routes to workers that dial out; abort, streams, loss and return pass through", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "alknet-mesh-" });
  const env = alknetEnv(dir, { ALKNET_VALIDATE_OUTPUT: "error" });
  const hk = await makeKey(dir, "head_host");
  const w1 = await makeKey(dir, "w1");
  const w2 = await makeKey(dir, "w2");
  const s1 = await makeKey(dir, "s1_host");
  const stranger = await makeKey(dir, "stranger");
  const client = await makeKey(dir, "client");
  const worker = (k: KeyFiles) => `alknet-scopes="mesh:worker" ${k.publicLine}`;
  await Deno.writeTextFile(
    `${dir}/authorized_keys`,
    [worker(w1), worker(w2), worker(s1), stranger.publicLine, client.publicLine, ""].join("\n"),
  );
  await Deno.writeTextFile(`${dir}/s1_authorized_keys`, "");

  const procs: Proc[] = [];
  const track = (p: Proc) => (procs.push(p), p);
  let conn: CallConnection | undefined;
  try {
    const head = track(Proc.alknet([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--listen",
      "ws://127.0.0.1:0",
      "--host-key",
      hk.path,
      "--authorized-keys",
      `${dir}/authorized_keys`,
      "--data-dir",
      `${dir}/head-data`,
    ], env));
    const sshPort =
      (await head.waitFor(/listening addr=127\.0\.0\.1:(\d+) transport=tcp/, START_MS))[1];
    const wsPort =
      (await head.waitFor(/listening addr=127\.0\.0\.1:(\d+) transport=ws/, START_MS))[1];
    const headAddr = `127.0.0.1:${sshPort}`;
    const pin = hk.fingerprint;

    const cli1 = track(Proc.alknet([
      "connect",
      headAddr,
      "--identity",
      w1.path,
      "--worker",
      "w1",
      "--host-key-fingerprint",
      pin,
    ], env));
    let prog2 = track(meshWorkerProgram(`ws://127.0.0.1:${wsPort}`, w2.path, pin, "w2", env));
    await cli1.waitFor(/worker registered name=w1/, START_MS);
    await prog2.waitFor(/worker registered name=w2/, START_MS);
    await lines(head, /worker registered name=w[12] /, 2);

    conn = await connectCall(`ssh://${headAddr}`, {
      identity: client.path,
      hostKeyFingerprint: pin,
    });
    const c = conn;
    type Info = { fingerprint: string | null };

    await t.step("routing by name, discovery, forwarded_for", async () => {
      assert.equal((await c.call<Info>("w1/node/info", {})).fingerprint, w1.fingerprint);
      assert.equal((await c.call<Info>("w2/node/info", {})).fingerprint, w2.fingerprint);
      assert.deepEqual(await c.call("w1/node/ping", { hello: "w1" }), { hello: "w1" });
      const ops = (await c.call<{ operations: { name: string }[] }>("services/list", {}))
        .operations.map((o) => o.name);
      for (const n of ["node/info", "w1/node/info", "w1/node/ticks", "w2/test/slow"]) {
        assert.ok(ops.includes(n), `${n} in ${ops}`);
      }
      const peers = (await c.call<{ peers: { id: string; state: string }[] }>(
        "services/list-peers",
        {},
      )).peers.map((p) => `${p.id}:${p.state}`).sort();
      assert.deepEqual(peers, ["w1:live", "w2:live"]);
      await assert.rejects(c.call("w3/node/info", {}), { code: "NOT_FOUND" });
    });

    await t.step("any/ goes round-robin over the live workers", async () => {
      const fps: (string | null)[] = [];
      for (let i = 0; i < 4; i++) fps.push((await c.call<Info>("any/node/info", {})).fingerprint);
      assert.deepEqual(new Set(fps), new Set([w1.fingerprint, w2.fingerprint]));
      for (let i = 1; i < fps.length; i++) assert.notEqual(fps[i], fps[i - 1], String(fps));
    });

    await t.step("a subscription streams worker → head → client", async () => {
      const items: unknown[] = [];
      for await (const x of c.subscribe("w1/node/ticks", { count: 3, interval_ms: 10 })) {
        items.push(x);
      }
      assert.deepEqual(items, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    });

    await t.step("abort from the client cascades to the worker's handler", async () => {
      const ac = new AbortController();
      const call = c.call("w2/test/slow", { tag: "abort" }, { signal: ac.signal });
      const started = await prog2.waitFor(/slow started worker=w2 tag=abort/, START_MS);
      // A fingerprint is base64: compared as text (it may hold several '+').
      assert.ok((started.input ?? "").includes(`forwarded_for=${client.fingerprint}`));
      ac.abort();
      await assert.rejects(call, { name: "AbortError" });
      await prog2.waitFor(/slow aborted worker=w2 tag=abort/, START_MS);
    });

    await t.step("CLI: call --node streams, ops --node shows the mesh; refusals", async () => {
      const run = async (args: string[]) => {
        const p = Proc.alknet(args, env);
        const status = await p.wait(START_MS);
        return { code: status.code, out: p.lines.join("\n") };
      };
      const ws = `ws://127.0.0.1:${wsPort}`;
      const [ticks, ops, dup, noScope, badPin] = await Promise.all([
        run([
          "call",
          "--node",
          ws,
          "w2/node/ticks",
          '{"count":2}',
          "--identity",
          client.path,
        ]),
        run(["ops", "--node", ws, "--identity", client.path]),
        // Two live workers claiming one name: the second is refused.
        run([
          "connect",
          headAddr,
          "--identity",
          w2.path,
          "--worker",
          "w1",
          "--host-key-fingerprint",
          pin,
        ]),
        // A key without the scope mesh:worker is refused.
        run([
          "connect",
          headAddr,
          "--identity",
          stranger.path,
          "--worker",
          "w9",
          "--host-key-fingerprint",
          pin,
        ]),
        // The worker checks the head's identity: a head with another host key is refused.
        run([
          "connect",
          headAddr,
          "--identity",
          w2.path,
          "--worker",
          "w8",
          "--host-key-fingerprint",
          s1.fingerprint,
        ]),
      ]);
      assert.equal(ticks.code, 0, ticks.out);
      assert.deepEqual(ticks.out.trim().split("\n"), ['{"n":1}', '{"n":2}']);
      assert.equal(ops.code, 0, ops.out);
      assert.match(ops.out, /^w1\/node\/ticks\s+subscription/m);
      assert.match(ops.out, /^w2\/test\/slow\s+query/m);
      assert.match(ops.out, /^WORKER\s+STATE/m);
      assert.match(ops.out, new RegExp(`^w1\\s+live\\s+3\\s`, "m"));
      assert.notEqual(dup.code, 0, dup.out);
      assert.match(dup.out, /refused worker w1 \(NAME_TAKEN\)/);
      assert.notEqual(noScope.code, 0, noScope.out);
      assert.match(noScope.out, /refused worker w9 \(FORBIDDEN\).*mesh:worker/);
      assert.notEqual(badPin.code, 0, badPin.out);
      assert.doesNotMatch(badPin.out, /worker registered/);
      assert.equal(head.lines.filter((l) => /worker registered name=w[89]/.test(l)).length, 0);
    });

    await t.step(
      "a worker killed mid-call: the caller gets 'worker gone', the name vanishes",
      async () => {
        const call = c.call("w2/test/slow", { tag: "kill" });
        const outcome = call.then(() => new Error("the call succeeded"), (e) => e);
        await prog2.waitFor(/slow started worker=w2 tag=kill/, START_MS);
        await prog2.stop("SIGKILL");
        const err = await bounded(
          outcome,
          30_000,
          "the call in flight",
        );
        assert.ok(err instanceof CallError, String(err));
        assert.equal(err.code, "INTERNAL");
        assert.equal(err.message, "worker w2 gone");
        await head.waitFor(/worker gone name=w2/, START_MS);
        await assert.rejects(c.call("w2/node/info", {}), { code: "NOT_FOUND" });
        for (let i = 0; i < 3; i++) {
          assert.equal((await c.call<Info>("any/node/info", {})).fingerprint, w1.fingerprint);
        }
        const peers = (await c.call<{ peers: { id: string; state: string }[] }>(
          "services/list-peers",
          {},
        )).peers.map((p) => `${p.id}:${p.state}`);
        assert.deepEqual(peers, ["w1:live", "w2:gone"]);
      },
    );

    await t.step("the worker restarted comes back without touching the head", async () => {
      prog2 = track(meshWorkerProgram(`ws://127.0.0.1:${wsPort}`, w2.path, pin, "w2", env));
      await prog2.waitFor(/worker registered name=w2/, START_MS);
      await lines(head, /worker registered name=w2 /, 2);
      assert.equal((await c.call<Info>("w2/node/info", {})).fingerprint, w2.fingerprint);
    });

    await t.step("serve --worker-of: a serving node is also a worker", async () => {
      const node = track(Proc.alknet([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--host-key",
        s1.path,
        "--authorized-keys",
        `${dir}/s1_authorized_keys`,
        "--data-dir",
        `${dir}/s1-data`,
        "--worker-of",
        headAddr,
        "--worker-name",
        "s1",
        "--worker-host-key-fingerprint",
        pin,
      ], env));
      await node.waitFor(/worker registered name=s1/, START_MS);
      const info = await c.call<Info & { listeners: string[] }>("s1/node/info", {});
      assert.equal(info.fingerprint, s1.fingerprint);
      assert.equal(info.listeners.length, 1);
    });
  } finally {
    await conn?.close();
    for (const p of procs.reverse()) await p.stop("SIGTERM", 10_000).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
