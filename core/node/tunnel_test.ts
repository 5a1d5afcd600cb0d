import assert from "node:assert/strict";
import { connect } from "./tunnel.ts";
import { serve } from "./serve.ts";
import { Logger } from "../util/log.ts";
import { generateEd25519Key, parsePrivateKey } from "../auth/ssh_keys.ts";
import { AuthorizedKeysAuthenticator } from "../auth/mod.ts";
import { DialError } from "../transport/tcp.ts";
import { socks5ClientConnect, Socks5ClientError } from "../transport/socks5_client.ts";

async function pair(options: {
  dial?: (host: string, port: number) => Promise<Deno.TcpConn>;
  credentials?: { username: string; password: string };
  format?: "text" | "json";
}) {
  const host = generateEd25519Key("host");
  const client = generateEd25519Key("client");
  const lines: string[] = [];
  const logger = new Logger(options.format ?? "text", (l) => lines.push(l));
  const node = await serve({
    listen: ["127.0.0.1:0"],
    hostKeys: [parsePrivateKey(host.privateText, "host")],
    authenticator: AuthorizedKeysAuthenticator.fromText(client.publicLine, "inline"),
    logger,
    dial: options.dial,
  });
  const tunnel = await connect({
    host: "127.0.0.1",
    port: node.addrs[0].port,
    identity: parsePrivateKey(client.privateText, "client"),
    hostKey: { pinnedFingerprint: host.fingerprint },
    socks5: { host: "127.0.0.1", port: 0 },
    socks5Credentials: options.credentials,
    logger,
  });
  return {
    node,
    tunnel,
    lines,
    async close() {
      await tunnel.close();
      await node.shutdown(0);
    },
  };
}

async function socksTo(
  port: number,
  host: string,
  credentials?: { username: string; password: string },
) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await socks5ClientConnect(conn, host, 80, credentials);
    return 0;
  } catch (e) {
    return e instanceof Socks5ClientError ? e.reply : -2;
  } finally {
    conn.close();
  }
}

Deno.test("server dial failures map to SOCKS replies 04 and 05; policy to 02", async () => {
  const p = await pair({
    dial: (host) => {
      if (host === "unreachable.test") return Promise.reject(new DialError("unreachable"));
      if (host === "timeout.test") return Promise.reject(new DialError("timeout"));
      return Promise.reject(new DialError("refused"));
    },
  });
  try {
    const port = p.tunnel.socksAddr!.port;
    assert.equal(await socksTo(port, "unreachable.test"), 4);
    assert.equal(await socksTo(port, "timeout.test"), 4);
    assert.equal(await socksTo(port, "refused.test"), 5);
    p.node.ssh.update({ policy: { evaluate: () => "deny" } });
    assert.equal(await socksTo(port, "refused.test"), 2);
    assert.ok(!p.lines.some((l) => l.includes(".test")), "targets never logged");
  } finally {
    await p.close();
  }
});

Deno.test("SOCKS5 username/password when configured", async () => {
  const credentials = { username: "u", password: "p" };
  const p = await pair({ credentials, dial: () => Promise.reject(new DialError("refused")) });
  try {
    const port = p.tunnel.socksAddr!.port;
    assert.equal(await socksTo(port, "x.test", credentials), 5);
    assert.equal(await socksTo(port, "x.test", { username: "u", password: "wrong" }), -1);
    assert.equal(await socksTo(port, "x.test"), -1);
  } finally {
    await p.close();
  }
});

Deno.test("JSON log lines carry the stable fields", async () => {
  const p = await pair({ format: "json" });
  try {
    const events = p.lines.map((l) => JSON.parse(l));
    const auth = events.find((e) => e.event === "auth");
    assert.equal(auth.result, "accept");
    assert.equal(auth.method, "publickey");
    assert.match(auth.fp, /^SHA256:/);
    assert.match(auth.remote, /^127\.0\.0\.1:\d+$/);
    assert.ok(
      events.some((e) => e.event === "conn" && e.action === "opened" && e.transport === "tcp"),
    );
  } finally {
    await p.close();
  }
});
