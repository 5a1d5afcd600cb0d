// End-to-end: workers that join a head over QUIC and iroh (relay off, on
// loopback). A head (`alknet serve` listening on SSH, quic:// (and tls:// on
// the same port, where a pinned QUIC dial reads the certificate) and iroh://),
// four workers that only dial out: tests/mesh_worker.ts with `joinMesh`
// (the call protocol) over quic:// and over iroh://, and `alknet connect
// --worker` (SSH `alknet-control`) over quic:// and over iroh://. This
// process is the client, over SSH: each worker's operations are routable
// at the head while it runs, and gone (NOT_FOUND, `state: "gone"`) once it
// stops.
import assert from "node:assert/strict";
import { type CallConnection, connectCall } from "@alknet/call";
import {
  alknetEnv,
  freeTcpUdpPort,
  makeKey,
  meshWorkerProgram,
  Proc,
  runAlknet,
} from "./helpers.ts";

const START_MS = 90_000; // a deno process starting on a loaded 2-core machine

/** Calls `probe` until it answers `code` (bounded: START_MS). */
async function untilCode(probe: () => Promise<unknown>, code: string, what: string) {
  const until = Date.now() + START_MS;
  let last: unknown;
  for (;;) {
    try {
      last = await probe();
    } catch (e) {
      last = e;
      if ((e as { code?: string }).code === code) return;
    }
    if (Date.now() > until) throw new Error(`${what}: still ${String(last)}, not ${code}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test("mesh: workers join over quic:// and iroh:// (call protocol and SSH), are routable, and vanish when they go", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "alknet-mesh-links-" });
  const env = alknetEnv(dir, { ALKNET_VALIDATE_OUTPUT: "error" });
  const hk = await makeKey(dir, "head_host");
  const wk = await makeKey(dir, "worker");
  const client = await makeKey(dir, "client");
  const nodeKey = await makeKey(dir, "node_host");
  await Deno.writeTextFile(
    `${dir}/authorized_keys`,
    [
      `alknet-scopes="mesh:worker" ${wk.publicLine}`,
      `alknet-scopes="mesh:worker" ${nodeKey.publicLine}`,
      client.publicLine,
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(`${dir}/node_authorized_keys`, "");
  const procs: Proc[] = [];
  const track = (p: Proc) => (procs.push(p), p);
  let conn: CallConnection | undefined;
  try {
    const port = freeTcpUdpPort();
    const head = track(Proc.alknet([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--listen",
      `tls://127.0.0.1:${port}`,
      "--listen",
      `quic://127.0.0.1:${port}`,
      "--listen",
      "iroh://127.0.0.1:0?relay=off",
      "--tls-self-signed",
      "--host-key",
      hk.path,
      "--authorized-keys",
      `${dir}/authorized_keys`,
      "--data-dir",
      `${dir}/head-data`,
    ], env));
    const ssh =
      (await head.waitFor(/listening addr=(127\.0\.0\.1:\d+) transport=tcp/, START_MS))[1];
    await head.waitFor(/listening addr=127\.0\.0\.1:\d+ transport=quic/, START_MS);
    const quic = `127.0.0.1:${port}`;
    const [, irohPort, nodeId] = await head.waitFor(
      /listening addr=127\.0\.0\.1:(\d+) transport=iroh node_id=([0-9a-z]+)/,
      START_MS,
    );
    const tlsPin = (await head.waitFor(/tls self-signed fingerprint=(SHA256:\S+)/, START_MS))[1];
    const iroh = `iroh://${nodeId}@127.0.0.1:${irohPort}?relay=off`;

    const program = (url: string, pin: string, name: string) =>
      track(meshWorkerProgram(url, wk.path, pin, name, env));
    const cli = (url: string, name: string, extra: string[] = []) =>
      track(Proc.alknet([
        "connect",
        url,
        "--identity",
        wk.path,
        "--host-key-fingerprint",
        hk.fingerprint,
        "--worker",
        name,
        ...extra,
      ], env));
    const workers: [string, Proc][] = [
      ["quic-call", program(`quic://${quic}`, tlsPin, "quic-call")],
      ["iroh-call", program(iroh, hk.fingerprint, "iroh-call")],
      ["quic-ssh", cli(`quic://${quic}`, "quic-ssh", ["--tls-fingerprint", tlsPin])],
      ["iroh-ssh", cli(iroh, "iroh-ssh")],
    ];
    for (const [name, p] of workers) {
      await p.waitFor(new RegExp(`worker registered name=${name}`), START_MS);
    }

    conn = await connectCall(`ssh://${ssh}`, {
      identity: client.path,
      hostKeyFingerprint: hk.fingerprint,
    });
    const c = conn;
    const peers = async () =>
      Object.fromEntries(
        (await c.call<{ peers: { id: string; state: string }[] }>("services/list-peers", {}))
          .peers.map((p) => [p.id, p.state]),
      );

    await t.step("each worker is routable at the head by its name", async () => {
      for (const [name] of workers) {
        const info = await c.call<{ fingerprint: string | null }>(`${name}/node/info`, {});
        assert.equal(info.fingerprint, wk.fingerprint, name);
        assert.deepEqual(await c.call(`${name}/node/ping`, { via: name }), { via: name });
      }
      const items: unknown[] = [];
      for await (const x of c.subscribe("iroh-call/node/ticks", { count: 2, interval_ms: 5 })) {
        items.push(x);
      }
      assert.deepEqual(items, [{ n: 1 }, { n: 2 }]);
      const states = await peers();
      for (const [name] of workers) assert.equal(states[name], "live", name);
    });

    const servingWorker = (name: string, tlsFlags: string[]) =>
      track(Proc.alknet([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--host-key",
        nodeKey.path,
        "--authorized-keys",
        `${dir}/node_authorized_keys`,
        "--data-dir",
        `${dir}/node-data-${name}`,
        "--worker-of",
        `tls://127.0.0.1:${port}`,
        "--worker-name",
        name,
        "--worker-host-key-fingerprint",
        hk.fingerprint,
        ...tlsFlags,
      ], env));

    await t.step("serve --worker-of tls:// with --worker-tls-fingerprint", async () => {
      const wrong = servingWorker("tls-wrong-pin", [
        "--worker-tls-fingerprint",
        `SHA256:${"00".repeat(32)}`,
      ]);
      await wrong.waitFor(/worker retry name=tls-wrong-pin /, START_MS);
      await wrong.stop("SIGTERM", 10_000);
      assert.ok(!wrong.lines.some((l) => /worker registered/.test(l)), wrong.lines.join("\n"));
      const node = servingWorker("tls-node", ["--worker-tls-fingerprint", tlsPin]);
      await node.waitFor(/worker registered name=tls-node/, START_MS);
      const info = await c.call<{ fingerprint: string | null }>("tls-node/node/info", {});
      assert.equal(info.fingerprint, nodeKey.fingerprint);
      await node.stop("SIGTERM", 10_000);
      await untilCode(() => c.call("tls-node/node/info", {}), "NOT_FOUND", "tls-node");
    });

    await t.step("the --worker-tls-* flags need --worker-of and one way to trust", async () => {
      const bare = await runAlknet(["serve", "--listen", "127.0.0.1:0", "--worker-insecure"]);
      assert.equal(bare.code, 2);
      assert.match(bare.stderr, /--worker-insecure needs --worker-of/);
      const both = await runAlknet([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--worker-of",
        `tls://127.0.0.1:${port}`,
        "--worker-name",
        "x",
        "--worker-tls-fingerprint",
        tlsPin,
        "--worker-insecure",
      ]);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /give one of --worker-tls-ca, --worker-tls-fingerprint/);
    });

    await t.step("a worker that goes disappears from the head", async () => {
      for (const [name, p] of workers) {
        await p.stop("SIGTERM", 10_000);
        await untilCode(() => c.call(`${name}/node/info`, {}), "NOT_FOUND", name);
        assert.equal((await peers())[name], "gone", name);
      }
    });
  } finally {
    await conn?.close();
    for (const p of procs.reverse()) await p.stop("SIGTERM", 10_000).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
