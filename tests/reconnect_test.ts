import assert from "node:assert/strict";
import {
  echoServer,
  freePort,
  keyDir,
  makeKey,
  readExactly,
  runAlknet,
  socks5Connect,
  startConnect,
  startServe,
} from "./helpers.ts";

async function socksEcho(socksPort: number, echoPort: number): Promise<void> {
  const { reply, conn } = await socks5Connect(socksPort, { host: "127.0.0.1", port: echoPort });
  assert.equal(reply, 0);
  await conn.write(new TextEncoder().encode("again"));
  assert.equal(new TextDecoder().decode(await readExactly(conn, 5)), "again");
  conn.close();
}

Deno.test("reconnect: kill the server, start it again; the same SOCKS proxy works again and -R comes back", async () => {
  const { dir } = await keyDir();
  const echo = echoServer();
  const port = freePort();
  const listen = [`127.0.0.1:${port}`];
  let server = await startServe(dir, [], { listen });
  const client = await startConnect(dir, port, ["-R", `0:127.0.0.1:${echo.port}`]);
  const remotePorts = () =>
    client.proc.lines.flatMap((l) => l.match(/forward listening kind=remote port=(\d+)/)?.[1] ?? [])
      .map(Number);
  const remoteEcho = async (nth: number) => {
    const deadline = Date.now() + 30_000;
    while (remotePorts().length < nth) {
      if (Date.now() > deadline) {
        throw new Error("no remote forward:\n" + client.proc.lines.join("\n"));
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: remotePorts()[nth - 1] });
    await conn.write(new TextEncoder().encode("-R ok"));
    assert.equal(new TextDecoder().decode(await readExactly(conn, 5)), "-R ok");
    conn.close();
  };
  try {
    await socksEcho(client.socksPort, echo.port);
    await remoteEcho(1);
    await server.proc.stop("SIGKILL");
    await client.proc.waitFor(/tunnel disconnected/);
    server = await startServe(dir, [], { listen });
    const deadline = Date.now() + 30_000;
    while (client.proc.lines.filter((l) => l.includes("tunnel connected")).length < 2) {
      if (Date.now() > deadline) {
        throw new Error("client did not reconnect:\n" + client.proc.lines.join("\n"));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await socksEcho(client.socksPort, echo.port);
    // The -R forward is asked for again on the new session.
    await remoteEcho(2);
  } finally {
    await client.proc.stop();
    await server.proc.stop();
    await echo.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a changed host key is refused, loudly; a pinned fingerprint is enforced", async () => {
  const { dir, host } = await keyDir();
  const port = freePort();
  const listen = [`127.0.0.1:${port}`];
  let server = await startServe(dir, [], { listen });
  try {
    // First use: trusted and saved.
    const first = await startConnect(dir, port);
    await first.proc.waitFor(/trusting new host key/);
    await first.proc.stop();
    await server.proc.stop();
    // Same address, another host key.
    const other = await makeKey(dir, "other_host");
    server = await startServe(dir, [], { listen, hostKey: other.path });
    const r = await runAlknet([
      "connect",
      `127.0.0.1:${port}`,
      "--identity",
      `${dir}/id`,
      "--known-hosts",
      `${dir}/known_hosts`,
      "--no-socks5",
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /host key of \[127\.0\.0\.1\]:\d+ has CHANGED/);
    assert.ok(r.stderr.includes(other.fingerprint), "names the new fingerprint");
    assert.ok(r.stderr.includes(host.fingerprint), "names the known fingerprint");
    // Pinning: the right fingerprint connects, a wrong one is refused.
    const ok = await startConnect(dir, port, ["--host-key-fingerprint", other.fingerprint]);
    await ok.proc.stop();
    const bad = await runAlknet([
      "connect",
      `127.0.0.1:${port}`,
      "--identity",
      `${dir}/id`,
      "--host-key-fingerprint",
      host.fingerprint,
      "--no-socks5",
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /does not match the pinned fingerprint/);
  } finally {
    await server.proc.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
