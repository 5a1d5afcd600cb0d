import assert from "node:assert/strict";
import { connectCall } from "./connect.ts";
import { CALL_SCHEMES, parseCallTarget } from "./connect_target.ts";
import { ConnectError } from "./errors.ts";

Deno.test("parseCallTarget: every scheme, default ports, IPv6, the WebSocket path", () => {
  const t = (url: string) => {
    const { scheme, host, port, path } = parseCallTarget(url);
    return path === undefined ? { scheme, host, port } : { scheme, host, port, path };
  };
  assert.deepEqual(CALL_SCHEMES, ["ssh", "tcp", "tls", "quic", "ws", "wss", "iroh"]);
  assert.deepEqual(t("ssh://node.example"), { scheme: "ssh", host: "node.example", port: 22 });
  assert.deepEqual(t("ssh://[::1]:2222"), { scheme: "ssh", host: "::1", port: 2222 });
  assert.deepEqual(t("tcp://127.0.0.1:7000/"), { scheme: "tcp", host: "127.0.0.1", port: 7000 });
  assert.deepEqual(t("tls://[2001:db8::1]"), { scheme: "tls", host: "2001:db8::1", port: 443 });
  assert.deepEqual(t("QUIC://h:4433"), { scheme: "quic", host: "h", port: 4433 });
  assert.deepEqual(t("ws://h"), { scheme: "ws", host: "h", port: 80, path: "/alknet/call" });
  assert.deepEqual(t("wss://h:8443/"), {
    scheme: "wss",
    host: "h",
    port: 8443,
    path: "/alknet/call",
  });
  assert.deepEqual(t("wss://h/custom/calls"), {
    scheme: "wss",
    host: "h",
    port: 443,
    path: "/custom/calls",
  });
  const id = "ab".repeat(32);
  const iroh = parseCallTarget(`iroh://${id}@127.0.0.1:4433?relay=off`);
  assert.equal(iroh.scheme, "iroh");
  assert.equal(iroh.host, id);
  assert.deepEqual(iroh.iroh, { nodeId: id, host: "127.0.0.1", port: 4433, relay: false });
  for (
    const bad of [
      "not a url",
      "http://h:1",
      "tcp://h",
      "tcp://h:0",
      "tls://h:1/path",
      "ssh://h:99999",
      "iroh://",
      `iroh://${id}?relay=off`,
    ]
  ) {
    assert.throws(
      () => parseCallTarget(bad),
      (e: ConnectError) => e instanceof ConnectError && e.code === "invalid-target",
      bad,
    );
  }
});

Deno.test("connectCall: refuses unknown schemes and reports refused connections", async () => {
  const code = (c: string) => (e: ConnectError) => e instanceof ConnectError && e.code === c;
  await assert.rejects(connectCall("http://127.0.0.1:1"), code("invalid-target"));
  await assert.rejects(connectCall("not a url"), code("invalid-target"));
  await assert.rejects(connectCall("tcp://127.0.0.1"), code("invalid-target"));
  await assert.rejects(connectCall("tls://127.0.0.1:1/path"), code("invalid-target"));
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await assert.rejects(connectCall(`tcp://127.0.0.1:${port}`), code("transport"));
  await assert.rejects(connectCall(`ws://127.0.0.1:${port}`, { token: "t" }), code("transport"));
  // Options that do not fit the scheme are refused before dialling.
  await assert.rejects(connectCall(`ssh://127.0.0.1:${port}`), code("options"));
  await assert.rejects(
    connectCall(`tcp://127.0.0.1:${port}`, { tlsFingerprint: "SHA256:00" }),
    code("options"),
  );
  await assert.rejects(
    connectCall(`quic://127.0.0.1:${port}`, { proxy: "socks5://127.0.0.1:1" }),
    code("options"),
  );
  await assert.rejects(
    connectCall(`tcp://127.0.0.1:${port}`, { token: "a", apiKey: "b" }),
    code("options"),
  );
});
