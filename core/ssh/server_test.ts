import assert from "node:assert/strict";
import { Logger } from "../util/log.ts";
import { generateEd25519Key, parsePrivateKey } from "../auth/ssh_keys.ts";
import { AuthorizedKeysAuthenticator } from "../auth/authenticator.ts";
import { ConnectionLimiter } from "../transport/limits.ts";
import { listenSsh } from "../../tests/ssh_server_util.ts";
import { connectSsh, SshConnectError } from "./client.ts";
import { SshServer } from "./server.ts";

/** An SshServer behind a tcp:// endpoint, admitting connections as a node does. */
async function setup(limiter: ConnectionLimiter, preauthTimeoutMs?: number) {
  const host = generateEd25519Key("host");
  const good = generateEd25519Key("good");
  const lines: string[] = [];
  const ssh = new SshServer({
    hostKeys: [parsePrivateKey(host.privateText, "host")],
    authenticator: AuthorizedKeysAuthenticator.fromText(good.publicLine, "inline"),
    policy: { evaluate: () => "allow" },
    logger: new Logger("text", (l) => lines.push(l)),
    limiter,
    preauthTimeoutMs,
  });
  const ep = await listenSsh(ssh);
  const node = {
    port: ep.addr.port,
    async shutdown() {
      await ssh.shutdown(0);
      await ep.close();
    },
  };
  const login = (key: string) =>
    connectSsh({
      host: "127.0.0.1",
      port: node.port,
      identity: parsePrivateKey(key, "k"),
      hostKey: { pinnedFingerprint: host.fingerprint },
      readyTimeoutMs: 5000,
    });
  return { node, lines, login, good };
}

Deno.test("a failed login penalises the address until the window passes", async () => {
  const limiter = new ConnectionLimiter({ penaltyAfterFailures: 1, penaltySeconds: 1 });
  const { node, lines, login, good } = await setup(limiter);
  try {
    const stranger = generateEd25519Key("stranger").privateText;
    await assert.rejects(login(stranger), SshConnectError);
    // Give the server a moment to see the close.
    for (let i = 0; i < 50 && limiter.penaltyRemaining("127.0.0.1") === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await assert.rejects(login(good.privateText), SshConnectError);
    assert.ok(lines.some((l) => /conn rejected .*reason=penalty/.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => /auth result=reject .*reason=unknown|auth result=reject/.test(l)));
    // Once the penalty window has passed the good key gets in.
    await new Promise((r) => setTimeout(r, 1100));
    const s = await login(good.privateText);
    s.close();
  } finally {
    await node.shutdown();
  }
});

Deno.test("sessions per identity are limited", async () => {
  const limiter = new ConnectionLimiter({ maxSessionsPerIdentity: 1 });
  const { node, lines, login, good } = await setup(limiter);
  try {
    const first = await login(good.privateText);
    await assert.rejects(login(good.privateText), SshConnectError);
    assert.ok(lines.some((l) => /reason=too-many-sessions/.test(l)));
    first.close();
  } finally {
    await node.shutdown();
  }
});

Deno.test("a client that sends nothing after the banner is dropped at the pre-auth timeout", async () => {
  const { node, lines } = await setup(new ConnectionLimiter(), 300);
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: node.port });
    await conn.write(new TextEncoder().encode("SSH-2.0-silent\r\n"));
    const buf = new Uint8Array(4096);
    let closed = false;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) {
        closed = true;
        break;
      }
    }
    conn.close();
    assert.ok(closed, "server closed the connection");
    assert.ok(lines.some((l) => /conn rejected .*reason=preauth-timeout/.test(l)));
  } finally {
    await node.shutdown();
  }
});
