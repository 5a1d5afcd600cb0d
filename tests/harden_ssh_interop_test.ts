// SSH interoperability with tools nobody here wrote: ssh-keyscan on a plain tcp:// listener
// (the server speaks first), RSA keys restricted to rsa-sha2-512 / rsa-sha2-256 with the real
// OpenSSH client, a well-formed server-sig-algs without SHA-1 or DSA, the banner (no OpenSSH
// release claimed, configurable through [ssh] banner), and Debian's ssh-audit compared with a
// real sshd started by the test.
import assert from "node:assert/strict";
import {
  echoServer,
  freePort,
  keyDir,
  OPENSSH_CLIENT_OPTIONS,
  Proc,
  requireTool,
  run,
  startServe,
  writeSshdConfig,
} from "./helpers.ts";

const SSH_OPTS = [...OPENSSH_CLIENT_OPTIONS, "-o", "ConnectTimeout=10"];

/** The algorithms ssh-audit flags `[fail]` or `[warn]`, as `kind name level`. */
async function auditFindings(port: number): Promise<{ findings: Set<string>; text: string }> {
  const r = await run("ssh-audit", ["-n", "-t", "10", "-p", String(port), "127.0.0.1"], {
    timeoutMs: 60_000,
  });
  // ssh-audit exits non-zero when it finds anything to warn about; the text is what matters.
  assert.match(r.stdout, /\(gen\) banner: SSH-2\.0-/, r.stdout + r.stderr);
  const findings = new Set<string>();
  for (const line of r.stdout.split("\n")) {
    const m = /^\((kex|key|enc|mac)\) (\S+)(?: \([^)]*\))?\s+-- \[(fail|warn)\]/.exec(line);
    if (m) findings.add(`${m[1]} ${m[2]} ${m[3]}`);
  }
  return { findings, text: r.stdout };
}

/** The first line the server sends on a fresh connection, without writing anything. */
async function firstLine(port: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buf = new Uint8Array(256);
  let have = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((r) => timer = setTimeout(() => r(null), 10_000));
  try {
    while (have < buf.length) {
      const n = await Promise.race([conn.read(buf.subarray(have)), late]);
      if (n === null) break;
      have += n;
      if (buf.subarray(0, have).includes(10)) break;
    }
  } finally {
    clearTimeout(timer);
    conn.close();
  }
  return new TextDecoder().decode(buf.subarray(0, have));
}

Deno.test("SSH interop: ssh-keyscan, RSA with rsa-sha2-512/256, server-sig-algs, banner, ssh-audit vs sshd", async (t) => {
  for (const tool of ["ssh", "ssh-keygen", "ssh-keyscan", "ssh-audit", "sshd"]) {
    await requireTool(tool);
  }
  const { dir, host, id } = await keyDir();
  const rsa = `${dir}/rsa`;
  const gen = await run("ssh-keygen", ["-q", "-t", "rsa", "-b", "3072", "-N", "", "-f", rsa]);
  assert.equal(gen.code, 0, gen.stderr);
  await Deno.writeTextFile(
    `${dir}/authorized_keys`,
    id.publicLine + "\n" + await Deno.readTextFile(`${rsa}.pub`),
  );
  const echo = echoServer();
  const server = await startServe(dir);
  const base = [...SSH_OPTS, "-p", String(server.port)];
  try {
    await t.step(
      "the server sends its identification first; it claims no OpenSSH release",
      async () => {
        const line = await firstLine(server.port);
        assert.equal(line, "SSH-2.0-alknet\r\n");
      },
    );

    await t.step("ssh-keyscan prints the host key of a plain tcp:// listener", async () => {
      const r = await run("ssh-keyscan", ["-T", "10", "-p", String(server.port), "127.0.0.1"]);
      assert.equal(r.code, 0, r.stderr);
      const blob = host.publicLine.split(" ")[1];
      assert.ok(
        r.stdout.split("\n").some((l) => l === `[127.0.0.1]:${server.port} ssh-ed25519 ${blob}`),
        r.stdout + r.stderr,
      );
    });

    for (const algo of ["rsa-sha2-512", "rsa-sha2-256"]) {
      await t.step(`an RSA key restricted to ${algo} logs in with the real ssh`, async () => {
        const r = await run("ssh", [
          ...base,
          "-vv",
          "-i",
          rsa,
          "-o",
          `PubkeyAcceptedAlgorithms=${algo}`,
          "-W",
          `127.0.0.1:${echo.port}`,
          "tester@127.0.0.1",
        ], { stdin: `through ${algo}\n`, timeoutMs: 30_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `through ${algo}\n`);
        assert.match(r.stderr, new RegExp(`Server accepts key: .* RSA SHA256:`));
        // server-sig-algs: well formed, every name known, no SHA-1 or DSA.
        const m = /server-sig-algs=<([^>]*)>/.exec(r.stderr);
        assert.ok(m, "the client saw server-sig-algs:\n" + r.stderr);
        const algs = m[1].split(",");
        assert.deepEqual(algs, [
          "ssh-ed25519",
          "ecdsa-sha2-nistp256",
          "ecdsa-sha2-nistp384",
          "ecdsa-sha2-nistp521",
          "rsa-sha2-512",
          "rsa-sha2-256",
        ]);
        // The server's KEXINIT offers hmac-sha2-512-etm@openssh.com.
        const macs = /peer server KEXINIT proposal[\s\S]*?MACs stoc: (\S+)/.exec(r.stderr);
        assert.ok(macs, r.stderr);
        assert.ok(macs[1].split(",").includes("hmac-sha2-512-etm@openssh.com"), macs[1]);
      });
    }

    await t.step("an Ed25519 key still logs in (no mutual-algorithm surprises)", async () => {
      const r = await run("ssh", [
        ...base,
        "-i",
        id.path,
        "-W",
        `127.0.0.1:${echo.port}`,
        "tester@127.0.0.1",
      ], { stdin: "ed25519\n", timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "ed25519\n");
    });

    await t.step(
      "ssh-audit: nothing flagged that a stock sshd is not flagged for too",
      async () => {
        const ours = await auditFindings(server.port);
        assert.doesNotMatch(
          ours.text,
          /ssh-rsa|ssh-dss|sha1|hmac-md5|3des|arcfour|cbc/i,
          ours.text,
        );
        assert.match(ours.text, /\(mac\) hmac-sha2-512-etm@openssh\.com/);
        const sshdPort = freePort();
        const sshdKey = `${dir}/sshd_host`;
        const k = await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", sshdKey]);
        assert.equal(k.code, 0, k.stderr);
        const config = await writeSshdConfig(dir, {
          port: sshdPort,
          hostKey: sshdKey,
          authorizedKeys: `${dir}/authorized_keys`,
        });
        const sshd = Proc.spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config]);
        try {
          await sshd.waitFor(/Server listening on 127\.0\.0\.1 port/);
          const theirs = await auditFindings(sshdPort);
          const extra = [...ours.findings].filter((f) => !theirs.findings.has(f));
          assert.deepEqual(
            extra,
            [],
            `flagged for alknet only:\n${ours.text}\nsshd:\n${theirs.text}`,
          );
        } finally {
          await sshd.stop();
        }
      },
    );
  } finally {
    await server.proc.stop();
    await echo.close();
  }

  await t.step("[ssh] banner in the TOML file sets the identification line", async () => {
    const config = `${dir}/alknet.toml`;
    await Deno.writeTextFile(config, `[ssh]\nbanner = "Example_2.1 a test"\n`);
    const other = await startServe(dir, ["--config", config]);
    try {
      assert.equal(await firstLine(other.port), "SSH-2.0-Example_2.1 a test\r\n");
      const r = await run("ssh-keyscan", ["-T", "10", "-p", String(other.port), "127.0.0.1"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, / ssh-ed25519 /);
    } finally {
      await other.proc.stop();
    }
    await Deno.writeTextFile(config, `[ssh]\nbanner = "has-dash 1"\n`);
    const bad = Proc.alknet(["serve", "--config", config, "--host-key", `${dir}/host`]);
    const status = await bad.wait();
    assert.notEqual(status.code, 0);
    assert.match(bad.lines.join("\n"), /ssh\.banner/);
  });
  await Deno.remove(dir, { recursive: true });
});
