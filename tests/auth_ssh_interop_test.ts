// End to end: the real OpenSSH client logs in to `serve()` with keys and
// certificates judged by AuthorizedKeysAuthenticator, then opens a -W tunnel
// that the per-key restrictions and the RulePolicy decide.
import assert from "node:assert/strict";
import {
  AuthorizedKeysAuthenticator,
  generateEd25519Key,
  parsePrivateKey,
  RulePolicy,
} from "@alknet/core/auth";
import { Logger, serve } from "@alknet/core";

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (out.code !== 0) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
}

interface Env {
  dir: string;
  port: number;
  echoPort: number;
  logs: string[];
}

async function withServer(
  authorizedKeys: (dir: string) => Promise<string>,
  fn: (env: Env) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "alknet-interop-" });
  const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const echoLoop = (async () => {
    for await (const c of echo) {
      c.readable.pipeTo(c.writable).catch(() => {});
    }
  })();
  const logs: string[] = [];
  try {
    const text = await authorizedKeys(dir);
    const node = await serve({
      listen: ["127.0.0.1:0"],
      hostKeys: [parsePrivateKey(generateEd25519Key().privateText, "host")],
      authenticator: AuthorizedKeysAuthenticator.fromText(text, "authorized_keys", (m) => {
        throw new Error(m);
      }),
      policy: new RulePolicy([
        { action: "allow", target: `127.0.0.1:${(echo.addr as Deno.NetAddr).port}` },
      ], { defaultAction: "deny" }),
      logger: new Logger("text", (l) => logs.push(l)),
    });
    try {
      await fn({ dir, port: node.addrs[0].port, echoPort: (echo.addr as Deno.NetAddr).port, logs });
    } finally {
      await node.shutdown(0);
    }
  } finally {
    echo.close();
    await echoLoop.catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

/** `ssh -W` through the server; resolves to [exit code, echoed text, stderr]. */
async function sshW(env: Env, key: string, target: string, extra: string[] = [], user = "alice") {
  const child = new Deno.Command("ssh", {
    args: [
      "-F",
      "/dev/null",
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "IdentityAgent=none",
      "-o",
      "ConnectTimeout=10",
      "-o",
      "LogLevel=ERROR",
      "-i",
      key,
      ...extra,
      "-p",
      String(env.port),
      "-W",
      target,
      `${user}@127.0.0.1`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("ping\n")).catch(() => {});
  // Read the echo (if any) before closing stdin, so the round trip completes.
  const reader = child.stdout.getReader();
  let echoed = "";
  const readEcho = (async () => {
    while (!echoed.includes("ping")) {
      const { value, done } = await reader.read();
      if (done) break;
      echoed += new TextDecoder().decode(value);
    }
  })();
  await Promise.race([readEcho, child.status]);
  await writer.close().catch(() => {});
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  clearTimeout(timer);
  return { code: status.code, echoed, stderr };
}

async function userKey(dir: string, name: string): Promise<string> {
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", `${dir}/${name}`]);
  return `${dir}/${name}`;
}

Deno.test("interop: OpenSSH logs in with a listed key and tunnels where the policy allows", async () => {
  await withServer(async (dir) => {
    await userKey(dir, "alice");
    return await Deno.readTextFile(`${dir}/alice.pub`);
  }, async (env) => {
    const ok = await sshW(env, `${env.dir}/alice`, `127.0.0.1:${env.echoPort}`);
    assert.equal(ok.echoed, "ping\n", ok.stderr);
    assert.ok(
      env.logs.some((l) => / auth result=accept .*method=publickey/.test(l)),
      env.logs.join("\n"),
    );
    const denied = await sshW(env, `${env.dir}/alice`, "127.0.0.1:9");
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /administratively prohibited|open failed|forwarding failed/);
  });
});

Deno.test("interop: unknown keys and from= mismatches are refused", async () => {
  await withServer(async (dir) => {
    await userKey(dir, "alice");
    await userKey(dir, "mallory");
    return `from="10.0.0.0/8" ${await Deno.readTextFile(`${dir}/alice.pub`)}`;
  }, async (env) => {
    for (const who of ["alice", "mallory"]) {
      const r = await sshW(env, `${env.dir}/${who}`, `127.0.0.1:${env.echoPort}`);
      assert.equal(r.code, 255, who);
      assert.match(r.stderr, /Permission denied/);
    }
    assert.ok(
      env.logs.some((l) =>
        / auth result=reject .*reason="from= does not allow 127\.0\.0\.1/.test(l)
      ),
    );
  });
});

Deno.test("interop: OpenSSH user certificates (ssh-keygen -s) through a cert-authority line", async () => {
  await withServer(async (dir) => {
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "ca", "-f", `${dir}/ca`]);
    const alice = await userKey(dir, "alice");
    await run("ssh-keygen", [
      "-q",
      "-s",
      `${dir}/ca`,
      "-I",
      "alice@test",
      "-n",
      "alice",
      "-V",
      "-5m:+1h",
      `${alice}.pub`,
    ]);
    const bob = await userKey(dir, "bob");
    await run("ssh-keygen", [
      "-q",
      "-s",
      `${dir}/ca`,
      "-I",
      "bob@test",
      "-n",
      "alice",
      "-V",
      "-5m:+1h",
      "-O",
      "no-port-forwarding",
      `${bob}.pub`,
    ]);
    return `cert-authority,principals="alice" ${await Deno.readTextFile(`${dir}/ca.pub`)}`;
  }, async (env) => {
    const ok = await sshW(env, `${env.dir}/alice`, `127.0.0.1:${env.echoPort}`, [
      "-o",
      `CertificateFile=${env.dir}/alice-cert.pub`,
    ]);
    assert.equal(ok.echoed, "ping\n", ok.stderr + env.logs.join("\n"));
    assert.ok(
      env.logs.some((l) => / auth result=accept .*method=cert/.test(l) && l.includes("alice@test")),
      env.logs.join("\n"),
    );
    // Certificate without permit-port-forwarding: logs in, may not tunnel.
    const nofwd = await sshW(env, `${env.dir}/bob`, `127.0.0.1:${env.echoPort}`, [
      "-o",
      `CertificateFile=${env.dir}/bob-cert.pub`,
    ]);
    assert.notEqual(nofwd.code, 0);
    assert.equal(nofwd.echoed, "");
    assert.ok(
      env.logs.some((l) => / auth result=accept .*method=cert/.test(l) && l.includes("bob@test")),
    );
    // The bare key of a certified user is not listed.
    const bare = await sshW(env, `${env.dir}/alice`, `127.0.0.1:${env.echoPort}`, [
      "-o",
      "CertificateFile=/dev/null",
    ]);
    assert.equal(bare.code, 255);
  });
});

Deno.test("interop: OpenSSH RSA and ECDSA user keys verify (rsa-sha2-*, DER ECDSA from ssh2)", async () => {
  const types = [["rsa", "-b", "2048"], ["ecdsa", "-b", "256"], ["ecdsa", "-b", "384"], [
    "ecdsa",
    "-b",
    "521",
  ]];
  await withServer(async (dir) => {
    let text = "";
    for (const [i, [t, ...bits]] of types.entries()) {
      await run("ssh-keygen", [
        "-q",
        "-t",
        t,
        ...bits,
        "-N",
        "",
        "-C",
        `k${i}`,
        "-f",
        `${dir}/k${i}`,
      ]);
      text += await Deno.readTextFile(`${dir}/k${i}.pub`);
    }
    return text;
  }, async (env) => {
    for (let i = 0; i < types.length; i++) {
      const r = await sshW(env, `${env.dir}/k${i}`, `127.0.0.1:${env.echoPort}`);
      assert.equal(
        r.echoed,
        "ping\n",
        `${types[i].join(" ")}: ${r.stderr}\n${env.logs.join("\n")}`,
      );
    }
  });
});
