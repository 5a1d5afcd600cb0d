import assert from "node:assert/strict";
import {
  echoServer,
  OPENSSH_CLIENT_OPTIONS,
  Proc,
  readExactly,
  requireTool,
  run,
  runAlknet,
  socks5Connect,
} from "./helpers.ts";

const ENV = { ALKNET_VAULT_PASSPHRASE: "correct horse", ALKNET_KEYSTORE_SCRYPT_LOG_N: "10" };

Deno.test("vault-backed serve and connect; the exported key works with OpenSSH", async () => {
  await requireTool("ssh");
  const dir = await Deno.makeTempDir({ prefix: "alknet-vault-e2e-" });
  const echo = echoServer();
  const procs: Proc[] = [];
  try {
    // Two vaults: one for the node, one for the laptop.
    for (const name of ["node", "laptop"]) {
      const r = await runAlknet(["vault", "init", "--keystore", `${dir}/${name}.ks`], { env: ENV });
      assert.equal(r.code, 0, r.stderr);
    }
    const show = async (name: string) => {
      const r = await runAlknet([
        "vault",
        "show-keys",
        "--keystore",
        `${dir}/${name}.ks`,
        "--format",
        "json",
      ], {
        env: ENV,
      });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const node = await show("node");
    const laptop = await show("laptop");
    await Deno.writeTextFile(`${dir}/authorized_keys`, laptop.identity.ssh_public_key + "\n");

    const serve = Proc.alknet([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--vault",
      `${dir}/node.ks`,
      "--authorized-keys",
      `${dir}/authorized_keys`,
    ], ENV);
    procs.push(serve);
    const m = await serve.waitFor(/listening addr=127\.0\.0\.1:(\d+) .*host_key=(\S+)/);
    const port = Number(m[1]);
    assert.equal(m[2], node.host.fingerprint, "the node's host key is the vault's SSH host key");

    const connect = Proc.alknet([
      "connect",
      `127.0.0.1:${port}`,
      "--vault",
      `${dir}/laptop.ks`,
      "--host-key-fingerprint",
      node.host.fingerprint,
      "--socks5",
      "127.0.0.1:0",
    ], ENV);
    procs.push(connect);
    const s = await connect.waitFor(/socks5 listening addr=127\.0\.0\.1:(\d+)/);
    await serve.waitFor(
      new RegExp(`auth result=accept .*fp=${laptop.identity.fingerprint.replace(/[+/]/g, "\\$&")}`),
    );
    const { reply, conn } = await socks5Connect(Number(s[1]), {
      host: "127.0.0.1",
      port: echo.port,
    });
    assert.equal(reply, 0);
    await conn.write(new TextEncoder().encode("vault"));
    assert.equal(new TextDecoder().decode(await readExactly(conn, 5)), "vault");
    conn.close();

    // alknet call authenticates with the vault's identity too.
    const call = await runAlknet([
      "call",
      `ssh://127.0.0.1:${port}`,
      "node/info",
      "--vault",
      `${dir}/laptop.ks`,
      "--host-key-fingerprint",
      node.host.fingerprint,
    ], { env: ENV });
    assert.equal(call.code, 0, call.stderr);
    assert.equal(JSON.parse(call.stdout).fingerprint, node.host.fingerprint);

    // The identity exported as an OpenSSH key works with the real ssh client.
    const ex = await runAlknet(
      [
        "vault",
        "export-ssh",
        "--keystore",
        `${dir}/laptop.ks`,
        "--key",
        "identity",
        "-f",
        `${dir}/id_vault`,
      ],
      { env: ENV },
    );
    assert.equal(ex.code, 0, ex.stderr);
    const lf = await run("ssh-keygen", ["-lf", `${dir}/id_vault`]);
    assert.equal(lf.stdout.split(" ")[1], laptop.identity.fingerprint);
    const w = await run("ssh", [
      ...OPENSSH_CLIENT_OPTIONS,
      "-i",
      `${dir}/id_vault`,
      "-p",
      String(port),
      "-W",
      `127.0.0.1:${echo.port}`,
      "me@127.0.0.1",
    ], { stdin: "exported key\n", timeoutMs: 20_000 });
    assert.equal(w.stdout, "exported key\n", w.stderr);

    // A wrong passphrase stops serve with a clear error.
    const bad = await runAlknet(
      ["serve", "--listen", "127.0.0.1:0", "--vault", `${dir}/node.ks`],
      { env: { ...ENV, ALKNET_VAULT_PASSPHRASE: "wrong" } },
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /passphrase/i);
  } finally {
    for (const p of procs) await p.stop();
    await echo.close();
    await Deno.remove(dir, { recursive: true });
  }
});
