import assert from "node:assert/strict";
import {
  echoServer,
  freePort,
  keyDir,
  Proc,
  requireTool,
  run,
  runAlknet,
  socks5Connect,
  socksEcho,
} from "./helpers.ts";

Deno.test("alknet serve on tcp, tls, quic, ws and wss with a self-signed certificate and stealth; connect, call and curl over each", async (t) => {
  await requireTool("curl");
  await requireTool("openssl");
  const { dir, id } = await keyDir();
  const echo = echoServer();
  const shared = freePort(); // tls:// (TCP) and quic:// (UDP) on the same port number
  const server = Proc.alknet([
    "serve",
    "--listen",
    "127.0.0.1:0",
    "--listen",
    `tls://127.0.0.1:${shared}`,
    "--listen",
    `quic://127.0.0.1:${shared}`,
    "--listen",
    "ws://127.0.0.1:0",
    "--listen",
    "wss://127.0.0.1:0",
    "--tls-self-signed",
    "--data-dir",
    `${dir}/data`,
    "--stealth",
    "--host-key",
    `${dir}/host`,
    "--authorized-keys",
    `${dir}/authorized_keys`,
  ]);
  const clients: Proc[] = [];
  try {
    const fp = (await server.waitFor(/tls self-signed fingerprint=(SHA256:[0-9a-f]{64})/))[1];
    const port = async (transport: string) =>
      Number(
        (await server.waitFor(
          new RegExp(`listening addr=127\\.0\\.0\\.1:(\\d+) transport=${transport} `),
        ))[1],
      );
    const urls: Record<string, string> = {
      tls: `tls://127.0.0.1:${await port("tls")}`,
      quic: `quic://127.0.0.1:${await port("quic")}`,
      ws: `ws://127.0.0.1:${await port("ws")}`,
      wss: `wss://127.0.0.1:${await port("wss")}`,
    };
    const tcpPort = await port("tcp");
    const connectVia = async (url: string, extra: string[]) => {
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

    for (
      const [name, url, extra] of [
        ["tls (auto data path)", urls.tls, ["--tls-fingerprint", fp]],
        ["tls (SSH data path)", urls.tls, ["--tls-fingerprint", fp, "--data-path", "ssh"]],
        ["tls (native data path)", urls.tls, ["--tls-fingerprint", fp, "--data-path", "direct"]],
        ["quic (native data path)", urls.quic, ["--tls-fingerprint", fp, "--data-path", "direct"]],
        ["quic (SSH data path)", urls.quic, [
          "--tls-ca",
          `${dir}/data/tls-selfsigned.crt`,
          "--data-path",
          "ssh",
        ]],
        ["ws", urls.ws, []],
        ["wss", urls.wss, ["--tls-fingerprint", fp]],
      ] as [string, string, string[]][]
    ) {
      await t.step(`connect over ${name}: 1 MiB both ways through SOCKS5`, async () => {
        const socks = await connectVia(url, extra);
        assert.equal(await socksEcho(socks, echo.port), 0);
        // Refused targets are reported, whichever path carried the request.
        // Port 1 on loopback: nothing listens there, so the connection is refused
        // (a just-freed ephemeral port could be taken by a parallel test).
        assert.equal(await socksEcho(socks, 1), 5);
      });
    }

    await t.step(
      "the native path applies the forwarding policy (reserved names refused: 02)",
      async () => {
        const socks = await connectVia(urls.quic, [
          "--tls-fingerprint",
          fp,
          "--data-path",
          "direct",
        ]);
        const { reply, conn } = await socks5Connect(socks, { host: "alknet-control", port: 1 });
        conn.close();
        assert.equal(reply, 2);
      },
    );

    await t.step("stealth: an HTTPS and an HTTP/2 probe see an ordinary web site", async () => {
      for (const flags of [["--http1.1"], ["--http2"]]) {
        const r = await run("curl", [
          "-sk",
          "-D",
          "-",
          ...flags,
          `https://127.0.0.1:${await port("tls")}/`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^HTTP\/(1\.1|2) 200/);
        assert.match(r.stdout, /server: nginx/i);
        assert.match(r.stdout, /content-length: \d+/i);
        assert.doesNotMatch(r.stdout, /alknet/i);
        const missing = await run("curl", [
          "-sk",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          ...flags,
          `https://127.0.0.1:${await port("tls")}/nope`,
        ]);
        assert.equal(missing.stdout, "404");
      }
    });

    await t.step(
      "stealth: ALPN alknet/ssh is refused with alert 120, as nginx refuses it (OpenSSH over TLS without stealth: transport_ssh_test)",
      async () => {
        const r = await run("openssl", [
          "s_client",
          "-connect",
          `127.0.0.1:${await port("tls")}`,
          "-alpn",
          "alknet/ssh",
        ], { stdin: "", timeoutMs: 20_000 });
        assert.match(r.stdout + r.stderr, /alert number 120/);
      },
    );

    await t.step("alknet call over ssh://, tls:// and ws://", async () => {
      const targets = [
        [`ssh://127.0.0.1:${tcpPort}`, [
          "--host-key-fingerprint",
          (await server.waitFor(/host_key=(\S+)/))[1],
        ]],
        [urls.tls, ["--insecure"]],
        [urls.ws, []],
      ] as [string, string[]][];
      for (const [target, extra] of targets) {
        const ping = await runAlknet([
          "call",
          target,
          "node/ping",
          '{"x":1}',
          "--identity",
          id.path,
          ...extra,
        ]);
        assert.equal(ping.code, 0, `${target}: ${ping.stderr}`);
        assert.deepEqual(JSON.parse(ping.stdout), { x: 1 });
        const ticks = await runAlknet([
          "call",
          target,
          "node/ticks",
          '{"count":3,"interval_ms":1}',
          "--identity",
          id.path,
          ...extra,
        ]);
        assert.equal(ticks.code, 0, ticks.stderr);
        assert.deepEqual(ticks.stdout.trim().split("\n").map((l) => JSON.parse(l)), [{ n: 1 }, {
          n: 2,
        }, { n: 3 }]);
        const list = await runAlknet([
          "call",
          target,
          "services/list",
          "{}",
          "--identity",
          id.path,
          ...extra,
        ]);
        assert.equal(list.code, 0, list.stderr);
        assert.ok(JSON.stringify(JSON.parse(list.stdout)).includes("node/info"));
      }
      const info = await runAlknet(["call", urls.ws, "node/info", "--identity", id.path]);
      assert.equal(info.code, 0, info.stderr);
      assert.ok(JSON.parse(info.stdout).listeners.length >= 5);
      for (const [target, extra] of [[urls.ws, []], [urls.tls, ["--insecure"]]] as const) {
        const bad = await runAlknet([
          "call",
          target,
          "node/ping",
          "{}",
          "--token",
          "not-a-token",
          ...extra,
        ]);
        assert.equal(bad.code, 4, `${target}: ${bad.stderr}`);
      }
    });
  } finally {
    for (const c of clients) await c.stop();
    await server.stop();
    await echo.close();
    await Deno.remove(dir, { recursive: true });
  }
});
