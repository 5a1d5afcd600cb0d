import assert from "node:assert/strict";
import { echoServer, keyDir, Proc, readExactly, socks5Connect } from "./helpers.ts";
import { startPebble } from "./pebble.ts";

Deno.test("alknet serve --acme-domain gets a certificate from an ACME CA (pebble) and serves tls:// with it", async () => {
  const { dir, id } = await keyDir();
  const p = await startPebble(dir);
  const echo = echoServer();
  await Deno.writeTextFile(`${dir}/pebble-ca.pem`, p.caCert);
  await Deno.writeTextFile(`${dir}/pebble-root.pem`, p.root);
  const procs: Proc[] = [];
  try {
    const server = Proc.alknet([
      "serve",
      "--listen",
      "tls://127.0.0.1:0",
      "--host-key",
      `${dir}/host`,
      "--authorized-keys",
      `${dir}/authorized_keys`,
      "--data-dir",
      `${dir}/data`,
      "--acme-domain",
      "node.alknet-test.example",
      "--acme-directory",
      `https://127.0.0.1:${p.ports.acme}/dir`,
      "--acme-http01",
      `127.0.0.1:${p.ports.http}`,
      "--acme-ca",
      `${dir}/pebble-ca.pem`,
    ]);
    procs.push(server);
    const port = Number(
      (await server.waitFor(/listening addr=127\.0\.0\.1:(\d+) transport=tls/, 60_000))[1],
    );
    // A client that trusts the ACME CA's root verifies the node by name.
    const client = Proc.alknet([
      "connect",
      `tls://127.0.0.1:${port}`,
      "--tls-ca",
      `${dir}/pebble-root.pem`,
      "--tls-server-name",
      "node.alknet-test.example",
      "--identity",
      id.path,
      "--known-hosts",
      `${dir}/known_hosts`,
      "--socks5",
      "127.0.0.1:0",
    ]);
    procs.push(client);
    const socks = Number((await client.waitFor(/socks5 listening addr=127\.0\.0\.1:(\d+)/))[1]);
    const { reply, conn } = await socks5Connect(socks, { host: "127.0.0.1", port: echo.port });
    assert.equal(reply, 0);
    await conn.write(new TextEncoder().encode("acme"));
    assert.equal(new TextDecoder().decode(await readExactly(conn, 4)), "acme");
    conn.close();
    assert.ok(server.lines.some((l) => l.includes("tls acme domains=node.alknet-test.example")));
  } finally {
    for (const proc of procs) await proc.stop();
    await echo.close();
    await p.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
