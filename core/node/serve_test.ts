import assert from "node:assert/strict";
import { serve } from "./serve.ts";
import type { CallPeer, CallService, NodeOperationDefinition } from "./call_service.ts";
import type { LogRecord } from "./serve_log.ts";
import { OptionError } from "../util/errors.ts";
import { generateEd25519Key, parsePrivateKey } from "../auth/ssh_keys.ts";
import { connectSsh, SshConnectError } from "../ssh/client.ts";
import type { ByteConn } from "../transport/stream.ts";

/** A CallService that records what the node hands it. */
function recordingCalls() {
  const streams: { conn: ByteConn; peer: CallPeer }[] = [];
  const ops = new Map<string, NodeOperationDefinition>();
  const calls: CallService = {
    serveCallStream(conn, peer) {
      streams.push({ conn, peer });
      conn.close();
      return { closed: Promise.resolve(), close: () => {} };
    },
    async serveCallWebSocket(request, peer) {
      const token = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
      try {
        const who = token ? await peer.authenticate!(token) : null;
        return new Response(`ok ${who?.id}`);
      } catch (e) {
        return new Response(`401 Unauthorized: ${(e as Error).message}\n`, { status: 401 });
      }
    },
    register: (d) => void ops.set(d.name, d),
    unregister: (n) => ops.delete(n),
    spec: (n) => ops.get(n),
  };
  return { calls, streams, ops };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "alknet-serve-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function login(port: number, key: string, fingerprint: string) {
  return connectSsh({
    host: "127.0.0.1",
    port,
    identity: parsePrivateKey(key, "client"),
    hostKey: { pinnedFingerprint: fingerprint },
    readyTimeoutMs: 5000,
  });
}

Deno.test("serve: addresses as URLs, host key from a path, a function logger, reload re-reads authorized keys", async () => {
  await withTempDir(async (dir) => {
    const host = generateEd25519Key("host");
    const alice = generateEd25519Key("alice");
    const bob = generateEd25519Key("bob");
    await Deno.writeTextFile(`${dir}/host`, host.privateText);
    await Deno.writeTextFile(`${dir}/ak`, alice.publicLine + "\n");
    const records: LogRecord[] = [];
    const node = await serve({
      listen: ["127.0.0.1:0", "ws://127.0.0.1:0"],
      hostKey: `${dir}/host`,
      authorizedKeys: new URL(`file://${dir}/ak`),
      logger: (r) => records.push(r),
    });
    try {
      assert.equal(node.hostKeyFingerprint, host.fingerprint);
      assert.equal(node.tlsFingerprint, undefined);
      assert.match(node.addresses[0], /^ssh:\/\/127\.0\.0\.1:\d+$/);
      assert.match(node.addresses[1], /^ws:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(node.addresses[0], `ssh://127.0.0.1:${node.addrs[0].port}`);
      const listening = records.filter((r) => r.event === "listening");
      assert.equal(listening.length, 2);
      assert.equal(listening[0].fields.host_key, host.fingerprint);
      assert.match(listening[0].line, /listening addr=127\.0\.0\.1:\d+ transport=tcp /);

      const port = node.addrs[0].port;
      (await login(port, alice.privateText, host.fingerprint)).close();
      await assert.rejects(login(port, bob.privateText, host.fingerprint), SshConnectError);

      await Deno.writeTextFile(`${dir}/ak`, bob.publicLine + "\n");
      assert.deepEqual(await node.reload(), { ok: true });
      (await login(port, bob.privateText, host.fingerprint)).close();
      await assert.rejects(login(port, alice.privateText, host.fingerprint), SshConnectError);

      // A reload that fails keeps the old keys and names the option.
      await Deno.remove(`${dir}/ak`);
      const bad = await node.reload();
      assert.equal(bad.ok, false);
      if (!bad.ok) {
        assert.ok(bad.error instanceof OptionError);
        assert.equal((bad.error as OptionError).option, "authorizedKeys");
      }
      (await login(port, bob.privateText, host.fingerprint)).close();

      // reload(changes) swaps in parsed values.
      assert.deepEqual(
        await node.reload({ authorizedKeys: [], policy: { default: "deny" } }),
        { ok: true },
      );
      await assert.rejects(login(port, bob.privateText, host.fingerprint), SshConnectError);
      assert.ok(records.some((r) => /EVERY LOGIN WILL BE REFUSED/.test(r.line)));
    } finally {
      await node.shutdown(0);
    }
  });
});

Deno.test("serve: calls on the alknet-control channel and /alknet/call; node operations for the node's lifetime", async () => {
  const host = generateEd25519Key("host");
  const { calls, streams, ops } = recordingCalls();
  const node = await serve({
    listen: ["127.0.0.1:0", "ws://127.0.0.1:0"],
    hostKey: parsePrivateKey(host.privateText, "host"),
    authorizedKeys: [],
    calls,
    logger: false,
  });
  try {
    assert.deepEqual([...ops.keys()], ["node/info", "node/ping", "node/ticks"]);
    const info = ops.get("node/info")!.handler!(null, { signal: new AbortController().signal });
    assert.deepEqual((info as { listeners: string[] }).listeners, node.addresses);

    // No keys: SSH login is refused; the WebSocket says why a token is refused.
    const ws = `http://127.0.0.1:${node.addrs[1].port}/alknet/call`;
    const refused = await fetch(ws, { headers: { authorization: "Bearer not-a-token" } });
    assert.equal(refused.status, 401);
    assert.match(await refused.text(), /malformed token/);
    const other = await fetch(`http://127.0.0.1:${node.addrs[1].port}/elsewhere`);
    assert.equal(other.status, 404);
    await other.body?.cancel();
  } finally {
    await node.shutdown(0);
  }
  assert.equal(ops.size, 0, "built-ins removed at shutdown");
  assert.equal(streams.length, 0);
});

Deno.test("serve: the SSH alknet-control channel carries the login's identity to calls", async () => {
  const host = generateEd25519Key("host");
  const alice = generateEd25519Key("alice");
  const { calls, streams } = recordingCalls();
  const { AuthorizedKeysAuthenticator } = await import("../auth/authenticator.ts");
  const node = await serve({
    listen: "127.0.0.1:0",
    hostKey: host.privateText,
    authorizedKeys: AuthorizedKeysAuthenticator.fromText(alice.publicLine, "inline"),
    calls,
    nodeOperations: false,
    logger: false,
  });
  try {
    const session = await login(node.addrs[0].port, alice.privateText, host.fingerprint);
    try {
      const channel = await session.openChannel("alknet-control", 0);
      const buf = new Uint8Array(16);
      assert.equal(await channel.read(buf), null, "the recording service closes the stream");
      channel.close();
    } finally {
      session.close();
    }
    assert.equal(streams.length, 1);
    assert.equal(streams[0].peer.transport, "ssh");
    assert.equal(streams[0].peer.identity?.id, alice.fingerprint);
  } finally {
    await node.shutdown(0);
  }
});

Deno.test("serve: option errors name the option, never a flag", async () => {
  const host = generateEd25519Key("host").privateText;
  const cases: [Parameters<typeof serve>[0], string][] = [
    [{ listen: [], hostKey: host }, "listen"],
    [{ listen: ["127.0.0.1:0"] }, "hostKey"],
    [{ listen: ["127.0.0.1:0"], hostKey: "/nonexistent/host_key" }, "hostKey"],
    [{ listen: ["bogus://127.0.0.1:0"], hostKey: host }, "listen"],
    [{ listen: ["tls://127.0.0.1:0"], hostKey: host }, "tls"],
    [
      { listen: ["tls://127.0.0.1:0"], hostKey: host, tls: { cert: "/nonexistent/c", key: "k" } },
      "tls.cert",
    ],
    [{ listen: ["tls://127.0.0.1:0"], hostKey: host, tls: { selfSigned: true } }, "dataDir"],
    [{ listen: ["127.0.0.1:0"], hostKey: host, decoyDir: "/srv" }, "decoyDir"],
    [
      { listen: ["127.0.0.1:0"], hostKey: host, authorizedKeys: "/nonexistent/ak" },
      "authorizedKeys",
    ],
    [{ listen: ["127.0.0.1:0"], hostKey: host, limits: { maxAuthFailures: -1 } }, "limits"],
    [
      {
        listen: ["127.0.0.1:0"],
        hostKey: host,
        policy: { rules: [{ action: "allow", target: "a*b*c" }] },
      },
      "policy",
    ],
    [{ listen: ["127.0.0.1:0"], hostKey: host, egressProxy: "ftp://x" }, "egressProxy"],
  ];
  for (const [options, option] of cases) {
    const e = await serve({ logger: false, ...options }).then(
      async (node) => {
        await node.shutdown(0);
        return null;
      },
      (e) => e,
    );
    assert.ok(e instanceof OptionError, `${option}: ${e}`);
    assert.equal(e.option, option, e.message);
    assert.doesNotMatch(e.message, /--/, e.message);
  }
});

Deno.test("serve: TLS from PEM text or a self-signed certificate kept in dataDir", async () => {
  const which = await new Deno.Command("openssl", { args: ["version"], stdout: "null" }).output()
    .catch(() => null);
  assert.ok(which?.success, "openssl is needed (run .ci/run)");
  await withTempDir(async (dir) => {
    const host = generateEd25519Key("host").privateText;
    const first = await serve({
      listen: ["tls://127.0.0.1:0", "127.0.0.1:0"],
      hostKey: host,
      tls: { selfSigned: true },
      dataDir: dir,
      logger: false,
    });
    const fp = first.tlsFingerprint;
    assert.match(fp ?? "", /^SHA256:[0-9a-f]{64}$/);
    assert.match(first.addresses[0], /^tls:\/\/127\.0\.0\.1:\d+$/);
    await first.shutdown(0);
    const cert = await Deno.readTextFile(`${dir}/tls-selfsigned.crt`);
    const key = await Deno.readTextFile(`${dir}/tls-selfsigned.key`);
    const again = await serve({
      listen: ["wss://127.0.0.1:0"],
      hostKey: host,
      tls: { cert, key },
      logger: false,
    });
    assert.equal(again.tlsFingerprint, fp);
    assert.match(again.addresses[0], /^wss:\/\//);
    await again.shutdown(0);
  });
});

Deno.test("serve: any identity provider, after authorized keys, for SSH logins and tokens", async () => {
  const host = generateEd25519Key("host");
  const carol = generateEd25519Key("carol");
  const dave = generateEd25519Key("dave");
  const { calls } = recordingCalls();
  const identity = {
    resolveFingerprint: (fp: string) =>
      fp === carol.fingerprint ? { id: "carol", scopes: ["relay:connect"], resources: {} } : null,
    resolveToken: (t: string) =>
      t === "letmein" ? { id: "token-user", scopes: [], resources: {} } : null,
  };
  const node = await serve({
    listen: ["127.0.0.1:0", "ws://127.0.0.1:0"],
    hostKey: host.privateText,
    authorizedKeys: [],
    identity,
    calls,
    logger: false,
  });
  try {
    (await login(node.addrs[0].port, carol.privateText, host.fingerprint)).close();
    await assert.rejects(login(node.addrs[0].port, dave.privateText, host.fingerprint));
    const ws = `http://127.0.0.1:${node.addrs[1].port}/alknet/call`;
    const ok = await fetch(ws, { headers: { authorization: "Bearer letmein" } });
    assert.equal(await ok.text(), "ok token-user");
    const no = await fetch(ws, { headers: { authorization: "Bearer nope" } });
    assert.equal(no.status, 401);
    await no.body?.cancel();
  } finally {
    await node.shutdown(0);
  }
});

Deno.test("serve: an identity provider that answers SSH fingerprints asynchronously logs in known keys only", async () => {
  const host = generateEd25519Key("host");
  const carol = generateEd25519Key("carol");
  const stranger = generateEd25519Key("stranger");
  const later = <T>(v: T) => new Promise<T>((r) => setTimeout(() => r(v), 10));
  const node = await serve({
    listen: "127.0.0.1:0",
    hostKey: host.privateText,
    identity: {
      resolveFingerprint: (fp) =>
        later(fp === carol.fingerprint ? { id: "carol", scopes: [], resources: {} } : null),
      resolveToken: () => null,
    },
    logger: false,
  });
  try {
    (await login(node.addrs[0].port, carol.privateText, host.fingerprint)).close();
    await assert.rejects(login(node.addrs[0].port, stranger.privateText, host.fingerprint));
  } finally {
    await node.shutdown(0);
  }
});
