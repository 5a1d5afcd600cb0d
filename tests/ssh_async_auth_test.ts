// The SSH server's public-key check waits for an authenticator (or identity
// provider) that answers later: the real `ssh` and an ssh2 client log in
// through one; a rejected answer or a throw is a refusal; a hung one is cut
// by the pre-auth timeout; a client gone before the answer leaves no session
// counted behind.
import assert from "node:assert/strict";
import {
  AuthorizedKeysAuthenticator,
  generateEd25519Key,
  parsePrivateKey,
  type SshAuthDecision,
  type SshAuthenticator,
  type SshAuthRequest,
} from "@alknet/core/auth";
import { connectSsh, SshServer } from "@alknet/core/ssh";
import { ConnectionLimiter, Logger } from "@alknet/core/transport";
import { echoServer, OPENSSH_CLIENT_OPTIONS, requireTool, run } from "./helpers.ts";
import { listenSsh } from "./ssh_server_util.ts";

const host = generateEd25519Key("host");
const me = generateEd25519Key("me");
const stranger = generateEd25519Key("stranger");
const keys = AuthorizedKeysAuthenticator.fromText(me.publicLine, "inline");

/** An SshServer behind a tcp:// endpoint, admitting connections as a node does. */
async function setup(authenticator: SshAuthenticator, limiter = new ConnectionLimiter()) {
  const lines: string[] = [];
  const echo = echoServer();
  const ssh = new SshServer({
    hostKeys: [parsePrivateKey(host.privateText, "host")],
    authenticator,
    policy: { evaluate: () => "allow" },
    logger: new Logger("text", (l) => lines.push(l)),
    limiter,
    preauthTimeoutMs: 1500,
  });
  const ep = await listenSsh(ssh);
  return {
    port: ep.addr.port,
    echoPort: echo.port,
    lines,
    login: (key = me.privateText, readyTimeoutMs = 10_000) =>
      connectSsh({
        host: "127.0.0.1",
        port: ep.addr.port,
        identity: parsePrivateKey(key, "k"),
        hostKey: { pinnedFingerprint: host.fingerprint },
        readyTimeoutMs,
      }),
    async close() {
      await ssh.shutdown(0);
      await ep.close();
      await echo.close();
    },
  };
}

const later = (req: SshAuthRequest, ms = 20): Promise<SshAuthDecision> =>
  new Promise((r) => setTimeout(() => r(keys.authorize(req)), ms));

/** Polls (bounded) until `pred` holds. */
async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("async authenticator: ssh2 and the real ssh log in; unknown keys, rejections and throws are refused", async () => {
  await requireTool("ssh");
  let mode: "later" | "reject" | "throw" = "later";
  const env = await setup({
    authorize(req) {
      if (mode === "throw") throw new Error("provider down");
      if (mode === "reject") return Promise.reject(new Error("database down"));
      return later(req);
    },
  });
  const dir = await Deno.makeTempDir({ prefix: "alknet-async-auth-" });
  try {
    (await env.login()).close();
    await assert.rejects(env.login(stranger.privateText));

    // OpenSSH asks whether the key is acceptable first (answered later: PK_OK), then signs.
    await Deno.writeTextFile(`${dir}/id`, me.privateText, { mode: 0o600 });
    const r = await run("ssh", [
      ...OPENSSH_CLIENT_OPTIONS,
      "-i",
      `${dir}/id`,
      "-p",
      String(env.port),
      "-W",
      `127.0.0.1:${env.echoPort}`,
      "me@127.0.0.1",
    ], { stdin: "through a later answer\n", timeoutMs: 30_000 });
    assert.equal(r.stdout, "through a later answer\n", r.stderr);

    for (const m of ["reject", "throw"] as const) {
      mode = m;
      await assert.rejects(env.login());
    }
    const failed = env.lines.filter((l) =>
      /auth result=reject .*reason="?authenticator failed/.test(l)
    );
    assert.ok(failed.length >= 2, env.lines.join("\n"));
  } finally {
    await env.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("async authenticator: a hung answer is cut by the pre-auth timeout; a client gone before the answer leaves no session behind", async () => {
  const held: (() => void)[] = [];
  let hold = true;
  const limiter = new ConnectionLimiter({ maxSessionsPerIdentity: 1 });
  // Clients ask whether a key is acceptable, then send it signed: the first
  // request of a connection is answered at once, later ones are held.
  const asked = new Map<number, number>();
  const env = await setup({
    authorize(req) {
      const n = (asked.get(req.remotePort) ?? 0) + 1;
      asked.set(req.remotePort, n);
      if (!hold || n === 1) return keys.authorize(req);
      return new Promise((resolve) => held.push(() => resolve(keys.authorize(req))));
    },
  }, limiter);
  try {
    // Never answered: the server closes the connection at the pre-auth timeout.
    await assert.rejects(env.login(me.privateText, 10_000));
    await until(() => env.lines.some((l) => /reason=preauth-timeout/.test(l)), "preauth-timeout");

    // The client gives up first; the answer (a yes) comes after it has gone.
    const before = held.length;
    await assert.rejects(env.login(me.privateText, 300));
    await until(() => held.length > before, "the held answer");
    await until(
      () => env.lines.filter((l) => / conn closed /.test(l)).length >= 2,
      "the server to see both closes",
    );
    const authLines = () => env.lines.filter((l) => / auth /.test(l)).length;
    const seen = authLines();
    for (const release of held.splice(0)) release();
    await new Promise((r) => setTimeout(r, 100));
    // Nothing is decided, logged or counted for a connection that has gone.
    assert.equal(authLines(), seen, env.lines.join("\n"));

    // With one session allowed per identity, the same key still logs in.
    hold = false;
    const s = await env.login();
    s.close();
  } finally {
    for (const release of held.splice(0)) release();
    await env.close();
  }
});
