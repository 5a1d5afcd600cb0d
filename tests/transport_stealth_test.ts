import assert from "node:assert/strict";
import {
  AuthorizedKeysAuthenticator,
  generateEd25519Key,
  mintToken,
  parseAuthorizedKeys,
  parsePrivateKey,
} from "@alknet/core/auth";
import { connect, serve } from "@alknet/core";
import { connectSsh, SshServer } from "@alknet/core/ssh";
import { connToDuplex, Logger } from "@alknet/core/transport";
import {
  decoySite,
  dialTls,
  dialWebSocket,
  listenEndpoint,
  transportDialer,
  WebSocketUpgradeError,
} from "../core/transport/mod.ts";
import {
  NotNativeServiceError,
  openNativeTcp,
  parseSshTarget,
  sshDialer,
} from "../core/ssh/mod.ts";
import { ConfigError, ConfigReloader, renderConfig } from "@alknet/core/config";
import { echoServer } from "./helpers.ts";
import { readAll, requireTool, runCmd, testCert } from "./transport_util.ts";

Deno.test("decoy site: HEAD, conditional GET, 404/405, files from a directory, no traversal", async () => {
  const site = decoySite();
  const head = await site(new Request("http://x/", { method: "HEAD" }));
  assert.equal(head.status, 200);
  assert.equal(head.body, null);
  assert.ok(Number(head.headers.get("content-length")) > 100);
  const etag = head.headers.get("etag")!;
  const cond = await site(new Request("http://x/", { headers: { "if-none-match": etag } }));
  assert.equal(cond.status, 304);
  assert.equal((await site(new Request("http://x/nope"))).status, 404);
  assert.equal((await site(new Request("http://x/", { method: "POST" }))).status, 405);
  const fav = await site(new Request("http://x/favicon.ico"));
  assert.equal(fav.headers.get("content-type"), "image/x-icon");
  assert.equal(new Uint8Array(await fav.arrayBuffer())[2], 1);

  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/www/docs`, { recursive: true });
  await Deno.writeTextFile(`${dir}/www/index.html`, "<h1>my blog</h1>\n");
  await Deno.writeTextFile(`${dir}/www/docs/a.css`, "body{}\n");
  await Deno.writeTextFile(`${dir}/secret.txt`, "secret\n");
  await Deno.symlink(`${dir}/secret.txt`, `${dir}/www/link.txt`);
  const files = decoySite({ dir: `${dir}/www` });
  assert.equal(await (await files(new Request("http://x/"))).text(), "<h1>my blog</h1>\n");
  const css = await files(new Request("http://x/docs/a.css"));
  assert.equal(css.headers.get("content-type"), "text/css");
  await css.body?.cancel();
  for (const p of ["/link.txt", "/../secret.txt", "/%2e%2e/secret.txt", "/docs/../../secret.txt"]) {
    const r = await files(new Request(`http://x${p}`));
    assert.ok(r.status === 404 || r.status === 400, `${p} answered ${r.status}`);
    assert.ok(!(await r.text()).includes("secret"));
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("stealth TLS endpoint: curl, openssl s_client and raw probes see an nginx site; SSH only with a token in the first bytes", async () => {
  await requireTool("curl");
  await requireTool("openssl");
  const { ck } = await testCert();
  const host = generateEd25519Key("host");
  const client = generateEd25519Key("client");
  const key = parsePrivateKey(client.privateText, "client");
  const lines: string[] = [];
  const keys = AuthorizedKeysAuthenticator.fromText(client.publicLine, "inline");
  const server = new SshServer({
    hostKeys: [parsePrivateKey(host.privateText, "host")],
    authenticator: keys,
    policy: { evaluate: () => "allow" },
    logger: new Logger("text", (l) => lines.push(l)),
  });
  const ssh = (
    conn: Parameters<typeof connToDuplex>[0],
    info: { remoteAddress: string; remotePort: number; transport: string },
  ) =>
    server.handle(
      connToDuplex(conn, { remoteAddress: info.remoteAddress, remotePort: info.remotePort }),
      info,
    );
  const eps = await Promise.all(
    ["tls", "wss"].map((scheme) =>
      listenEndpoint(`${scheme}://127.0.0.1:0`, {
        ...ck,
        stealth: true,
        acceptToken: (token) => keys.authorizeToken(token).ok,
        handlers: {
          ssh,
          // What the call carrier answers without a token: must never leak in stealth mode.
          http: (req) =>
            new URL(req.url).pathname === "/alknet/call"
              ? new Response("401 Unauthorized\n", {
                status: 401,
                headers: { "www-authenticate": 'Bearer realm="alknet"' },
              })
              : null,
        },
      })
    ),
  );
  const [ep, wssEp] = eps;
  const base = `https://127.0.0.1:${ep.addr.port}`;
  const seen: string[] = [];
  try {
    assert.deepEqual(ep.alpn, ["http/1.1", "http/1.0", "http/0.9"]);
    const get = await runCmd("curl", ["-sk", "-i", "--http1.1", `${base}/`]);
    seen.push(get.stdout);
    assert.match(get.stdout, /^HTTP\/1\.1 200 OK\r\nServer: nginx\r\nDate: /);
    assert.match(
      get.stdout,
      /\r\nConnection: keep-alive\r\nETag: "[0-9a-f]+-[0-9a-f]+"\r\nAccept-Ranges: bytes\r\n\r\n/,
    );
    const body = get.stdout.split("\r\n\r\n")[1];
    const length = /Content-Length: (\d+)/.exec(get.stdout)?.[1];
    assert.equal(Number(length), new TextEncoder().encode(body).length);

    const head = await runCmd("curl", ["-sk", "-I", "--http1.1", `${base}/robots.txt`]);
    seen.push(head.stdout);
    assert.match(head.stdout, /^HTTP\/1\.1 200 OK/);
    assert.match(head.stdout, /Content-Length: 24\r\n/);

    // No h2 (as an nginx without http2): curl falls back to HTTP/1.1.
    const h2 = await runCmd("curl", ["-sk", "-i", "--http2", `${base}/missing`]);
    seen.push(h2.stdout);
    assert.match(h2.stdout, /^HTTP\/1\.1 404 Not Found/);
    assert.match(h2.stdout, /<hr><center>nginx<\/center>/);

    for (const path of ["/alknet/call", "/alknet/ssh"]) {
      const r = await runCmd("curl", ["-sk", "-i", "--http1.1", `${base}${path}`]);
      seen.push(r.stdout);
      assert.match(r.stdout, /^HTTP\/1\.1 404 Not Found/, `${path}: ${r.stdout}`);
    }
    const post = await runCmd("curl", ["-sk", "-i", "-X", "POST", "-d", "x=1", `${base}/`]);
    seen.push(post.stdout);
    assert.match(
      post.stdout,
      /^HTTP\/1\.1 405 Not Allowed/,
      `curl exit ${post.code}: ${post.stderr}`,
    );

    const s = await runCmd(
      "openssl",
      ["s_client", "-connect", `127.0.0.1:${ep.addr.port}`, "-servername", "localhost", "-ign_eof"],
      15_000,
      "HEAD / HTTP/1.0\r\n\r\n",
    );
    seen.push(s.stdout, s.stderr);
    assert.match(s.stdout, /HTTP\/1\.1 200 OK/);
    assert.match(s.stdout, /No ALPN negotiated/);
    const browser = await runCmd(
      "openssl",
      ["s_client", "-connect", `127.0.0.1:${ep.addr.port}`, "-alpn", "h2,http/1.1"],
      15_000,
      "",
    );
    seen.push(browser.stdout);
    assert.match(browser.stdout, /ALPN protocol: http\/1\.1/);
    for (const port of [ep.addr.port, wssEp.addr.port]) {
      const own = await runCmd(
        "openssl",
        ["s_client", "-connect", `127.0.0.1:${port}`, "-alpn", "alknet/ssh"],
        15_000,
        "",
      );
      assert.match(own.stdout + own.stderr, /alert number 120/);
    }

    // Plain HTTP on the TLS port, and SSH without a token (no ALPN): nginx's answers.
    const plain = await Deno.connect({ hostname: "127.0.0.1", port: ep.addr.port });
    await plain.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const plainAnswer = new TextDecoder().decode(await readAll(plain, 10_000));
    plain.close();
    seen.push(plainAnswer);
    assert.match(
      plainAnswer,
      /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*The plain HTTP request was sent to HTTPS port/,
    );
    const noAlpn = await dialTls("127.0.0.1", ep.addr.port, {
      caCerts: [ck.cert],
      serverName: "localhost",
      alpn: [],
    });
    await noAlpn.write(new TextEncoder().encode("SSH-2.0-OpenSSH_9.6\r\n"));
    const sshAnswer = new TextDecoder().decode(await readAll(noAlpn, 10_000));
    noAlpn.close();
    seen.push(sshAnswer);
    assert.match(sshAnswer, /^HTTP\/1\.1 400 Bad Request\r\nServer: nginx\r\n/);

    const all = seen.join("\n");
    assert.ok(!/alknet/i.test(all), "a probe saw something alknet-specific");

    // A WebSocket upgrade to /alknet/ssh without a token is an ordinary 404.
    const refused = await dialWebSocket(`wss://127.0.0.1:${wssEp.addr.port}/alknet/ssh`, {
      caCerts: [ck.cert],
      serverName: "localhost",
    }).then(() => null, (e) => e);
    assert.ok(refused instanceof WebSocketUpgradeError, String(refused));
    assert.equal(refused.status, 404);
    // A preamble with a token the node does not accept is answered by the web site.
    const stranger = parsePrivateKey(generateEd25519Key("stranger").privateText, "stranger");
    const wrong = await openNativeTcp(
      () =>
        dialTls("127.0.0.1", ep.addr.port, {
          caCerts: [ck.cert],
          serverName: "localhost",
          alpn: ["h2", "http/1.1"],
        }),
      mintToken(stranger.seed!),
      "alknet-ssh",
      22,
    ).then(() => null, (e) => e);
    assert.ok(wrong instanceof NotNativeServiceError, String(wrong));

    // SSH with a token: the preamble over tls://, a bearer token over wss://.
    const token = () => mintToken(key.seed!);
    for (const e of eps) {
      const scheme = e === ep ? "tls" : "wss";
      const session = await connectSsh({
        host: "127.0.0.1",
        port: e.addr.port,
        identity: key,
        hostKey: { pinnedFingerprint: host.fingerprint },
        dial: sshDialer(parseSshTarget(`${scheme}://127.0.0.1:${e.addr.port}`), {
          tlsCaCerts: [ck.cert],
          tlsServerName: "localhost",
          token,
        }),
      });
      session.close();
      await session.closed;
    }
    // The old way (ALPN alknet/ssh) no longer reaches SSH in stealth mode.
    const oldWay = await transportDialer("tls", { caCerts: [ck.cert], serverName: "localhost" })(
      "127.0.0.1",
      ep.addr.port,
    ).then((c) => c.close(), (e) => e);
    assert.ok(oldWay instanceof Error);
    const opened = lines.filter((l) => l.includes("conn opened")).map((l) =>
      /transport=(\S+)/.exec(l)?.[1]
    );
    assert.deepEqual(opened, ["tls", "wss"]);
  } finally {
    await Promise.all(eps.map((e) => e.close()));
    await server.shutdown(0);
  }
});

Deno.test("stealth serve(): connect() gets through over tls:// (native and SSH data paths) and wss://", async () => {
  const { ck } = await testCert();
  const host = generateEd25519Key("host");
  const client = generateEd25519Key("client");
  const echo = echoServer();
  const node = await serve({
    listen: ["tls://127.0.0.1:0", "wss://127.0.0.1:0"],
    hostKey: host.privateText,
    authorizedKeys: parseAuthorizedKeys(client.publicLine, "inline"),
    tls: { cert: ck.cert, key: ck.key },
    stealth: true,
    logger: false,
  });
  try {
    const identity = parsePrivateKey(client.privateText, "client");
    let carried = 0;
    for (const url of node.addresses) {
      for (const dataPath of url.startsWith("tls") ? ["auto", "ssh"] as const : ["auto"] as const) {
        const events: string[] = [];
        const tunnel = await connect(url, {
          identity,
          hostKeyFingerprint: host.fingerprint,
          tlsCaCerts: [ck.cert],
          tlsServerName: "localhost",
          reconnect: false,
          dataPath,
          logger: (r) => events.push(r.event),
        });
        try {
          const stream = await tunnel.openStream("127.0.0.1", echo.port);
          await stream.write(new TextEncoder().encode("through the disguise"));
          await stream.closeWrite?.();
          assert.equal(
            new TextDecoder().decode(await readAll(stream, 10_000)),
            "through the disguise",
          );
          stream.close();
          carried++;
          // On tls:// the auto data path stays native (no fallback to SSH channels).
          assert.ok(!events.includes("data-path fallback"), `${url} ${dataPath}: ${events}`);
        } finally {
          await tunnel.close();
        }
      }
    }
    assert.equal(carried, 3);
  } finally {
    await node.shutdown(0);
    await echo.close();
  }
});

Deno.test("stealth from TOML: [server] stealth, decoy_dir and decoy_upstream reach serve() options; bad values name file, line and key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/alknet.toml`,
      '[server]\nlisten = ["tls://127.0.0.1:0"]\nstealth = true\ndecoy_upstream = "http://127.0.0.1:8080"\n',
    );
    const reloader = await ConfigReloader.create({ path: `${dir}/alknet.toml`, env: {} });
    const o = reloader.serveOptions();
    assert.equal(o.stealth, true);
    assert.equal(o.decoyUpstream, "http://127.0.0.1:8080");
    assert.equal(o.decoyDir, undefined);
    assert.match(
      renderConfig(reloader.config),
      /stealth = true\ndecoy_upstream = "http:\/\/127\.0\.0\.1:8080"/,
    );
    await Deno.writeTextFile(`${dir}/bad.toml`, '[server]\nstealth = "yes"\n');
    const bad = await ConfigReloader.create({ path: `${dir}/bad.toml`, env: {} }).then(
      () => null,
      (e) => e,
    );
    assert.ok(bad instanceof ConfigError);
    assert.match(bad.message, /bad\.toml:2: server\.stealth/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
