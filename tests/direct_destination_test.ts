// direct-tcpip destinations are checked before anything dials them: bad hosts
// and ports, sent by an ssh2 client and by the real `ssh -W`, are refused with
// an open failure and a log line that names what was wrong (never the
// destination), nothing is dialled, and the session stays usable. The native
// data path (`alknet/tcp`) checks its destinations the same way.
import assert from "node:assert/strict";
import type { Duplex } from "node:stream";
import {
  AuthorizedKeysAuthenticator,
  generateEd25519Key,
  parsePrivateKey,
} from "@alknet/core/auth";
import {
  ChannelOpenError,
  connectSsh,
  nativeTcpHandler,
  OpenFailure,
  openNativeTcp,
  SshServer,
} from "@alknet/core/ssh";
import { Logger, NativeTcpError } from "@alknet/core/transport";
import { echoServer, OPENSSH_CLIENT_OPTIONS, requireTool, run } from "./helpers.ts";
import { listenSsh } from "./ssh_server_util.ts";

async function setup() {
  const host = generateEd25519Key("host");
  const me = generateEd25519Key("me");
  const lines: string[] = [];
  const dialled: string[] = [];
  const echo = echoServer();
  const ssh = new SshServer({
    hostKeys: [parsePrivateKey(host.privateText, "host")],
    authenticator: AuthorizedKeysAuthenticator.fromText(me.publicLine, "inline"),
    policy: { evaluate: () => "allow" },
    logger: new Logger("text", (l) => lines.push(l)),
    // Every dial goes to the echo server; what was asked for is recorded.
    dial: (h, p) => {
      dialled.push(`${h}:${p}`);
      return Deno.connect({ hostname: "127.0.0.1", port: echo.port });
    },
  });
  const ep = await listenSsh(ssh);
  const dir = await Deno.makeTempDir({ prefix: "alknet-direct-" });
  await Deno.writeTextFile(`${dir}/id`, me.privateText, { mode: 0o600 });
  return {
    port: ep.addr.port,
    lines,
    dialled,
    keyPath: `${dir}/id`,
    login: () =>
      connectSsh({
        host: "127.0.0.1",
        port: ep.addr.port,
        identity: parsePrivateKey(me.privateText, "me"),
        hostKey: { pinnedFingerprint: host.fingerprint },
        readyTimeoutMs: 10_000,
      }),
    async close() {
      await ssh.shutdown(0);
      await ep.close();
      await echo.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Writes `text` on a channel and reads it back from the echo server behind it. */
async function echoThrough(channel: Duplex, text: string): Promise<string> {
  let got = "";
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo timed out: ${got}`)), 10_000);
    channel.on("data", (d: Uint8Array) => {
      got += new TextDecoder().decode(d);
      if (got.length >= text.length) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  channel.write(text);
  await done;
  channel.end();
  return got;
}

const BAD: { host: string; port: number; reason: string }[] = [
  { host: "", port: 22, reason: "empty-host" },
  {
    host: "a".repeat(63) + "." + "b".repeat(63) + "." + "c".repeat(63) + "." + "d".repeat(64),
    port: 22,
    reason: "host-too-long",
  },
  { host: "sec\x00ret.example", port: 22, reason: "host-control-or-space" },
  { host: "sec ret.example", port: 22, reason: "host-control-or-space" },
  { host: "secret.example\r\nX: y", port: 22, reason: "host-control-or-space" },
  { host: "secret\t.example", port: 22, reason: "host-control-or-space" },
  { host: "secret..example", port: 22, reason: "host-not-name-or-ip" },
  { host: "secret/example", port: 22, reason: "host-not-name-or-ip" },
  { host: "[::1]", port: 22, reason: "host-not-name-or-ip" },
  { host: "127.1", port: 22, reason: "host-not-name-or-ip" },
  { host: "0x7f000001", port: 22, reason: "host-not-name-or-ip" },
  { host: "2130706433", port: 22, reason: "host-not-name-or-ip" },
  { host: "::1%../secret", port: 22, reason: "host-not-name-or-ip" },
  { host: "secret.example", port: 0, reason: "port-out-of-range" },
  { host: "secret.example", port: 65536, reason: "port-out-of-range" },
  { host: "secret.example", port: 4_294_967_295, reason: "port-out-of-range" },
];

Deno.test("direct-tcpip: bad destinations from an ssh2 client are refused without a dial; the session stays usable", async () => {
  const env = await setup();
  const session = await env.login();
  try {
    for (const bad of BAD) {
      const before = env.lines.length;
      const e = await session.openDirect(bad.host, bad.port).then(
        () => assert.fail(`opened ${JSON.stringify(bad)}`),
        (e) => e,
      );
      assert.ok(e instanceof ChannelOpenError, String(e));
      assert.equal(e.reason, OpenFailure.CONNECT_FAILED, JSON.stringify(bad));
      const what = bad.reason === "port-out-of-range" ? "port" : "host";
      assert.equal(e.message, `channel open failed: invalid destination ${what}`);
      const logged = env.lines.slice(before).filter((l) => l.includes("channel refused"));
      assert.equal(logged.length, 1, env.lines.slice(before).join("\n"));
      assert.ok(logged[0].includes(`reason=${bad.reason}`), `${JSON.stringify(bad)}: ${logged[0]}`);
      // Only who asked and what was wrong: no destination field, no "secret".
      assert.match(logged[0], /^\S+ channel refused remote=\S+ transport=tcp reason=[a-z-]+$/);
      assert.ok(!/secret/.test(logged[0]), `the log names the destination: ${logged[0]}`);
    }
    // A reserved name in another letter case, without a handler: prohibited, never dialled.
    const reserved = await session.openDirect("ALKNET-Control", 1).catch((e) => e);
    assert.ok(reserved instanceof ChannelOpenError);
    assert.equal(reserved.reason, OpenFailure.ADMINISTRATIVELY_PROHIBITED);
    assert.ok(env.lines.some((l) => /channel refused .*reason=reserved-name/.test(l)));
    assert.deepEqual(env.dialled, []);
    // The same session still opens good destinations: a name, IPv4, IPv6.
    for (const [host, port] of [["echo.test", 7], ["127.0.0.1", 65535], ["::1", 1]] as const) {
      const channel = await session.openDirect(host, port);
      assert.equal(await echoThrough(channel, `hello ${host}\n`), `hello ${host}\n`);
    }
    assert.deepEqual(env.dialled, ["echo.test:7", "127.0.0.1:65535", "::1:1"]);
  } finally {
    session.close();
    await env.close();
  }
});

Deno.test("direct-tcpip: the real ssh -W with a bad destination gets 'connect failed'; a good one goes through", async () => {
  await requireTool("ssh");
  const env = await setup();
  const base = [...OPENSSH_CLIENT_OPTIONS, "-i", env.keyPath, "-p", String(env.port)];
  try {
    for (
      const [dest, reason] of [["127.1:22", "host-not-name-or-ip"], [
        "a_b..c:22",
        "host-not-name-or-ip",
      ]]
    ) {
      const r = await run("ssh", [...base, "-W", dest, "me@127.0.0.1"], {
        stdin: "x\n",
        timeoutMs: 30_000,
      });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /open failed: connect failed: invalid destination host/, r.stderr);
      assert.ok(env.lines.some((l) => l.includes(`reason=${reason}`)), env.lines.join("\n"));
    }
    assert.deepEqual(env.dialled, []);
    const ok = await run("ssh", [...base, "-W", "echo.test:9", "me@127.0.0.1"], {
      stdin: "through -W\n",
      timeoutMs: 30_000,
    });
    assert.equal(ok.stdout, "through -W\n", ok.stderr);
    assert.deepEqual(env.dialled, ["echo.test:9"]);
  } finally {
    await env.close();
  }
});

Deno.test("alknet/tcp: a header naming a bad destination is answered MALFORMED without a dial", async () => {
  const lines: string[] = [];
  const dialled: string[] = [];
  const echo = echoServer();
  const handler = nativeTcpHandler({
    resolveToken: (t) => t === "good" ? { id: "me", scopes: [], resources: {} } : null,
    policy: { evaluate: () => "allow" },
    logger: new Logger("text", (l) => lines.push(l)),
    dial: (h, p) => {
      dialled.push(`${h}:${p}`);
      return Deno.connect({ hostname: "127.0.0.1", port: echo.port });
    },
  });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of listener) {
      const a = conn.remoteAddr as Deno.NetAddr;
      handler(conn, { remoteAddress: a.hostname, remotePort: a.port, transport: "tls" });
    }
  })().catch(() => {});
  const open = () => Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  try {
    for (const host of ["127.1", "0x7f000001", "secret..example"]) {
      const e = await openNativeTcp(open, "good", host, 22).then(() => null, (e) => e);
      assert.ok(e instanceof NativeTcpError && e.status === "malformed", `${host}: ${e}`);
    }
    assert.deepEqual(dialled, []);
    const refusals = lines.filter((l) => l.includes("forward refused"));
    assert.equal(refusals.length, 3, lines.join("\n"));
    assert.ok(refusals.every((l) => !/secret|127\.1 |0x7f/.test(l)), refusals.join("\n"));
    const good = await openNativeTcp(open, "good", "echo.test", 7);
    await good.write(new TextEncoder().encode("native\n"));
    const buf = new Uint8Array(7);
    let got = 0;
    while (got < 7) {
      const n = await good.read(buf.subarray(got));
      if (n === null) break;
      got += n;
    }
    assert.equal(new TextDecoder().decode(buf), "native\n");
    good.close();
    assert.deepEqual(dialled, ["echo.test:7"]);
  } finally {
    listener.close();
    await accepting;
    await echo.close();
  }
});
