import assert from "node:assert/strict";
import {
  AuthorizedKeysAuthenticator,
  connectSsh,
  connToDuplex,
  generateEd25519Key,
  Logger,
  parsePrivateKey,
  SshServer,
} from "@alknet/core";
import {
  decoySite,
  type DialOptions,
  listenEndpoint,
  transportDialer,
  type TransportScheme,
} from "../core/transport/mod.ts";
import { requireTool, runCmd, testCert } from "./transport_util.ts";

function headersOf(out: string): Map<string, string> {
  const m = new Map<string, string>();
  const head = out.split(/\r?\n\r?\n/)[0];
  for (const line of head.split(/\r?\n/).slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) m.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  return m;
}

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

Deno.test("stealth TLS endpoint: curl (HTTP/1.1, HTTP/2), openssl s_client see an nginx site; SSH works on the same port", async () => {
  await requireTool("curl");
  await requireTool("openssl");
  const { ck } = await testCert();
  const host = generateEd25519Key("host");
  const client = generateEd25519Key("client");
  const lines: string[] = [];
  const server = new SshServer({
    hostKeys: [parsePrivateKey(host.privateText, "host")],
    authenticator: AuthorizedKeysAuthenticator.fromText(client.publicLine, "inline"),
    policy: { evaluate: () => "allow" },
    logger: new Logger("text", (l) => lines.push(l)),
  });
  const ep = await listenEndpoint("tls://127.0.0.1:0", {
    ...ck,
    stealth: true,
    handlers: {
      ssh: (conn, info) =>
        server.handle(
          connToDuplex(conn, { remoteAddress: info.remoteAddress, remotePort: info.remotePort }),
          info,
        ),
      // What the call carrier answers without a token: must never leak in stealth mode.
      http: (req) =>
        new URL(req.url).pathname === "/alknet/call"
          ? new Response("401 Unauthorized\n", {
            status: 401,
            headers: { "www-authenticate": 'Bearer realm="alknet"' },
          })
          : null,
    },
  });
  const base = `https://127.0.0.1:${ep.addr.port}`;
  const seen: string[] = [];
  try {
    const get = await runCmd("curl", ["-sk", "-i", "--http1.1", `${base}/`]);
    seen.push(get.stdout);
    assert.match(get.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    const h = headersOf(get.stdout);
    assert.equal(h.get("server"), "nginx");
    assert.equal(h.get("content-type"), "text/html");
    assert.ok(h.has("date") && h.has("last-modified") && h.has("etag"), get.stdout);
    const body = get.stdout.split("\r\n\r\n")[1];
    assert.equal(Number(h.get("content-length")), new TextEncoder().encode(body).length);

    const head = await runCmd("curl", ["-sk", "-I", "--http1.1", `${base}/robots.txt`]);
    seen.push(head.stdout);
    assert.match(head.stdout, /^HTTP\/1\.1 200 OK/);
    assert.equal(headersOf(head.stdout).get("content-length"), "24");

    const h2 = await runCmd("curl", ["-sk", "-i", "--http2", `${base}/missing`]);
    seen.push(h2.stdout);
    assert.match(h2.stdout, /^HTTP\/2 404/);
    assert.equal(headersOf(h2.stdout).get("server"), "nginx");
    assert.match(h2.stdout, /<center>nginx<\/center>/);

    for (const path of ["/alknet/call", "/alknet/ssh"]) {
      const r = await runCmd("curl", ["-sk", "-i", "--http1.1", `${base}${path}`]);
      seen.push(r.stdout);
      assert.match(r.stdout, /^HTTP\/1\.1 404 Not Found/, `${path}: ${r.stdout}`);
    }
    const post = await runCmd("curl", ["-sk", "-i", "-X", "POST", "-d", "x=1", `${base}/`]);
    seen.push(post.stdout);
    assert.match(
      post.stdout,
      /^HTTP\/2 405|^HTTP\/1\.1 405/,
      `curl exit ${post.code}: ${post.stderr}`,
    );

    const s = await runCmd(
      "openssl",
      ["s_client", "-connect", `127.0.0.1:${ep.addr.port}`, "-servername", "localhost", "-ign_eof"],
      15_000,
      "HEAD / HTTP/1.0\r\n\r\n",
    );
    seen.push(s.stdout, s.stderr);
    assert.match(s.stdout, /HTTP\/1\.0 200 OK|HTTP\/1\.1 200 OK/);
    assert.match(s.stdout, /No ALPN negotiated/);
    const h2probe = await runCmd(
      "openssl",
      ["s_client", "-connect", `127.0.0.1:${ep.addr.port}`, "-alpn", "h2,http/1.1"],
      15_000,
      "",
    );
    seen.push(h2probe.stdout);
    assert.match(h2probe.stdout, /ALPN protocol: h2/);

    const all = seen.join("\n");
    assert.ok(!/alknet/i.test(all), "a probe saw something alknet-specific");

    // SSH on the same port: by ALPN, by peek (no ALPN), and as a WebSocket.
    const cases: [TransportScheme, DialOptions][] = [
      ["tls", { caCerts: [ck.cert], serverName: "localhost" }],
      ["tls", { caCerts: [ck.cert], serverName: "localhost", alpn: [] }],
      ["wss", { caCerts: [ck.cert], serverName: "localhost" }],
    ];
    for (const [scheme, opts] of cases) {
      const session = await connectSsh({
        host: "127.0.0.1",
        port: ep.addr.port,
        identity: parsePrivateKey(client.privateText, "client"),
        hostKey: { pinnedFingerprint: host.fingerprint },
        dial: transportDialer(scheme, opts),
      });
      session.close();
      await session.closed;
    }
    const opened = lines.filter((l) => l.includes("conn opened")).map((l) =>
      /transport=(\S+)/.exec(l)?.[1]
    );
    assert.deepEqual(opened, ["tls", "tls", "wss"]);
    assert.ok(lines.every((l) => !l.includes("remote=127.0.0.1:0")));
  } finally {
    await ep.close();
    await server.shutdown(0);
  }
});
