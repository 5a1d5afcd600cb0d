import assert from "node:assert/strict";
import { connect, CoreError, serve } from "@alknet/core";
import { generateEd25519Key, parsePrivateKey } from "@alknet/core/auth";
import { type ByteConn, writeAll } from "@alknet/core/transport";
import { echoServer, freePort } from "./helpers.ts";

async function echoThrough(stream: ByteConn, text: string): Promise<string> {
  const data = new TextEncoder().encode(text);
  await writeAll(stream, data);
  const buf = new Uint8Array(data.length);
  let got = 0;
  while (got < data.length) {
    const n = await stream.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  stream.close();
  return new TextDecoder().decode(buf.subarray(0, got));
}

Deno.test("connect() over tcp, tls, quic, ws and wss opens streams through the node", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "alknet-connect-" });
  const host = generateEd25519Key("host");
  const id = generateEd25519Key("id");
  const identity = parsePrivateKey(id.privateText, "id");
  await Deno.writeTextFile(`${dir}/authorized_keys`, id.publicLine + "\n");
  const echo = echoServer("127.0.0.1");
  // tls:// and quic:// on one port number, so a quic:// pin can read the certificate over TLS.
  const port = freePort();
  const node = await serve({
    listen: [
      "127.0.0.1:0",
      `tls://127.0.0.1:${port}`,
      `quic://127.0.0.1:${port}`,
      "ws://127.0.0.1:0",
      "wss://127.0.0.1:0",
    ],
    hostKey: parsePrivateKey(host.privateText, "host"),
    authorizedKeys: `${dir}/authorized_keys`,
    tls: { selfSigned: true },
    dataDir: dir,
    logger: false,
  });
  try {
    const [tcp, tls, quic, ws, wss] = node.addresses;
    const pins = {
      hostKeyFingerprint: node.hostKeyFingerprint,
      tlsFingerprint: node.tlsFingerprint,
    };
    const cases: [string, string, Record<string, unknown>][] = [
      ["tcp", tcp, { hostKeyFingerprint: node.hostKeyFingerprint }],
      ["tls (native data path)", tls, pins],
      ["tls (SSH data path)", tls, { ...pins, dataPath: "ssh" }],
      ["quic (native data path)", quic, { ...pins, dataPath: "direct" }],
      ["quic (SSH data path)", quic, { ...pins, dataPath: "ssh" }],
      ["ws", ws, { hostKeyFingerprint: node.hostKeyFingerprint }],
      ["wss", wss, pins],
    ];
    for (const [name, url, options] of cases) {
      await t.step(`${name}: ${url.replace(/:\d+.*/, "://...")}`, async () => {
        const tunnel = await connect(url, { identity, logger: false, ...options });
        try {
          assert.equal(tunnel.state, "connected");
          assert.equal(tunnel.socksAddr, undefined, "no SOCKS listener unless asked");
          const stream = await tunnel.openStream("127.0.0.1", echo.port);
          assert.equal(await echoThrough(stream, `hello over ${name}`), `hello over ${name}`);
        } finally {
          await tunnel.close();
        }
      });
    }
    await t.step("a wrong TLS pin is refused before any SSH is spoken", async () => {
      for (const url of [tls, wss]) {
        const e = await connect(url, {
          identity,
          logger: false,
          hostKeyFingerprint: node.hostKeyFingerprint,
          tlsFingerprint: "SHA256:" + "00".repeat(32),
        }).catch((e) => e);
        assert.ok(e instanceof CoreError, String(e));
        assert.equal(e.code, "pin-mismatch", `${url}: ${e.message}`);
      }
    });
    await t.step("a wrong host key pin is refused", async () => {
      const other = generateEd25519Key("other");
      const e = await connect(tls, {
        ...pins,
        identity,
        logger: false,
        hostKeyFingerprint: other.fingerprint,
      })
        .catch((e) => e);
      assert.ok(e instanceof CoreError);
      assert.equal(e.code, "host-key");
    });
  } finally {
    await node.shutdown(0);
    await echo.close();
    await Deno.remove(dir, { recursive: true });
  }
});
