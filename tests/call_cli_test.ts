// End-to-end: `alknet call`, `alknet ops` and `alknet token` as subprocesses
// against ws://, tls:// and ssh:// servers running in this test process.
import assert from "node:assert/strict";
import {
  AuthorizedKeysAuthenticator,
  generateEd25519Key,
  parsePrivateKey,
} from "@alknet/core/auth";
import { serve } from "@alknet/core";
import {
  acceptCallStream,
  CallError,
  fromNodeDuplex,
  OperationRegistry,
  registerNodeOperations,
  serveCallTls,
  serveCallWebSocket,
} from "@alknet/call";
import { selfSignedCert } from "../call/testutil_test.ts";

const root = new URL("../", import.meta.url).pathname;

async function alknet(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", XDG_CONFIG_HOME: "/nonexistent-alknet-test" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("cli: alknet call/ops/token over ws://, tls:// and ssh://, with exit codes 0/2/3/4", async () => {
  const dir = await Deno.makeTempDir({ prefix: "alknet-call-cli-" });
  const key = generateEd25519Key("cli-test");
  await Deno.writeTextFile(`${dir}/id`, key.privateText, { mode: 0o600 });
  const other = generateEd25519Key("stranger");
  await Deno.writeTextFile(`${dir}/other`, other.privateText, { mode: 0o600 });
  const auth = AuthorizedKeysAuthenticator.fromText(key.publicLine + "\n", "test");
  const authenticate = (t: string) => auth.resolveToken(t);

  const registry = new OperationRegistry();
  registerNodeOperations(registry, { version: "test" });
  registry.register({
    name: "t/fail",
    type: "query",
    errors: [{ code: "NOPE", details_schema: { type: "object" } }],
    handler: () => {
      throw new CallError("NOPE", "refused on purpose", { details: { why: "test" } });
    },
  });
  registry.register({
    name: "t/whoami",
    type: "query",
    handler: (_i, ctx) => ctx.identity?.id ?? null,
  });

  const { cert, key: tlsKey, dir: certDir } = await selfSignedCert();
  await Deno.writeTextFile(`${dir}/ca.pem`, cert);
  const ws = await serveCallWebSocket({ registry, authenticate });
  const tls = await serveCallTls({ cert, key: tlsKey, registry, authenticate });
  const hostKey = parsePrivateKey(generateEd25519Key("host").privateText, "host");
  const node = await serve({
    listen: ["127.0.0.1:0"],
    hostKeys: [hostKey],
    authenticator: auth,
    logger: false,
    reserved: {
      "alknet-control": (channel, session) => {
        acceptCallStream(fromNodeDuplex(channel), { registry, identity: session.identity });
      },
    },
  }).catch((e) => e as Error);
  const wsUrl = `ws://127.0.0.1:${ws.addr.port}`;
  const tlsUrl = `tls://localhost:${tls.addr.port}`;
  try {
    // ws:// with a token minted from --identity
    let r = await alknet("call", wsUrl, "node/ping", '{"x":1}', "--identity", `${dir}/id`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { x: 1 });

    // tls:// trusting the certificate, and a subscription printing lines
    r = await alknet(
      "call",
      tlsUrl,
      "node/ticks",
      '{"count":3}',
      "--identity",
      `${dir}/id`,
      "--ca",
      `${dir}/ca.pem`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").map((l) => JSON.parse(l)), [{ n: 1 }, { n: 2 }, {
      n: 3,
    }]);

    // alknet token, then --token over tls:// with --insecure
    r = await alknet("token", "--identity", `${dir}/id`);
    assert.equal(r.code, 0, r.stderr);
    const token = r.stdout.trim();
    assert.match(token, /^[A-Za-z0-9_-]{139}$/);
    r = await alknet("call", tlsUrl, "t/whoami", "--token", token, "--insecure");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), key.fingerprint);

    // ops
    r = await alknet("ops", wsUrl, "--token", token);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME\s+TYPE\s+DESCRIPTION/);
    assert.match(r.stdout, /node\/ticks\s+subscription\s+Emits/);
    assert.match(r.stdout, /t\/fail\s+query/);

    // 3: the call answered call.error (error JSON on stderr)
    r = await alknet("call", wsUrl, "t/fail", "--token", token);
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(JSON.parse(r.stderr), {
      code: "NOPE",
      message: "refused on purpose",
      retryable: false,
      details: { why: "test" },
    });
    r = await alknet("call", wsUrl, "no/such", "--token", token);
    assert.equal(r.code, 3);
    assert.equal(JSON.parse(r.stderr).code, "NOT_FOUND");

    // 4: authentication and connection failures
    r = await alknet("call", wsUrl, "node/ping", "--identity", `${dir}/other`);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /401/);
    assert.match(r.stderr, /invalid or expired token/);
    r = await alknet("call", tlsUrl, "node/ping", "--token", "bogus", "--insecure");
    assert.equal(r.code, 4, r.stderr);
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadPort = (closed.addr as Deno.NetAddr).port;
    closed.close();
    r = await alknet("call", `ws://127.0.0.1:${deadPort}`, "node/ping", "--token", token);
    assert.equal(r.code, 4, r.stderr);

    // 2: usage errors
    for (
      const args of [
        ["call"],
        ["call", wsUrl],
        ["call", "http://x:1", "node/ping"],
        ["call", wsUrl, "node/ping", "{bad json"],
        ["call", wsUrl, "node/ping", "--bogus-flag"],
        ["token"],
      ]
    ) {
      r = await alknet(...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    }

    // ssh:// through the alknet-control channel
    if (node instanceof Error) throw node;
    const sshUrl = `ssh://127.0.0.1:${node.addrs[0].port}`;
    r = await alknet(
      "call",
      sshUrl,
      "t/whoami",
      "--identity",
      `${dir}/id`,
      "--host-key-fingerprint",
      hostKey.fingerprint,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), key.fingerprint);
    r = await alknet(
      "call",
      sshUrl,
      "t/whoami",
      "--identity",
      `${dir}/id`,
      "--host-key-fingerprint",
      "SHA256:" + "A".repeat(43),
    );
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /does not match the pinned fingerprint/);
    // A malformed pin is a usage error, named by its flag.
    r = await alknet(
      "call",
      sshUrl,
      "t/whoami",
      "--identity",
      `${dir}/id`,
      "--host-key-fingerprint",
      "SHA256:wrong",
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--host-key-fingerprint: 'SHA256:wrong'/);
  } finally {
    await ws.close();
    await tls.close();
    if (!(node instanceof Error)) await node.shutdown(0);
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(certDir, { recursive: true });
  }
});
