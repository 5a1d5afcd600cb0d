/**
 * `serve()` used as a library with `@alknet/call`'s registry, and the CLI's
 * mapping of library option errors back to its flags.
 *
 * @module
 */

import assert from "node:assert/strict";
import { serve } from "@alknet/core";
import { generateEd25519Key, mintToken, parsePrivateKey } from "@alknet/core/auth";
import { OperationRegistry } from "@alknet/call";
import { keyDir, runAlknet } from "./helpers.ts";

Deno.test("serve({ calls }): a refused /alknet/call token gets a 401 that says why", async () => {
  const stranger = parsePrivateKey(generateEd25519Key("stranger").privateText, "stranger");
  const calls = new OperationRegistry();
  const node = await serve({
    listen: "ws://127.0.0.1:0",
    hostKey: generateEd25519Key("host").privateText,
    authorizedKeys: [],
    calls,
    logger: false,
  });
  try {
    const url = `http://127.0.0.1:${node.addrs[0].port}/alknet/call`;
    const ask = async (token?: string) => {
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      const r = await fetch(url, { headers });
      return { status: r.status, body: await r.text() };
    };
    assert.deepEqual(await ask(), {
      status: 401,
      body: "401 Unauthorized: missing bearer token\n",
    });
    assert.deepEqual(await ask("not-a-token"), {
      status: 401,
      body: "401 Unauthorized: malformed token\n",
    });
    const unlisted = await ask(mintToken(stranger.seed!));
    assert.equal(unlisted.status, 401);
    assert.match(unlisted.body, /key is not authorized/);
    assert.equal((await ask("alk_AAAAAAAA_" + "A".repeat(43))).body.includes("API key"), true);
    // The node's built-ins were registered on the registry, and go at shutdown.
    assert.ok(calls.spec("node/info"));
  } finally {
    await node.shutdown(0);
  }
  assert.equal(calls.spec("node/info"), undefined);
});

Deno.test("alknet serve reports library option errors with its own flags", async () => {
  const { dir } = await keyDir();
  try {
    const noCert = await runAlknet([
      "serve",
      "--listen",
      "tls://127.0.0.1:0",
      "--host-key",
      `${dir}/host`,
      "--authorized-keys",
      `${dir}/authorized_keys`,
    ]);
    assert.equal(noCert.code, 1, noCert.stderr);
    assert.match(
      noCert.stderr,
      /alknet serve: --tls-cert\/--tls-key, --tls-self-signed or --acme-domain: tls:\/\/127\.0\.0\.1:0 needs a certificate/,
    );
    const badCert = await runAlknet([
      "serve",
      "--listen",
      "wss://127.0.0.1:0",
      "--host-key",
      `${dir}/host`,
      "--tls-cert",
      `${dir}/missing.crt`,
      "--tls-key",
      `${dir}/missing.key`,
    ]);
    assert.equal(badCert.code, 1, badCert.stderr);
    assert.match(badCert.stderr, /alknet serve: --tls-cert: cannot read '.*missing\.crt'/);
    assert.doesNotMatch(badCert.stderr, /tls\.cert/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
