// Library: connect(target, { worker }) option checks, registration, and the
// worker coming back by itself when the head restarts (the session reconnects);
// joinMesh over the call protocol likewise.
import assert from "node:assert/strict";
import { connect, CoreError, generateEd25519Key, type LogRecord, serve } from "@alknet/core";
import {
  CallConnection,
  joinMesh,
  memoryTransportPair,
  MeshHead,
  OperationRegistry,
  registerNodeOperations,
  registerWorker,
  serveCallWebSocket,
} from "@alknet/call";

async function keys() {
  const dir = await Deno.makeTempDir({ prefix: "alknet-worker-" });
  const worker = generateEd25519Key("worker");
  const stranger = generateEd25519Key("stranger");
  await Deno.writeTextFile(`${dir}/worker`, worker.privateText, { mode: 0o600 });
  await Deno.writeTextFile(`${dir}/stranger`, stranger.privateText, { mode: 0o600 });
  await Deno.writeTextFile(
    `${dir}/authorized_keys`,
    `alknet-scopes="mesh:worker" ${worker.publicLine}\n${stranger.publicLine}\n`,
  );
  return { dir, host: generateEd25519Key("host") };
}

function head(dir: string, hostKey: string, port = 0) {
  const calls = new MeshHead();
  return serve({
    listen: [`127.0.0.1:${port}`],
    hostKey,
    authorizedKeys: `${dir}/authorized_keys`,
    calls,
    logger: false,
  }).then((node) => ({ node, calls }));
}

function workerCalls(): OperationRegistry {
  const calls = new OperationRegistry();
  registerNodeOperations(calls, { version: "test" });
  return calls;
}

Deno.test("connect worker: options are checked before dialling", async () => {
  const base = { identity: "./nope", hostKeyFingerprint: "SHA256:" + "A".repeat(43) };
  await assert.rejects(
    connect("127.0.0.1:1", { ...base, worker: { name: "a/b", calls: workerCalls() } }),
    (e: CoreError) => e.code === "options" && (e as { option?: string }).option === "worker.name",
  );
  const plain = {
    serveCallStream: () => ({ closed: Promise.resolve(), close() {} }),
    serveCallWebSocket: () => new Response(null),
  };
  await assert.rejects(
    connect("127.0.0.1:1", { ...base, worker: { name: "w1", calls: plain } }),
    (e: CoreError) => e.code === "options" && (e as { option?: string }).option === "worker.calls",
  );
});

const squatter = { id: "squatter", scopes: ["mesh:worker"], resources: {} };

/** Waits (bounded: 15 s) until `ok()`. */
async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(ok(), "condition not reached within 15 s");
}

Deno.test("connect worker: registers, is refused without the scope, and comes back after the head restarts", async () => {
  const { dir, host } = await keys();
  let { node, calls } = await head(dir, host.privateText);
  const port = node.addrs[0].port;
  const opts = { hostKeyFingerprint: host.fingerprint, logger: false as const };
  const refused = await connect(`127.0.0.1:${port}`, {
    ...opts,
    identity: `${dir}/stranger`,
    worker: { name: "w9", calls: workerCalls() },
  }).then(() => null, (e) => e);
  assert.ok(refused instanceof CoreError && refused.code === "worker", String(refused));
  const records: LogRecord[] = [];
  const tunnel = await connect(`127.0.0.1:${port}`, {
    ...opts,
    identity: `${dir}/worker`,
    worker: { name: "w1", calls: workerCalls() },
    logger: (r) => void records.push(r),
  });
  try {
    assert.deepEqual(tunnel.worker, { name: "w1", registered: true });
    assert.deepEqual(calls.workers(), ["w1"]);
    const info = await calls.invoke("w1/node/info", {}) as { version: string };
    assert.equal(info.version, "test");

    await node.shutdown(0);
    for (let i = 0; i < 200 && tunnel.worker?.registered; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(tunnel.worker?.registered, false);
    ({ node, calls } = await head(dir, host.privateText, port));
    // Another worker takes the name before the session is back (backoff 1 s):
    // the returning worker is refused NAME_TAKEN and keeps trying.
    const [a, b] = memoryTransportPair();
    new CallConnection(a, { router: calls, identity: squatter });
    const squat = new CallConnection(b, { router: workerCalls() });
    await registerWorker(squat, "w1");
    await until(() =>
      records.some((r) => r.event === "worker refused" && /NAME_TAKEN/.test(r.line))
    );
    assert.equal(tunnel.worker?.registered, false);
    await squat.close();
    // It registers again by itself.
    await until(() => tunnel.worker?.registered === true);
    assert.deepEqual(calls.workers(), ["w1"]);
    assert.equal(
      (await calls.invoke("w1/node/ping", { back: true }) as { back: boolean }).back,
      true,
    );
  } finally {
    await tunnel.close();
    await node.shutdown(0);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("joinMesh: a call-protocol worker registers again after the head restarts", async () => {
  const worker = { id: "w", scopes: ["mesh:worker"], resources: {} };
  let head = new MeshHead();
  let server = await serveCallWebSocket({ registry: head, authenticate: () => worker });
  const port = server.addr.port;
  const events: string[] = [];
  const member = await joinMesh(server.url, {
    name: "w1",
    registry: workerCalls(),
    token: "t",
    onEvent: (e) => events.push(e.type),
  });
  try {
    assert.equal(member.registered, true);
    assert.deepEqual(head.workers(), ["w1"]);
    await server.close();
    for (let i = 0; i < 200 && member.registered; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(member.registered, false);
    head = new MeshHead();
    server = await serveCallWebSocket({ registry: head, port, authenticate: () => worker });
    await bounded(member.whenRegistered(), 15_000);
    assert.deepEqual(head.workers(), ["w1"]);
    assert.deepEqual(await head.invoke("w1/node/ping", 7), 7);
    assert.deepEqual(events.filter((e) => e !== "retry"), ["registered", "lost", "registered"]);
  } finally {
    await member.close();
    await server.close();
  }
});

function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
