import assert from "node:assert/strict";
import { generateApiKey } from "@alknet/core/auth";
import {
  echoServer,
  keyDir,
  makeKey,
  Proc,
  readExactly,
  runAlknet,
  socks5Connect,
  startConnect,
} from "./helpers.ts";

async function echoThrough(socksPort: number, port: number): Promise<number> {
  const { reply, conn } = await socks5Connect(socksPort, { host: "127.0.0.1", port });
  if (reply === 0) {
    await conn.write(new TextEncoder().encode("hi"));
    assert.equal(new TextDecoder().decode(await readExactly(conn, 2)), "hi");
  }
  conn.close();
  return reply;
}

Deno.test("SIGHUP reload: removed key, open session, new deny rule, invalid file", async () => {
  const { dir, id } = await keyDir();
  const second = await makeKey(dir, "second");
  const echo = echoServer();
  const config = `${dir}/alknet.toml`;
  const write = (keys: string[], rules: string) =>
    Deno.writeTextFile(`${dir}/authorized_keys`, keys.join("\n") + "\n").then(() =>
      Deno.writeTextFile(
        config,
        `[server]\nlisten = ["127.0.0.1:0"]\nhost_key = "${dir}/host"\n\n` +
          `[auth]\nauthorized_keys = "${dir}/authorized_keys"\n\n[forwarding]\ndefault = "allow"\n${rules}`,
      )
    );
  await write([id.publicLine, second.publicLine], "");
  const server = Proc.alknet(["serve", "--config", config]);
  const reloads = () => server.lines.filter((l) => /config (reloaded|rejected)/.test(l)).length;
  const hup = async () => {
    const before = reloads();
    Deno.kill(server.pid, "SIGHUP");
    const deadline = Date.now() + 10_000;
    while (reloads() === before) {
      if (Date.now() > deadline) throw new Error("no reload logged:\n" + server.lines.join("\n"));
      await new Promise((r) => setTimeout(r, 50));
    }
    return server.lines.filter((l) => /config (reloaded|rejected)/.test(l)).at(-1)!;
  };
  try {
    const port = Number((await server.waitFor(/listening addr=127\.0\.0\.1:(\d+)/))[1]);
    // "second" holds a session open across the reload.
    const open = await startConnect(dir, port, [], { identity: second.path });
    assert.equal(await echoThrough(open.socksPort, echo.port), 0);

    // Remove "second" from authorized_keys and deny the echo port.
    await write(
      [id.publicLine],
      `\n[[forwarding.rules]]\naction = "deny"\ntarget = "127.0.0.1:${echo.port}"\n`,
    );
    assert.match(await hup(), /config reloaded/);

    // The open session keeps working, but the new rule applies to its next channel.
    assert.equal(await echoThrough(open.socksPort, echo.port), 2);
    const other = echoServer();
    assert.equal(await echoThrough(open.socksPort, other.port), 0);
    await other.close();

    // The removed key can no longer log in; the remaining one can.
    const refused = await runAlknet([
      "connect",
      `127.0.0.1:${port}`,
      "--identity",
      second.path,
      "--known-hosts",
      `${dir}/known_hosts`,
      "--no-socks5",
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused key/);
    const ok = await startConnect(dir, port);
    await ok.proc.stop();

    // An invalid file is refused and the old configuration stays in force.
    await Deno.writeTextFile(config, `[server]\nlisten = 7\nbogus = true\n`);
    const line = await hup();
    assert.match(line, /config rejected/);
    assert.match(line, /alknet\.toml/);
    assert.equal(
      await echoThrough(open.socksPort, echo.port),
      2,
      "the deny rule is still in force",
    );
    const still = await startConnect(dir, port);
    await still.proc.stop();
    await open.proc.stop();
  } finally {
    await server.stop();
    await echo.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve refuses an invalid config file at start with file, line and key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/bad.toml`,
      `[server]\nlisten = ["127.0.0.1:0"]\nhots_key = "x"\n`,
    );
    const r = await runAlknet(["serve", "--config", `${dir}/bad.toml`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.toml:3/);
    assert.match(r.stderr, /hots_key/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("API keys and signed tokens from the configuration are accepted on the call carriers", async () => {
  const { dir, id } = await keyDir();
  const { key, record } = generateApiKey({ scopes: ["relay:connect"] });
  await Deno.writeTextFile(
    `${dir}/alknet.toml`,
    `[server]\nlisten = ["ws://127.0.0.1:0"]\nhost_key = "${dir}/host"\n\n` +
      `[auth]\nauthorized_keys = "${dir}/authorized_keys"\n\n[[auth.api_keys]]\n` +
      `prefix = "${record.prefix}"\nhash = "${record.hash}"\nscopes = ["relay:connect"]\n`,
  );
  const server = Proc.alknet(["serve", "--config", `${dir}/alknet.toml`]);
  try {
    const port = Number(
      (await server.waitFor(/listening addr=127\.0\.0\.1:(\d+) transport=ws/))[1],
    );
    const target = `ws://127.0.0.1:${port}`;
    const viaKey = await runAlknet(["call", target, "node/ping", '{"k":1}', "--token", key]);
    assert.equal(viaKey.code, 0, viaKey.stderr);
    assert.deepEqual(JSON.parse(viaKey.stdout), { k: 1 });
    const viaToken = await runAlknet([
      "call",
      target,
      "node/ping",
      '{"t":1}',
      "--identity",
      id.path,
    ]);
    assert.equal(viaToken.code, 0, viaToken.stderr);
    const wrong = await runAlknet([
      "call",
      target,
      "node/ping",
      "{}",
      "--token",
      key.slice(0, -2) + "xx",
    ]);
    assert.equal(wrong.code, 4);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
