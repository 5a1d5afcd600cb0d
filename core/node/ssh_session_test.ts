import assert from "node:assert/strict";
import { serve } from "./serve.ts";
import { Logger } from "../util/log.ts";
import { generateEd25519Key, parsePrivateKey } from "../auth/ssh_keys.ts";
import { AuthorizedKeysAuthenticator } from "../auth/mod.ts";
import { writeAll } from "../transport/stream.ts";
import { OptionError } from "../util/errors.ts";
import { ChannelOpenError, openSshSession, SshConnectError } from "../ssh/client.ts";
import { HostKeyError } from "../ssh/known_hosts.ts";

function echoListener() {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const c of l) {
      (async () => {
        const buf = new Uint8Array(4096);
        for (let n = await c.read(buf); n !== null; n = await c.read(buf)) {
          await writeAll(c, buf.subarray(0, n));
        }
        c.close();
      })().catch(() => {});
    }
  })().catch(() => {});
  return l;
}

async function node() {
  const host = generateEd25519Key("host");
  const client = generateEd25519Key("client");
  const n = await serve({
    listen: ["127.0.0.1:0"],
    hostKeys: [parsePrivateKey(host.privateText, "host")],
    authenticator: AuthorizedKeysAuthenticator.fromText(client.publicLine, "inline"),
    logger: new Logger("text", () => {}),
  });
  const port = (n as unknown as { addrs: Deno.NetAddr[] }).addrs[0].port;
  return { n, host, client, port };
}

Deno.test("openSshSession by URL: a pinned host key, a channel as a byte stream", async () => {
  const { n, host, client, port } = await node();
  const echo = echoListener();
  try {
    const session = await openSshSession(`ssh://127.0.0.1:${port}`, {
      identity: parsePrivateKey(client.privateText, "client"),
      hostKeyFingerprint: host.fingerprint,
    });
    const stream = await session.openChannel("127.0.0.1", (echo.addr as Deno.NetAddr).port);
    await writeAll(stream, new TextEncoder().encode("ping"));
    const buf = new Uint8Array(4);
    let got = 0;
    while (got < 4) {
      const k = await stream.read(buf.subarray(got));
      assert.notEqual(k, null);
      got += k!;
    }
    assert.equal(new TextDecoder().decode(buf), "ping");
    stream.close();
    const refused = await session.openChannel("127.0.0.1", 1).catch((e) => e);
    assert.ok(refused instanceof ChannelOpenError);
    assert.equal(refused.failure, "refused");
    session.close();
    await session.closed;
  } finally {
    echo.close();
    await n.shutdown(0);
  }
});

Deno.test("openSshSession: known_hosts trust on first use, then a changed key is refused", async () => {
  const a = await node();
  const dir = await Deno.makeTempDir();
  const keyPath = `${dir}/id`;
  await Deno.writeTextFile(keyPath, a.client.privateText);
  try {
    const trusted: string[] = [];
    const s = await openSshSession({ host: "127.0.0.1", port: a.port }, {
      identity: keyPath,
      knownHosts: `${dir}/known_hosts`,
      onHostKeyTrusted: (m) => trusted.push(m),
    });
    s.close();
    assert.equal(trusted.length, 1);
    // Same name, another key: refused.
    const text = await Deno.readTextFile(`${dir}/known_hosts`);
    const other = generateEd25519Key("other");
    await Deno.writeTextFile(
      `${dir}/known_hosts`,
      text.replace(/ssh-ed25519 \S+/, other.publicLine.split(" ").slice(0, 2).join(" ")),
    );
    const e = await openSshSession(`127.0.0.1:${a.port}`, {
      identity: keyPath,
      knownHosts: `${dir}/known_hosts`,
    }).catch((e) => e);
    assert.ok(e instanceof HostKeyError, String(e));
    assert.equal(e.failure, "changed");
  } finally {
    await a.n.shutdown(0);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openSshSession: errors carry codes and name options", async () => {
  const a = await node();
  try {
    const identity = parsePrivateKey(generateEd25519Key("stranger").privateText, "k");
    const denied = await openSshSession(`127.0.0.1:${a.port}`, {
      identity,
      hostKeyFingerprint: a.host.fingerprint,
    }).catch((e) => e);
    assert.ok(denied instanceof SshConnectError);
    assert.equal(denied.stage, "authentication");
    const noVerify = await openSshSession(`127.0.0.1:${a.port}`, { identity }).catch((e) => e);
    assert.ok(noVerify instanceof OptionError);
    assert.equal(noVerify.option, "hostKeyFingerprint");
    const tlsOnTcp = await openSshSession(`127.0.0.1:${a.port}`, {
      identity,
      hostKeyFingerprint: a.host.fingerprint,
      insecure: true,
    }).catch((e) => e);
    assert.ok(tlsOnTcp instanceof OptionError);
    assert.equal(tlsOnTcp.option, "insecure");
  } finally {
    await a.n.shutdown(0);
  }
});
