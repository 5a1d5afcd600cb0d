import assert from "node:assert/strict";
import { echoServer, OPENSSH_CLIENT_OPTIONS } from "./helpers.ts";
import type { Duplex } from "node:stream";
import { Buffer } from "node:buffer";
import {
  AuthorizedKeysAuthenticator,
  generateEd25519Key,
  parsePrivateKey,
} from "@alknet/core/auth";
import { connectSsh, SshServer } from "@alknet/core/ssh";
import { connToDuplex, Logger } from "@alknet/core/transport";
import {
  type ConnInfo,
  type Endpoint,
  listenEndpoint,
  transportDialer,
  type TransportScheme,
} from "../core/transport/mod.ts";
import type { ByteConn } from "../core/transport/stream.ts";
import { randomBytes, requireTool, runCmd, testCert } from "./transport_util.ts";

function sshNode() {
  const host = generateEd25519Key("host");
  const client = generateEd25519Key("client");
  const lines: string[] = [];
  const server = new SshServer({
    hostKeys: [parsePrivateKey(host.privateText, "host")],
    authenticator: AuthorizedKeysAuthenticator.fromText(client.publicLine, "inline"),
    policy: { evaluate: () => "allow" },
    logger: new Logger("text", (l) => lines.push(l)),
  });
  const handler = (conn: ByteConn, info: ConnInfo) =>
    server.handle(
      connToDuplex(conn, { remoteAddress: info.remoteAddress, remotePort: info.remotePort }),
      info,
    );
  return { server, handler, host, client, lines };
}

async function echoThrough(channel: Duplex, size: number): Promise<void> {
  const data = randomBytes(size);
  const chunks: Buffer[] = [];
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo stalled at ${got}/${size}`)), 10_000);
    channel.on("data", (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= size) {
        clearTimeout(timer);
        resolve();
      }
    });
    channel.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  channel.write(Buffer.from(data));
  await done;
  assert.deepEqual(new Uint8Array(Buffer.concat(chunks)), data);
  channel.destroy();
}

Deno.test("connectSsh over tls, quic, ws and wss dialers carries a direct-tcpip echo", async () => {
  const { ck } = await testCert();
  const node = sshNode();
  const target = echoServer();
  const endpoints: Endpoint[] = [];
  try {
    for (const scheme of ["tls", "quic", "ws", "wss"] as TransportScheme[]) {
      const ep = await listenEndpoint(`${scheme}://127.0.0.1:0`, {
        ...ck,
        handlers: { ssh: node.handler },
      });
      endpoints.push(ep);
      const variants = scheme === "ws" ? [{}] : [{ caCerts: [ck.cert], serverName: "localhost" }, {
        fingerprint: ck.fingerprint,
      }];
      for (const trust of variants) {
        if (scheme === "quic" && "fingerprint" in trust) continue; // needs a tls:// on the same port
        const session = await connectSsh({
          host: "127.0.0.1",
          port: ep.addr.port,
          identity: parsePrivateKey(node.client.privateText, "client"),
          hostKey: { pinnedFingerprint: node.host.fingerprint },
          dial: transportDialer(scheme, trust),
        });
        try {
          const ch = await session.openDirect("127.0.0.1", target.port);
          await echoThrough(ch, 256 * 1024);
        } finally {
          session.close();
          await session.closed;
        }
      }
    }
    const transports = node.lines.filter((l) => l.includes("conn opened")).map((l) =>
      /transport=(\S+)/.exec(l)?.[1]
    );
    assert.deepEqual(transports, ["tls", "tls", "quic", "ws", "wss", "wss"]);
  } finally {
    for (const ep of endpoints) await ep.close();
    await node.server.shutdown(0);
    await target.close();
  }
});

Deno.test("QUIC with a pinned fingerprint reads the certificate over TLS on the same port", async () => {
  const { ck } = await testCert();
  const node = sshNode();
  const target = echoServer();
  const tlsEp = await listenEndpoint("tls://127.0.0.1:0", {
    ...ck,
    handlers: { ssh: node.handler },
  });
  let quicEp: Endpoint | undefined;
  try {
    quicEp = await listenEndpoint(`quic://127.0.0.1:${tlsEp.addr.port}`, {
      ...ck,
      handlers: { ssh: node.handler },
    });
    const session = await connectSsh({
      host: "127.0.0.1",
      port: tlsEp.addr.port,
      identity: parsePrivateKey(node.client.privateText, "client"),
      hostKey: { pinnedFingerprint: node.host.fingerprint },
      dial: transportDialer("quic", { fingerprint: ck.fingerprint }),
    });
    try {
      await echoThrough(await session.openDirect("127.0.0.1", target.port), 64 * 1024);
    } finally {
      session.close();
      await session.closed;
    }
    // An unknown issuer is refused (and leaks nothing); --insecure accepts it.
    await assert.rejects(transportDialer("tls", {})("127.0.0.1", tlsEp.addr.port));
    await assert.rejects(transportDialer("quic", {})("127.0.0.1", tlsEp.addr.port));
    const loose = await transportDialer("tls", { insecure: true })("127.0.0.1", tlsEp.addr.port);
    loose.close();
    await assert.rejects(
      transportDialer("tls", { fingerprint: "SHA256:" + "ab".repeat(32) })(
        "127.0.0.1",
        tlsEp.addr.port,
      ),
      /does not match the pinned/,
    );
  } finally {
    await quicEp?.close();
    await tlsEp.close();
    await node.server.shutdown(0);
    await target.close();
  }
});

Deno.test("the real OpenSSH client reaches SshServer through the TLS endpoint (openssl s_client, ALPN alknet/ssh)", async () => {
  await requireTool("ssh");
  await requireTool("openssl");
  const { ck, dir } = await testCert();
  const node = sshNode();
  const keyPath = `${dir}/id_client`;
  await Deno.writeTextFile(keyPath, node.client.privateText, { mode: 0o600 });
  const target = echoServer();
  const ep = await listenEndpoint("tls://127.0.0.1:0", { ...ck, handlers: { ssh: node.handler } });
  try {
    const proxy =
      `openssl s_client -quiet -verify_quiet -alpn alknet/ssh -connect 127.0.0.1:${ep.addr.port}`;
    const r = await runCmd(
      "ssh",
      [
        ...OPENSSH_CLIENT_OPTIONS,
        "-o",
        "ConnectTimeout=10",
        "-o",
        `ProxyCommand=${proxy}`,
        "-i",
        keyPath,
        "-W",
        `127.0.0.1:${target.port}`,
        "tester@alknet-test",
      ],
      20_000,
      "hello through tls\n",
    );
    assert.equal(r.stdout, "hello through tls\n", r.stderr);
    assert.ok(node.lines.some((l) => /auth result=accept .*method=publickey/.test(l)));
    assert.ok(node.lines.some((l) => /conn opened .*transport=tls/.test(l)));
  } finally {
    await ep.close();
    await node.server.shutdown(0);
    await target.close();
  }
});
