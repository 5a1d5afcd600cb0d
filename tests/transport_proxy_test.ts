import assert from "node:assert/strict";
import { echoServer } from "./helpers.ts";
import {
  AuthorizedKeysAuthenticator,
  generateEd25519Key,
  parsePrivateKey,
} from "@alknet/core/auth";
import { connectSsh, SshServer } from "@alknet/core/ssh";
import { connToDuplex, DialError, Logger, relayConns, writeAll } from "@alknet/core/transport";
import {
  dialTcpVia,
  egressDialer,
  listenEndpoint,
  parseProxyUrl,
  ProxyError,
  transportDialer,
  TransportUrlError,
} from "../core/transport/mod.ts";
import { randomBytes, readN, testCert } from "./transport_util.ts";

interface TestProxy {
  url: string;
  asked: string[];
  close(): Promise<void>;
}

async function readUpTo(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const b = await readN(conn, n, 5000);
  if (b.length !== n) throw new Error("short read");
  return b;
}

/** A tiny SOCKS5 proxy (no auth or user/pass) recording each CONNECT target as it arrived. */
function socksProxy(creds?: { username: string; password: string }): TestProxy {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const asked: string[] = [];
  const conns = new Set<Deno.Conn>();
  const serve = async (c: Deno.TcpConn) => {
    c.setNoDelay(true);
    const [, n] = await readUpTo(c, 2);
    const methods = await readUpTo(c, n);
    if (creds) {
      if (!methods.includes(2)) return await writeAll(c, new Uint8Array([5, 0xff]));
      await writeAll(c, new Uint8Array([5, 2]));
      const [, ul] = await readUpTo(c, 2);
      const u = new TextDecoder().decode(await readUpTo(c, ul));
      const [pl] = await readUpTo(c, 1);
      const p = new TextDecoder().decode(await readUpTo(c, pl));
      const ok = u === creds.username && p === creds.password;
      await writeAll(c, new Uint8Array([1, ok ? 0 : 1]));
      if (!ok) return;
    } else {
      await writeAll(c, new Uint8Array([5, 0]));
    }
    const [, , , atyp] = await readUpTo(c, 4);
    let host: string;
    if (atyp === 3) {
      const [len] = await readUpTo(c, 1);
      host = new TextDecoder().decode(await readUpTo(c, len));
    } else if (atyp === 1) host = (await readUpTo(c, 4)).join(".");
    else host = `ipv6:${Array.from(await readUpTo(c, 16)).join(",")}`;
    const pb = await readUpTo(c, 2);
    const port = (pb[0] << 8) | pb[1];
    asked.push(`atyp=${atyp} ${host}:${port}`);
    let up: Deno.TcpConn;
    try {
      up = await Deno.connect({ hostname: host, port });
    } catch {
      return await writeAll(c, new Uint8Array([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]));
    }
    up.setNoDelay(true);
    conns.add(up);
    await writeAll(c, new Uint8Array([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
    await relayConns(c, up);
    conns.delete(up);
  };
  const loop = (async () => {
    try {
      for await (const c of l) {
        conns.add(c);
        serve(c).catch(() => {}).finally(() => {
          conns.delete(c);
          try {
            c.close();
          } catch { /* closed */ }
        });
      }
    } catch { /* closed */ }
  })();
  const port = (l.addr as Deno.NetAddr).port;
  const auth = creds ? `${creds.username}:${creds.password}@` : "";
  return {
    url: `socks5://${auth}127.0.0.1:${port}`,
    asked,
    async close() {
      l.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
    },
  };
}

/** A tiny HTTP CONNECT proxy recording each request line. */
function connectProxy(): TestProxy {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const asked: string[] = [];
  const conns = new Set<Deno.Conn>();
  const serve = async (c: Deno.TcpConn) => {
    c.setNoDelay(true);
    let head = "";
    const one = new Uint8Array(1);
    while (!head.endsWith("\r\n\r\n") && head.length < 8192) {
      const n = await c.read(one);
      if (n === null) return;
      head += String.fromCharCode(one[0]);
    }
    const line = head.split("\r\n")[0];
    asked.push(line);
    const m = /^CONNECT (.+):(\d+) HTTP\/1\.1$/.exec(line);
    if (!m) return await writeAll(c, new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"));
    let up: Deno.TcpConn;
    try {
      up = await Deno.connect({ hostname: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) });
    } catch {
      return await writeAll(c, new TextEncoder().encode("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
    }
    up.setNoDelay(true);
    conns.add(up);
    await writeAll(c, new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n"));
    await relayConns(c, up);
    conns.delete(up);
  };
  const loop = (async () => {
    try {
      for await (const c of l) {
        conns.add(c);
        serve(c).catch(() => {}).finally(() => {
          conns.delete(c);
          try {
            c.close();
          } catch { /* closed */ }
        });
      }
    } catch { /* closed */ }
  })();
  return {
    url: `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}`,
    asked,
    async close() {
      l.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
    },
  };
}

Deno.test("proxy URLs parse; credentials never appear in errors", () => {
  assert.deepEqual(parseProxyUrl("socks5://u:p%40ss@127.0.0.1:1080").credentials, {
    username: "u",
    password: "p@ss",
  });
  assert.equal(parseProxyUrl("http://[::1]:3128").host, "::1");
  try {
    parseProxyUrl("ftp://user:hunter2@h:1");
    assert.fail("accepted ftp://");
  } catch (e) {
    assert.ok(e instanceof TransportUrlError);
    assert.ok(!e.message.includes("hunter2"), e.message);
  }
});

Deno.test("client tcp, tls, ws and wss chain through SOCKS5 and HTTP CONNECT with the host name unresolved", async () => {
  const { ck } = await testCert();
  const host = generateEd25519Key("host");
  const client = generateEd25519Key("client");
  const server = new SshServer({
    hostKeys: [parsePrivateKey(host.privateText, "host")],
    authenticator: AuthorizedKeysAuthenticator.fromText(client.publicLine, "inline"),
    policy: { evaluate: () => "allow" },
    logger: new Logger("text", () => {}),
  });
  const ssh = (
    conn: import("@alknet/core/transport").ByteConn,
    info: import("../core/transport/mod.ts").ConnInfo,
  ) =>
    server.handle(
      connToDuplex(conn, { remoteAddress: info.remoteAddress, remotePort: info.remotePort }),
      info,
    );
  const target = echoServer();
  const eps = {
    tcp: await listenEndpoint("tcp://127.0.0.1:0", { handlers: { ssh } }),
    tls: await listenEndpoint("tls://127.0.0.1:0", { ...ck, handlers: { ssh } }),
    ws: await listenEndpoint("ws://127.0.0.1:0", { handlers: { ssh } }),
    wss: await listenEndpoint("wss://127.0.0.1:0", { ...ck, handlers: { ssh } }),
  };
  const proxies = [
    socksProxy(),
    socksProxy({ username: "me", password: "s3cret" }),
    connectProxy(),
  ];
  try {
    // Plain TCP through each proxy to the echo server by name.
    for (const p of proxies) {
      const conn = await dialTcpVia("localhost", target.port, { proxy: p.url });
      const data = randomBytes(50_000);
      await writeAll(conn, data);
      assert.deepEqual(await readN(conn, data.length), data);
      conn.close();
    }
    // SSH over each transport, through each proxy, to "localhost".
    for (const scheme of ["tcp", "tls", "ws", "wss"] as const) {
      for (const p of proxies) {
        const session = await connectSsh({
          host: "localhost",
          port: eps[scheme].addr.port,
          identity: parsePrivateKey(client.privateText, "client"),
          hostKey: { pinnedFingerprint: host.fingerprint },
          dial: transportDialer(scheme, {
            proxy: p.url,
            caCerts: [ck.cert],
            fingerprint: scheme === "wss" ? ck.fingerprint : undefined,
          }),
        });
        try {
          // 1 MiB both ways through the tunnel.
          const ch = await session.openDirect("127.0.0.1", target.port);
          const data = randomBytes(1024 * 1024);
          const back: Uint8Array[] = [];
          let got = 0;
          const done = new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`${scheme} via ${p.url}: echo stalled at ${got}`)),
              10_000,
            );
            ch.on("data", (c: Uint8Array) => {
              back.push(new Uint8Array(c));
              got += c.length;
              if (got >= data.length) {
                clearTimeout(timer);
                resolve();
              }
            });
          });
          ch.write(data);
          await done;
          const all = new Uint8Array(got);
          let off = 0;
          for (const c of back) {
            all.set(c, off);
            off += c.length;
          }
          assert.deepEqual(all, data);
          ch.destroy();
        } finally {
          session.close();
          await session.closed;
        }
      }
    }
    const wanted = [
      target.port,
      eps.tcp.addr.port,
      eps.tls.addr.port,
      eps.ws.addr.port,
      eps.wss.addr.port,
    ];
    for (const p of proxies.slice(0, 2)) {
      for (const port of wanted) {
        assert.ok(p.asked.includes(`atyp=3 localhost:${port}`), `${p.url}: ${p.asked.join(" | ")}`);
      }
      assert.ok(p.asked.every((a) => a.startsWith("atyp=3 localhost:")), p.asked.join(" | "));
    }
    for (const port of wanted) {
      assert.ok(
        proxies[2].asked.includes(`CONNECT localhost:${port} HTTP/1.1`),
        proxies[2].asked.join(" | "),
      );
    }
    assert.throws(
      () => transportDialer("quic", { proxy: proxies[0].url }),
      /QUIC cannot go through/,
    );
    await assert.rejects(
      dialTcpVia("localhost", target.port, {
        proxy: "socks5://me:wrong@" + proxies[1].url.split("@")[1],
      }),
      ProxyError,
    );
  } finally {
    for (const ep of Object.values(eps)) await ep.close();
    for (const p of proxies) await p.close();
    await server.shutdown(0);
    await target.close();
  }
});

Deno.test("egressDialer: through SOCKS5 and HTTP CONNECT, names unresolved, failures as DialError kinds", async () => {
  const target = echoServer();
  const socks = socksProxy();
  const http = connectProxy();
  const dead = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (dead.addr as Deno.NetAddr).port;
  dead.close();
  // A proxy that accepts and never answers.
  const mute = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const muted: Deno.Conn[] = [];
  const muteLoop = (async () => {
    try {
      for await (const c of mute) muted.push(c);
    } catch { /* closed */ }
  })();
  try {
    for (const p of [socks, http]) {
      const dial = egressDialer(p.url);
      const conn = await dial("localhost", target.port);
      await writeAll(conn, new TextEncoder().encode("ping"));
      assert.equal(new TextDecoder().decode(await readN(conn, 4)), "ping");
      conn.close();
      const err = await dial("localhost", deadPort).catch((e) => e);
      assert.ok(err instanceof DialError, String(err));
      assert.equal(err.kind, p === socks ? "refused" : "unreachable");
      assert.ok(!err.message.includes("localhost"));
    }
    assert.deepEqual(socks.asked, [
      `atyp=3 localhost:${target.port}`,
      `atyp=3 localhost:${deadPort}`,
    ]);
    const down = await egressDialer(`socks5://127.0.0.1:${deadPort}`)("example.com", 80).catch((
      e,
    ) => e);
    assert.ok(down instanceof DialError && down.kind === "refused");
    const slow = await egressDialer(`http://127.0.0.1:${(mute.addr as Deno.NetAddr).port}`, 300)(
      "example.com",
      80,
    ).catch((e) => e);
    assert.ok(slow instanceof DialError && slow.kind === "timeout", String(slow));
  } finally {
    mute.close();
    for (const c of muted) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await muteLoop;
    await socks.close();
    await http.close();
    await target.close();
  }
});
