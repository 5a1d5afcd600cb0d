import assert from "node:assert/strict";
import { connectSsh } from "@alknet/core/ssh";
import { generateEd25519Key, parsePrivateKey } from "@alknet/core";
import {
  echoServer,
  keyDir,
  readExactly,
  socks5Connect,
  startConnect,
  startServe,
} from "./helpers.ts";

/** Attempts logins with keys the server does not know, `count` times, `parallel` at once. */
async function attack(
  port: number,
  hostFp: string,
  count: number,
  parallel: number,
): Promise<number> {
  const stranger = parsePrivateKey(generateEd25519Key("attacker").privateText, "attacker");
  let refused = 0;
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) {
      next++;
      try {
        const s = await connectSsh({
          host: "::1",
          port,
          identity: stranger,
          hostKey: { pinnedFingerprint: hostFp },
          readyTimeoutMs: 5000,
        });
        s.close();
      } catch {
        refused++;
      }
    }
  }));
  return refused;
}

Deno.test("200 bad logins from one address are refused and penalised; a legitimate client keeps working", async () => {
  const { dir, host } = await keyDir();
  const echo = echoServer();
  const server = await startServe(dir, [], { listen: ["127.0.0.1:0", "[::1]:0"] });
  const v6 = Number((await server.proc.waitFor(/listening addr=\[::1\]:(\d+)/))[1]);
  const client = await startConnect(dir, server.port);
  try {
    const { reply, conn } = await socks5Connect(client.socksPort, {
      host: "127.0.0.1",
      port: echo.port,
    });
    assert.equal(reply, 0);
    const during = attack(v6, host.fingerprint, 200, 8);
    // The legitimate client (from 127.0.0.1) is served while the attack (from ::1) runs.
    for (let i = 0; i < 50; i++) {
      await conn.write(new Uint8Array(1024).fill(i));
      assert.equal((await readExactly(conn, 1024))[0], i);
    }
    assert.equal(await during, 200, "every bad login failed");
    conn.close();
    const lines = server.proc.lines;
    const authRejects = lines.filter((l) => /auth result=reject remote=\[::1\]/.test(l)).length;
    const penalised = lines.filter((l) =>
      /conn rejected remote=\[::1\]:\d+ .*reason=penalty/.test(l)
    ).length;
    assert.ok(authRejects >= 5 && authRejects < 40, `auth rejects: ${authRejects}`);
    assert.ok(penalised > 150, `penalty refusals: ${penalised}`);
    assert.ok(
      !lines.some((l) => /remote=127\.0\.0\.1.*reason=penalty/.test(l)),
      "the good address is not penalised",
    );
    const after = await socks5Connect(client.socksPort, { host: "127.0.0.1", port: echo.port });
    assert.equal(after.reply, 0);
    after.conn.close();
  } finally {
    await client.proc.stop();
    await server.proc.stop();
    await echo.close();
    await Deno.remove(dir, { recursive: true });
  }
});
