// The optional iroh transport, on loopback only: relays and discovery are
// off (`?relay=off`), peers are dialled at their direct loopback address.
import assert from "node:assert/strict";
import {
  type ByteConn,
  dialIroh,
  listenIroh,
  parseIrohUrl,
  TransportUrlError,
} from "@alknet/core/transport";
import { echoServer, keyDir, Proc, run, runAlknet, sha256Hex, socksEcho } from "./helpers.ts";
import { readN } from "./transport_util.ts";

const ID = "ab".repeat(32);

Deno.test("iroh:// URLs: dial and listen forms, relay=off, errors", () => {
  assert.deepEqual(parseIrohUrl(`iroh://${ID}`), { nodeId: ID, relay: true });
  assert.deepEqual(parseIrohUrl(`iroh://${ID}@127.0.0.1:4433?relay=off`), {
    nodeId: ID,
    host: "127.0.0.1",
    port: 4433,
    relay: false,
  });
  assert.deepEqual(parseIrohUrl(`iroh://${ID}@[::1]:7/`), {
    nodeId: ID,
    host: "::1",
    port: 7,
    relay: true,
  });
  assert.deepEqual(parseIrohUrl("iroh://"), { relay: true });
  assert.deepEqual(parseIrohUrl("iroh://127.0.0.1:0?relay=off"), {
    host: "127.0.0.1",
    port: 0,
    relay: false,
  });
  for (
    const bad of [
      "tcp://127.0.0.1:1",
      `iroh://${ID}@`,
      "iroh://short@127.0.0.1:1",
      `iroh://${ID}?relay=maybe`,
      `iroh://${ID}?foo=1`,
      "iroh://127.0.0.1",
    ]
  ) {
    assert.throws(() => parseIrohUrl(bad), TransportUrlError, bad);
  }
});

Deno.test("listenIroh and dialIroh: alknet/ssh on the first stream, alknet/tcp one stream each, 1 MiB echoed", async () => {
  const echoHandler = (tag: string) => (conn: ByteConn) => {
    (async () => {
      const buf = new Uint8Array(65536);
      await conn.write(new TextEncoder().encode(tag));
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        for (let off = 0; off < n;) off += await conn.write(buf.subarray(off, n));
      }
      await conn.closeWrite?.();
    })().catch(() => {}).finally(() => conn.close());
  };
  const listener = await listenIroh({
    url: "iroh://127.0.0.1:0?relay=off",
    handlers: { ssh: echoHandler("S"), tcp: echoHandler("T") },
  });
  try {
    assert.match(listener.nodeId, /^[0-9a-z]{52,64}$/);
    assert.deepEqual(listener.alpn, ["alknet/ssh", "alknet/tcp"]);
    for (const a of listener.addrs) {
      assert.match(a, /^(127\.0\.0\.1|\[::1\]):\d+$/, "loopback only");
    }
    const url = `iroh://${listener.nodeId}@127.0.0.1:${listener.addr.port}?relay=off`;
    for (const [alpn, tag] of [["alknet/ssh", "S"], ["alknet/tcp", "T"]]) {
      const conn = await dialIroh(url, { alpn, timeoutMs: 10_000 });
      try {
        const data = crypto.getRandomValues(new Uint8Array(65536));
        const big = new Uint8Array(1024 * 1024).map((_, i) => data[i & 65535] ^ (i >> 16));
        const writer = (async () => {
          await conn.write(big);
          await conn.closeWrite?.();
        })();
        const back = await readN(conn, big.length + 1, 30_000);
        await writer;
        assert.equal(new TextDecoder().decode(back.subarray(0, 1)), tag);
        assert.equal(await sha256Hex(back.subarray(1)), await sha256Hex(big));
        const end = await conn.read(new Uint8Array(1));
        assert.equal(end, null, "end of stream after the echo");
      } finally {
        conn.close();
      }
    }
    // A wrong node id at the right address does not connect.
    await assert.rejects(
      dialIroh(`iroh://${ID}@127.0.0.1:${listener.addr.port}?relay=off`, { timeoutMs: 3000 }),
      TransportUrlError,
    );
  } finally {
    await listener.close();
  }
});

Deno.test("alknet serve --listen iroh:// and alknet connect iroh://NODEID@127.0.0.1:PORT?relay=off: SOCKS5 on the SSH and the native path, stable node id, host key checked", async (t) => {
  const { dir, id } = await keyDir();
  const echo = echoServer();
  const serveArgs = [
    "serve",
    "--listen",
    "iroh://127.0.0.1:0?relay=off",
    "--data-dir",
    `${dir}/data`,
    "--host-key",
    `${dir}/host`,
    "--authorized-keys",
    `${dir}/authorized_keys`,
  ];
  const listening =
    /listening addr=127\.0\.0\.1:(\d+) transport=iroh node_id=([0-9a-z]+) host_key=(\S+)/;
  let server = Proc.alknet(serveArgs);
  const clients: Proc[] = [];
  try {
    const [, port, nodeId, hostKey] = await server.waitFor(listening);
    const url = `iroh://${nodeId}@127.0.0.1:${port}?relay=off`;
    const connectVia = async (extra: string[]) => {
      const p = Proc.alknet([
        "connect",
        url,
        "--identity",
        id.path,
        "--known-hosts",
        `${dir}/known_hosts`,
        "--socks5",
        "127.0.0.1:0",
        ...extra,
      ]);
      clients.push(p);
      return Number((await p.waitFor(/socks5 listening addr=127\.0\.0\.1:(\d+)/))[1]);
    };

    for (const mode of ["ssh", "direct"]) {
      await t.step(`--data-path ${mode}: 1 MiB both ways through SOCKS5`, async () => {
        const socks = await connectVia(["--data-path", mode]);
        assert.equal(await socksEcho(socks, echo.port), 0);
        // Port 1 on loopback: nothing listens there, so the connection is refused.
        assert.equal(await socksEcho(socks, 1), 5);
      });
    }

    await t.step("the host key was remembered under the node id", async () => {
      const known = await Deno.readTextFile(`${dir}/known_hosts`);
      assert.match(known, new RegExp(`^${nodeId} ssh-ed25519 `, "m"));
      assert.match(hostKey, /^SHA256:/);
    });

    await t.step("a wrong pinned host key is refused over iroh too", async () => {
      const r = await runAlknet([
        "connect",
        url,
        "--identity",
        id.path,
        "--known-hosts",
        `${dir}/known_hosts_empty`,
        "--host-key-fingerprint",
        "SHA256:" + "A".repeat(43),
        "--no-socks5",
      ], { timeoutMs: 30_000 });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /host key/i);
    });

    await t.step("the node id survives a restart (secret key kept in the data dir)", async () => {
      for (const c of clients.splice(0)) await c.stop();
      await server.stop();
      server = Proc.alknet(serveArgs);
      const [, , again] = await server.waitFor(listening);
      assert.equal(again, nodeId);
      const key = await Deno.stat(`${dir}/data/iroh-secret.key`);
      assert.equal(key.mode! & 0o077, 0, "secret key is private");
    });
  } finally {
    for (const c of clients) await c.stop();
    await server.stop();
    await echo.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("nobody else pays: importing @alknet/core and serving tcp:// does not load the iroh binding", async () => {
  const r = await run(Deno.execPath(), [
    "eval",
    `import { generateEd25519Key, parsePrivateKey, serve } from "@alknet/core";
     const node = await serve({
       listen: ["127.0.0.1:0"],
       hostKeys: [parsePrivateKey(generateEd25519Key().privateText, "k")],
       authenticator: { authorize: () => ({ ok: false, reason: "none" }) },
       logger: new (await import("@alknet/core")).Logger("text", () => {}),
     });
     const maps = Deno.readTextFileSync("/proc/self/maps");
     await node.shutdown(0);
     console.log(maps.includes("iroh") ? "loaded" : "not loaded");`,
  ], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "not loaded");
});
