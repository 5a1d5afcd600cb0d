import assert from "node:assert/strict";
import {
  echoServer,
  freePort,
  httpServer,
  keyDir,
  makeKey,
  OPENSSH_CLIENT_OPTIONS,
  Proc,
  readExactly,
  requireTool,
  run,
  socks5Connect,
  startConnect,
  startServe,
  writeSshdConfig,
} from "./helpers.ts";

const SSH_OPTS = [
  ...OPENSSH_CLIENT_OPTIONS,
  "-o",
  "ExitOnForwardFailure=yes",
  "-o",
  "ConnectTimeout=10",
];

async function echoCheck(port: number, host = "127.0.0.1"): Promise<void> {
  const conn = await Deno.connect({ hostname: host, port });
  const data = crypto.getRandomValues(new Uint8Array(65536));
  await conn.write(data);
  const back = await readExactly(conn, data.length);
  conn.close();
  assert.deepEqual(back, data);
}

/** Polls until something accepts on 127.0.0.1:port (bounded). */
async function waitListening(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

Deno.test("the real OpenSSH client against alknet serve: -D, -L, -R, -W, refusals", async (t) => {
  await requireTool("ssh");
  await requireTool("curl");
  const { dir, id } = await keyDir();
  const echo = echoServer();
  const web = httpServer("via ssh -D\n");
  const server = await startServe(dir);
  const base = [...SSH_OPTS, "-i", id.path, "-p", String(server.port)];
  try {
    await t.step("ssh -N -D serves SOCKS through alknet", async () => {
      const dport = freePort();
      const ssh = Proc.spawn("ssh", [
        ...base,
        "-N",
        "-D",
        `127.0.0.1:${dport}`,
        "tester@127.0.0.1",
      ]);
      try {
        await waitListening(dport);
        const r = await run("curl", [
          "-sS",
          "--max-time",
          "10",
          "--socks5-hostname",
          `127.0.0.1:${dport}`,
          `http://localhost:${web.port}/`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, "via ssh -D\n");
      } finally {
        await ssh.stop();
      }
    });
    await t.step("ssh -N -L", async () => {
      const lport = freePort();
      const ssh = Proc.spawn("ssh", [
        ...base,
        "-N",
        "-L",
        `${lport}:127.0.0.1:${echo.port}`,
        "tester@127.0.0.1",
      ]);
      try {
        await waitListening(lport);
        await echoCheck(lport);
      } finally {
        await ssh.stop();
      }
    });
    await t.step("ssh -N -R", async () => {
      const rport = freePort();
      const ssh = Proc.spawn("ssh", [
        ...base,
        "-v",
        "-N",
        "-R",
        `${rport}:127.0.0.1:${echo.port}`,
        "tester@127.0.0.1",
      ]);
      try {
        await ssh.waitFor(/remote forward success/);
        await echoCheck(rport);
      } finally {
        await ssh.stop();
      }
    });
    await t.step("ssh -W host:port", async () => {
      const r = await run("ssh", [...base, "-W", `127.0.0.1:${echo.port}`, "tester@127.0.0.1"], {
        stdin: "ping through -W\n",
        timeoutMs: 20_000,
      });
      assert.equal(r.stdout, "ping through -W\n", r.stderr);
    });
    await t.step("a shell or a command is refused", async () => {
      const r = await run("ssh", [...base, "tester@127.0.0.1", "echo", "hi"], {
        timeoutMs: 20_000,
      });
      assert.notEqual(r.code, 0);
      assert.doesNotMatch(r.stdout, /hi/);
    });
    await t.step("an unknown key is rejected", async () => {
      const stranger = await makeKey(dir, "stranger");
      const r = await run("ssh", [
        ...SSH_OPTS,
        "-i",
        stranger.path,
        "-p",
        String(server.port),
        "-W",
        `127.0.0.1:${echo.port}`,
        "tester@127.0.0.1",
      ], { stdin: "", timeoutMs: 20_000 });
      assert.equal(r.code, 255);
      assert.match(r.stderr, /Permission denied \(publickey\)/);
      await server.proc.waitFor(
        new RegExp(`auth result=reject .*fp=${stranger.fingerprint.replace(/[+/]/g, "\\$&")}`),
      );
    });
    await t.step("password and keyboard-interactive are not offered", async () => {
      const r = await run("ssh", [
        "-F",
        "/dev/null",
        "-v",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "PubkeyAuthentication=no",
        "-o",
        "PreferredAuthentications=password,keyboard-interactive",
        "-p",
        String(server.port),
        "tester@127.0.0.1",
      ], { stdin: "", timeoutMs: 20_000 });
      assert.equal(r.code, 255);
      assert.match(r.stderr, /Authentications that can continue: publickey\r?\n/);
      assert.doesNotMatch(r.stderr, /can continue: .*(password|keyboard)/);
    });
  } finally {
    await server.proc.stop();
    await echo.close();
    await web.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("alknet connect against a real OpenSSH sshd", async () => {
  await requireTool("ssh-keygen");
  const sshd = "/usr/sbin/sshd";
  try {
    await Deno.stat(sshd);
  } catch {
    throw new Error(
      "OpenSSH sshd is not installed at /usr/sbin/sshd; run .ci/run (it installs openssh-server)",
    );
  }
  const { dir, id } = await keyDir();
  const echo = echoServer();
  const user = (await run("id", ["-un"])).stdout.trim();
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/sshd_host`]);
  const port = freePort();
  const sshdConfig = await writeSshdConfig(dir, {
    port,
    hostKey: `${dir}/sshd_host`,
    authorizedKeys: `${dir}/authorized_keys`,
    extra: ["LogLevel VERBOSE"],
  });
  const daemon = Proc.spawn(sshd, ["-D", "-e", "-f", sshdConfig]);
  try {
    await daemon.waitFor(/Server listening on 127\.0\.0\.1 port/);
    const client = await startConnect(dir, port, [
      "--user",
      user,
      "-R",
      `0:127.0.0.1:${echo.port}`,
    ]);
    try {
      const { reply, conn } = await socks5Connect(client.socksPort, {
        host: "127.0.0.1",
        port: echo.port,
      });
      assert.equal(reply, 0);
      const data = new Uint8Array(200_000).map((_, i) => (i * 7919) & 255);
      await conn.write(data);
      assert.deepEqual(await readExactly(conn, data.length), data);
      conn.close();
      const m = await client.proc.waitFor(/forward listening kind=remote port=(\d+)/);
      await echoCheck(Number(m[1]));
      await daemon.waitFor(new RegExp(`Accepted publickey for ${user}`));
      assert.ok(id.fingerprint.startsWith("SHA256:"));
    } finally {
      await client.proc.stop();
    }
  } finally {
    await daemon.stop();
    await echo.close();
    await Deno.remove(dir, { recursive: true });
  }
});
