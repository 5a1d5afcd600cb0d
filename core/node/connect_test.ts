import assert from "node:assert/strict";
import { connect, type ConnectStateEvent } from "./connect.ts";
import { serve } from "./serve.ts";
import { Logger } from "../util/log.ts";
import { OptionError } from "../util/errors.ts";
import { generateEd25519Key, parsePrivateKey } from "../auth/ssh_keys.ts";
import { AuthorizedKeysAuthenticator } from "../auth/mod.ts";
import { DialError } from "../transport/tcp.ts";
import { type ByteConn, writeAll } from "../transport/stream.ts";
import { socks5ClientConnect, Socks5ClientError } from "../transport/socks5_client.ts";

const host = generateEd25519Key("host");
const client = generateEd25519Key("client");
const hostKeys = [parsePrivateKey(host.privateText, "host")];
const identity = parsePrivateKey(client.privateText, "client");

function startNode(
  options: { dial?: (host: string, port: number) => Promise<Deno.TcpConn>; port?: number },
  logger: Logger,
) {
  return serve({
    listen: [`127.0.0.1:${options.port ?? 0}`],
    hostKeys,
    authenticator: AuthorizedKeysAuthenticator.fromText(client.publicLine, "inline"),
    logger,
    dial: options.dial,
    drainMs: 0,
  });
}

async function pair(options: {
  dial?: (host: string, port: number) => Promise<Deno.TcpConn>;
  credentials?: { username: string; password: string };
  format?: "text" | "json";
}) {
  const lines: string[] = [];
  const logger = new Logger(options.format ?? "text", (l) => lines.push(l));
  const node = await startNode(options, logger);
  const tunnel = await connect(`127.0.0.1:${node.addrs[0].port}`, {
    identity,
    hostKeyFingerprint: host.fingerprint,
    socks: "127.0.0.1:0",
    socksCredentials: options.credentials,
    logger,
  });
  return {
    node,
    tunnel,
    lines,
    async close() {
      await tunnel.close();
      await node.shutdown(0);
    },
  };
}

async function socksTo(
  port: number,
  host: string,
  credentials?: { username: string; password: string },
) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await socks5ClientConnect(conn, host, 80, credentials);
    return 0;
  } catch (e) {
    return e instanceof Socks5ClientError ? e.reply : -2;
  } finally {
    conn.close();
  }
}

function echoListener(): Deno.TcpListener {
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

async function echoOnce(stream: ByteConn, text: string): Promise<string> {
  const data = new TextEncoder().encode(text);
  await writeAll(stream, data);
  const buf = new Uint8Array(data.length);
  let got = 0;
  while (got < data.length) {
    const n = await stream.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return new TextDecoder().decode(buf.subarray(0, got));
}

Deno.test("server dial failures map to SOCKS replies 04 and 05; policy to 02", async () => {
  const p = await pair({
    dial: (host) => {
      if (host === "unreachable.test") return Promise.reject(new DialError("unreachable"));
      if (host === "timeout.test") return Promise.reject(new DialError("timeout"));
      return Promise.reject(new DialError("refused"));
    },
  });
  try {
    const port = p.tunnel.socksAddr!.port;
    assert.equal(await socksTo(port, "unreachable.test"), 4);
    assert.equal(await socksTo(port, "timeout.test"), 4);
    assert.equal(await socksTo(port, "refused.test"), 5);
    p.node.ssh.update({ policy: { evaluate: () => "deny" } });
    assert.equal(await socksTo(port, "refused.test"), 2);
    assert.ok(!p.lines.some((l) => l.includes(".test")), "targets never logged");
  } finally {
    await p.close();
  }
});

Deno.test("SOCKS5 username/password when configured", async () => {
  const credentials = { username: "u", password: "p" };
  const p = await pair({ credentials, dial: () => Promise.reject(new DialError("refused")) });
  try {
    const port = p.tunnel.socksAddr!.port;
    assert.equal(await socksTo(port, "x.test", credentials), 5);
    assert.equal(await socksTo(port, "x.test", { username: "u", password: "wrong" }), -1);
    assert.equal(await socksTo(port, "x.test"), -1);
  } finally {
    await p.close();
  }
});

Deno.test("JSON log lines carry the stable fields", async () => {
  const p = await pair({ format: "json" });
  try {
    const events = p.lines.map((l) => JSON.parse(l));
    const auth = events.find((e) => e.event === "auth");
    assert.equal(auth.result, "accept");
    assert.equal(auth.method, "publickey");
    assert.match(auth.fp, /^SHA256:/);
    assert.match(auth.remote, /^127\.0\.0\.1:\d+$/);
    assert.ok(
      events.some((e) => e.event === "conn" && e.action === "opened" && e.transport === "tcp"),
    );
  } finally {
    await p.close();
  }
});

Deno.test("reserved alknet-* destinations: SOCKS5 answers 02 without asking the node; -L is refused", async () => {
  let dialled = 0;
  const p = await pair({
    dial: () => {
      dialled++;
      return Promise.reject(new DialError("refused"));
    },
  });
  try {
    const port = p.tunnel.socksAddr!.port;
    assert.equal(await socksTo(port, "alknet-control"), 2);
    assert.equal(await socksTo(port, "ALKNET-Control"), 2);
    assert.equal(await socksTo(port, "alknet-anything"), 2);
    assert.equal(dialled, 0);
    const e = await connect(`127.0.0.1:${p.node.addrs[0].port}`, {
      identity,
      hostKeyFingerprint: host.fingerprint,
      localForwards: ["0:alknet-control:1"],
      logger: false,
    }).catch((e) => e);
    assert.ok(e instanceof OptionError, String(e));
    assert.equal(e.option, "localForwards");
    assert.match(e.message, /reserved/);
  } finally {
    await p.close();
  }
});

Deno.test("no SOCKS listener unless asked; openStream carries bytes; -L by OpenSSH syntax", async () => {
  const node = await startNode({}, new Logger("text", () => {}));
  const echo = echoListener();
  const echoPort = (echo.addr as Deno.NetAddr).port;
  try {
    const tunnel = await connect(`127.0.0.1:${node.addrs[0].port}`, {
      identity,
      hostKeyFingerprint: host.fingerprint,
      localForwards: [`127.0.0.1:0:127.0.0.1:${echoPort}`],
      logger: false,
    });
    try {
      assert.equal(tunnel.socksAddr, undefined);
      assert.equal(tunnel.socksUrl, undefined);
      assert.equal(tunnel.state, "connected");
      const stream = await tunnel.openStream("127.0.0.1", echoPort);
      assert.equal(await echoOnce(stream, "through the node"), "through the node");
      stream.close();
      const viaL = await Deno.connect({ hostname: "127.0.0.1", port: tunnel.localAddrs[0].port });
      assert.equal(await echoOnce(viaL, "via -L"), "via -L");
      viaL.close();
    } finally {
      await tunnel.close();
    }
    assert.equal(tunnel.state, "closed");
    await assert.rejects(tunnel.openStream("127.0.0.1", echoPort), /closed/);
  } finally {
    echo.close();
    await node.shutdown(0);
  }
});

Deno.test("state events: connected, reconnecting across a node restart, connected again, closed", async () => {
  const logger = new Logger("text", () => {});
  let node = await startNode({}, logger);
  const port = node.addrs[0].port;
  const seen: ConnectStateEvent[] = [];
  const tunnel = await connect(`127.0.0.1:${port}`, {
    identity,
    hostKeyFingerprint: host.fingerprint,
    logger: false,
    onState: (e) => seen.push(e),
  });
  const states = tunnel.states();
  try {
    assert.deepEqual(seen.map((e) => e.state), ["connected"]);
    await node.shutdown(0);
    const lost = await states.next();
    assert.equal(lost.value?.state, "reconnecting");
    assert.equal(tunnel.connected, false);
    node = await startNode({ port }, logger);
    // Bounded: each failed attempt yields one more "reconnecting" event.
    let back = false;
    for (let i = 0; i < 10 && !back; i++) {
      const next = await states.next();
      back = next.value?.state === "connected";
    }
    assert.ok(back, "reconnected");
    assert.equal(tunnel.connected, true);
  } finally {
    await tunnel.close();
    await node.shutdown(0);
  }
  const last = await states.next();
  assert.equal(last.value?.state, "closed");
  assert.equal((await states.next()).done, true);
  assert.equal(seen.at(-1)?.state, "closed");
});

Deno.test("reconnect: false closes the tunnel when the session ends", async () => {
  const node = await startNode({}, new Logger("text", () => {}));
  const tunnel = await connect(`127.0.0.1:${node.addrs[0].port}`, {
    identity,
    hostKeyFingerprint: host.fingerprint,
    socks: "127.0.0.1:0",
    reconnect: false,
    logger: false,
  });
  const states = tunnel.states();
  await node.shutdown(0);
  assert.equal((await states.next()).value?.state, "closed");
  await tunnel.close();
  // The SOCKS listener went with it.
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: tunnel.socksAddr!.port }));
});

Deno.test("options are checked before anything is dialled, and name the option", async () => {
  const base = { identity, hostKeyFingerprint: host.fingerprint, logger: false as const };
  const cases: [string, Parameters<typeof connect>[1], string][] = [
    ["127.0.0.1:1", { ...base, tlsFingerprint: "SHA256:" + "ab".repeat(32) }, "tlsFingerprint"],
    ["quic://127.0.0.1:1", { ...base, proxy: "socks5://127.0.0.1:1" }, "proxy"],
    ["127.0.0.1:1", { ...base, dataPath: "direct" }, "dataPath"],
    ["127.0.0.1:1", { ...base, localForwards: ["80:web"] }, "localForwards"],
    ["127.0.0.1:1", { ...base, remoteForwards: ["99999:h:1"] }, "remoteForwards"],
    ["127.0.0.1:1", { ...base, socks: "nonsense" }, "socks"],
    ["127.0.0.1:1", { identity, logger: false }, "hostKeyFingerprint"],
    ["127.0.0.1:1", { ...base, hostKeyFingerprint: "SHA256:short" }, "hostKeyFingerprint"],
  ];
  for (const [target, options, option] of cases) {
    const e = await connect(target, options).catch((e) => e);
    assert.ok(e instanceof OptionError, `${option}: ${e}`);
    assert.equal(e.option, option);
  }
});
