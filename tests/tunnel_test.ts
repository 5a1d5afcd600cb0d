import assert from "node:assert/strict";
import {
  echoServer,
  httpServer,
  keyDir,
  readExactly,
  requireTool,
  run,
  runAlknet,
  sha256Hex,
  socks5Connect,
  startConnect,
  startServe,
} from "./helpers.ts";

async function echoRoundTrip(conn: Deno.Conn, size: number): Promise<void> {
  const data = crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)));
  const payload = new Uint8Array(size);
  for (let o = 0; o < size; o += data.length) {
    payload.set(data.subarray(0, Math.min(data.length, size - o)), o);
  }
  const writer = (async () => {
    let off = 0;
    while (off < size) off += await conn.write(payload.subarray(off, Math.min(off + 65536, size)));
  })();
  const back = await readExactly(conn, size, 30_000);
  await writer;
  assert.equal(back.length, size, "echo returned fewer bytes than sent");
  assert.equal(await sha256Hex(back), await sha256Hex(payload), "checksum mismatch");
}

Deno.test("alknet connect -> alknet serve: SOCKS5, curl, -L, -R, 50 concurrent transfers, no targets in logs", async (t) => {
  await requireTool("curl");
  const { dir } = await keyDir();
  const echo4 = echoServer("127.0.0.1");
  const echo6 = echoServer("::1");
  const web = httpServer("hello through alknet\n");
  const server = await startServe(dir);
  // Port 0: the client binds and logs the port (a port picked here could be
  // taken by a test running in parallel before the client binds it).
  const client = await startConnect(dir, server.port, [
    "-L",
    `0:127.0.0.1:${echo4.port}`,
    "-R",
    `0:127.0.0.1:${echo4.port}`,
  ]);
  try {
    await t.step("SOCKS5 CONNECT to an IPv4 target", async () => {
      const { reply, conn } = await socks5Connect(client.socksPort, {
        host: "127.0.0.1",
        port: echo4.port,
      });
      assert.equal(reply, 0);
      await echoRoundTrip(conn, 4096);
      conn.close();
    });
    await t.step("SOCKS5 CONNECT to an IPv6 [::1] target", async () => {
      const { reply, conn } = await socks5Connect(client.socksPort, {
        host: "::1",
        port: echo6.port,
      });
      assert.equal(reply, 0);
      await echoRoundTrip(conn, 4096);
      conn.close();
    });
    await t.step("SOCKS5 CONNECT to a domain target (resolved by the server)", async () => {
      const { reply, conn } = await socks5Connect(client.socksPort, {
        host: "localhost",
        port: echo4.port,
        atyp: 3,
      });
      assert.equal(reply, 0);
      await echoRoundTrip(conn, 4096);
      conn.close();
    });
    await t.step("curl --socks5-hostname GET", async () => {
      const r = await run("curl", [
        "-sS",
        "--max-time",
        "10",
        "--socks5-hostname",
        `127.0.0.1:${client.socksPort}`,
        `http://localhost:${web.port}/`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hello through alknet\n");
    });
    await t.step(
      "refused target -> 05; reserved alknet-* (alknet-control too) -> 02 at the client",
      async () => {
        // Nothing listens on port 1 (a just-freed ephemeral port could be reused by a parallel test).
        const dead = 1;
        const a = await socks5Connect(client.socksPort, { host: "127.0.0.1", port: dead });
        assert.equal(a.reply, 5);
        a.conn.close();
        // The node's own services are not for local programs using the proxy: the client
        // refuses them itself (the call protocol is reached with connectCall over ssh://).
        for (const host of ["alknet-control", "alknet-anything", "ALKNET-Control"]) {
          const c = await socks5Connect(client.socksPort, { host, port: 80 });
          assert.equal(c.reply, 2, host);
          c.conn.close();
        }
      },
    );
    await t.step("-L carries data both ways", async () => {
      const m = await client.proc.waitFor(/forward listening kind=local addr=127\.0\.0\.1:(\d+)/);
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(m[1]) });
      await echoRoundTrip(conn, 256 * 1024);
      conn.close();
    });
    await t.step("-R carries data both ways", async () => {
      const m = await client.proc.waitFor(/forward listening kind=remote port=(\d+)/);
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(m[1]) });
      await echoRoundTrip(conn, 256 * 1024);
      conn.close();
    });
    await t.step(
      "50 concurrent SOCKS connections, 1 MiB each way, checksums verified",
      async () => {
        await Promise.all(
          Array.from({ length: 50 }, async () => {
            const { reply, conn } = await socks5Connect(client.socksPort, {
              host: "127.0.0.1",
              port: echo4.port,
            });
            assert.equal(reply, 0);
            await echoRoundTrip(conn, 1024 * 1024);
            conn.close();
          }),
        );
      },
    );
    await t.step("bad SOCKS input gets clear answers and the proxy keeps serving", async () => {
      // SOCKS4 greeting: SOCKS4 rejection (0x5B) and close.
      const s4 = await Deno.connect({ hostname: "127.0.0.1", port: client.socksPort });
      await s4.write(new Uint8Array([4, 1, 0, 80, 127, 0, 0, 1, 0]));
      const r4 = await readExactly(s4, 8);
      assert.equal(r4[1], 91);
      s4.close();
      // BIND -> 07.
      const bind = await Deno.connect({ hostname: "127.0.0.1", port: client.socksPort });
      await bind.write(new Uint8Array([5, 1, 0]));
      await readExactly(bind, 2);
      await bind.write(new Uint8Array([5, 2, 0, 1, 127, 0, 0, 1, 0, 80]));
      assert.equal((await readExactly(bind, 10))[1], 7);
      bind.close();
      // Unknown ATYP -> 08.
      const atyp = await Deno.connect({ hostname: "127.0.0.1", port: client.socksPort });
      await atyp.write(new Uint8Array([5, 1, 0]));
      await readExactly(atyp, 2);
      await atyp.write(new Uint8Array([5, 1, 0, 9, 1, 2, 3, 4, 0, 80]));
      assert.equal((await readExactly(atyp, 10))[1], 8);
      atyp.close();
      // Truncated greeting and truncated request, then hang up.
      for (const bytes of [[5], [5, 2, 0], [5, 1, 0, 5, 1, 0, 3, 10, 97]]) {
        const c = await Deno.connect({ hostname: "127.0.0.1", port: client.socksPort });
        await c.write(new Uint8Array(bytes));
        c.close();
      }
      // Still serving.
      const ok = await socks5Connect(client.socksPort, { host: "127.0.0.1", port: echo4.port });
      assert.equal(ok.reply, 0);
      await echoRoundTrip(ok.conn, 1024);
      ok.conn.close();
    });
    await t.step("no log line names a tunnel target", () => {
      const lines = [...server.proc.lines, ...client.proc.lines];
      assert.ok(lines.some((l) => l.includes("auth result=accept")), "server logged the login");
      for (const port of [echo4.port, echo6.port, web.port]) {
        const re = new RegExp(`\\b${port}\\b`);
        const bad = lines.filter((l) => re.test(l));
        assert.deepEqual(bad, [], `target port ${port} appears in logs`);
      }
      const named = lines.filter((l) => /localhost|::1\]:(?!\d+ transport)/.test(l));
      assert.deepEqual(named, [], "a target host appears in logs");
    });
  } finally {
    await client.proc.stop();
    const status = await server.proc.stop("SIGTERM");
    assert.equal(status.code, 0, "serve exits 0 after SIGTERM");
    await echo4.close();
    await echo6.close();
    await web.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("alknet serve listens on IPv6; an HTTP client on the SSH port gets the SSH banner and is closed", async () => {
  const { dir } = await keyDir();
  const server = await startServe(dir, [], { listen: ["[::1]:0"] });
  try {
    // The server speaks first, as sshd does (see docs/decisions/hardening.md).
    const conn = await Deno.connect({ hostname: "::1", port: server.port });
    await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const text = new TextDecoder().decode(await readExactly(conn, 200, 5000));
    conn.close();
    assert.match(text, /^SSH-2\.0-alknet\r\n/);
    assert.doesNotMatch(text, /HTTP\/1\.1/);
    // Still serving SSH afterwards.
    const echo = echoServer();
    const client = await startConnect(dir, server.port, [], { server: `[::1]:${server.port}` });
    const { reply, conn: c } = await socks5Connect(client.socksPort, {
      host: "127.0.0.1",
      port: echo.port,
    });
    assert.equal(reply, 0);
    c.close();
    await client.proc.stop();
    await echo.close();
  } finally {
    await server.proc.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI refuses bad input with clear errors", async (t) => {
  const { dir } = await keyDir();
  try {
    await t.step("malformed forward spec", async () => {
      const r = await runAlknet([
        "connect",
        "127.0.0.1:1",
        "--identity",
        `${dir}/id`,
        "-L",
        "80:web",
      ]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /-L: forward '80:web' must be \[bind_address:\]port:host:hostport/);
      const r2 = await runAlknet([
        "connect",
        "127.0.0.1:1",
        "--identity",
        `${dir}/id`,
        "-R",
        "99999:h:1",
      ]);
      assert.equal(r2.code, 2);
      assert.match(r2.stderr, /out of range/);
    });
    await t.step("missing identity and missing key file", async () => {
      const r = await runAlknet(["connect", "127.0.0.1:1"], { env: { ALKNET_IDENTITY: "" } });
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /--identity PATH \(or ALKNET_IDENTITY\) or --vault KEYSTORE is required/,
      );
      const r2 = await runAlknet(["connect", "127.0.0.1:1", "--identity", `${dir}/nope`]);
      assert.equal(r2.code, 1);
      assert.match(r2.stderr, /nope: no such key file/);
      const r3 = await runAlknet(["serve", "--listen", "127.0.0.1:0", "--host-key", `${dir}/nope`]);
      assert.equal(r3.code, 1);
      assert.match(r3.stderr, /nope: no such key file/);
    });
    await t.step("unreadable key file", async () => {
      if (Deno.uid() === 0) {
        // root reads anything: use a directory instead, which is just as unreadable as a key.
        await Deno.mkdir(`${dir}/dirkey`);
        const r = await runAlknet(["connect", "127.0.0.1:1", "--identity", `${dir}/dirkey`]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /is a directory/);
      } else {
        await Deno.writeTextFile(`${dir}/locked`, "x", { mode: 0o000 });
        const r = await runAlknet(["connect", "127.0.0.1:1", "--identity", `${dir}/locked`]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /permission denied/);
      }
    });
    await t.step("PEM key and passphrase-protected key", async () => {
      await requireTool("ssh-keygen");
      await run("ssh-keygen", [
        "-q",
        "-t",
        "rsa",
        "-b",
        "2048",
        "-m",
        "PEM",
        "-N",
        "",
        "-f",
        `${dir}/pem`,
      ]);
      const r = await runAlknet(["connect", "127.0.0.1:1", "--identity", `${dir}/pem`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /PEM key \(RSA PRIVATE KEY\) is not supported/);
      await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret", "-f", `${dir}/enc`]);
      const r2 = await runAlknet(["connect", "127.0.0.1:1", "--identity", `${dir}/enc`]);
      assert.equal(r2.code, 1);
      assert.match(r2.stderr, /protected by a passphrase/);
      const r3 = await runAlknet([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--host-key",
        `${dir}/id.pub`,
      ]);
      assert.equal(r3.code, 1);
      assert.match(r3.stderr, /this is a public key/);
    });
    await t.step(
      "keygen refuses to overwrite without --force; fingerprint matches ssh-keygen",
      async () => {
        const r = await runAlknet(["keygen", "-f", `${dir}/id`]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /already exists \(use --force to overwrite\)/);
        const r2 = await runAlknet(["keygen", "-f", `${dir}/id`, "--force"]);
        assert.equal(r2.code, 0);
        const fp = r2.stdout.trim().split("\n").at(-1)!;
        assert.match(fp, /^SHA256:[A-Za-z0-9+/]{43}$/);
        const st = await Deno.stat(`${dir}/id`);
        assert.equal(st.mode! & 0o777, 0o600);
        const ours = await runAlknet(["fingerprint", `${dir}/id`]);
        const theirs = await run("ssh-keygen", ["-lf", `${dir}/id`]);
        assert.equal(ours.stdout.trim(), fp);
        assert.equal(theirs.stdout.split(" ")[1], fp);
        const pub = await runAlknet(["fingerprint", `${dir}/id.pub`]);
        assert.equal(pub.stdout.trim(), fp);
      },
    );
    await t.step("serve without authorized keys warns loudly", async () => {
      const server = await startServe(dir, [], { authorizedKeys: "" });
      await server.proc.waitFor(/EVERY LOGIN WILL BE REFUSED/);
      await server.proc.stop();
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
