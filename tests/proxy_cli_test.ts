import assert from "node:assert/strict";
import {
  echoServer,
  keyDir,
  Proc,
  readExactly,
  socks5Connect,
  startConnect,
  startServe,
} from "./helpers.ts";

async function echoOnce(socksPort: number, echoPort: number, text: string): Promise<void> {
  const { reply, conn } = await socks5Connect(socksPort, { host: "127.0.0.1", port: echoPort });
  assert.equal(reply, 0);
  await conn.write(new TextEncoder().encode(text));
  assert.equal(new TextDecoder().decode(await readExactly(conn, text.length)), text);
  conn.close();
}

Deno.test("connect --proxy and serve --egress-proxy chain through an upstream SOCKS5 proxy", async () => {
  const { dir } = await keyDir();
  const echo = echoServer();
  const guarded = echoServer();
  // The upstream proxy is itself an alknet SOCKS5 proxy (connect A -> serve A); node A
  // refuses the `guarded` target, so traffic that went through it is recognisable.
  await Deno.writeTextFile(
    `${dir}/a.toml`,
    `[[forwarding.rules]]\naction = "deny"\ntarget = "127.0.0.1:${guarded.port}"\n`,
  );
  const serveA = await startServe(dir, ["--config", `${dir}/a.toml`]);
  const upstream = await startConnect(dir, serveA.port);
  const procs: Proc[] = [upstream.proc, serveA.proc];
  try {
    // Client B reaches node A through the upstream proxy, naming it by host name.
    const b = Proc.alknet([
      "connect",
      `localhost:${serveA.port}`,
      "--proxy",
      `socks5://127.0.0.1:${upstream.socksPort}`,
      "--identity",
      `${dir}/id`,
      "--known-hosts",
      `${dir}/known_hosts_b`,
      "--socks5",
      "127.0.0.1:0",
    ]);
    procs.push(b);
    const bSocks = Number((await b.waitFor(/socks5 listening addr=127\.0\.0\.1:(\d+)/))[1]);
    await echoOnce(bSocks, echo.port, "via --proxy");

    // Node C sends its outbound tunnel traffic through the upstream proxy.
    const serveC = await startServe(dir, [
      "--egress-proxy",
      `socks5://127.0.0.1:${upstream.socksPort}`,
    ]);
    procs.push(serveC.proc);
    const c = await startConnect(dir, serveC.port);
    procs.push(c.proc);
    await echoOnce(c.socksPort, echo.port, "via --egress-proxy");
    // Node C's outbound connection to the guarded target went through node A, which refused it.
    const refused = await socks5Connect(c.socksPort, { host: "127.0.0.1", port: guarded.port });
    refused.conn.close();
    assert.notEqual(refused.reply, 0, "the egress went through the proxy (node A refused it)");
    // B, whose session is on node A, gets the policy refusal itself (02).
    const direct = await socks5Connect(bSocks, { host: "127.0.0.1", port: guarded.port });
    direct.conn.close();
    assert.equal(direct.reply, 2, "node A's policy refuses the guarded target");
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await echo.close();
    await guarded.close();
    await Deno.remove(dir, { recursive: true });
  }
});
