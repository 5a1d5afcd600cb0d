import assert from "node:assert/strict";
import type { Identity } from "@alknet/core/auth";
import { acceptCallStream, serveCallTcp } from "./carrier_stream.ts";
import { serveCallTls } from "./carrier_tls.ts";
import { callWebSocketHandler, serveCallWebSocket } from "./carrier_ws.ts";
import { connectCall } from "./connect.ts";
import { CallConnection } from "./connection.ts";
import { type CallError, ConnectError } from "./errors.ts";
import { OperationRegistry } from "./registry.ts";
import { registerNodeOperations } from "./builtins.ts";
import { framedTransport } from "./framed.ts";
import { selfSignedCert } from "./testutil_test.ts";

const alice: Identity = { id: "alice", scopes: ["user"], resources: {} };
const authenticate = (t: string) => (t === "good-token" ? alice : null);

function registry(): OperationRegistry {
  const reg = new OperationRegistry();
  registerNodeOperations(reg, { version: "test", listeners: ["tls://127.0.0.1:0"] });
  reg.register({ name: "t/whoami", type: "query", handler: (_i, ctx) => ctx.identity?.id ?? null });
  return reg;
}

Deno.test("carrier: TLS with ALPN alknet/call, token on the first request", async () => {
  const { cert, key, dir } = await selfSignedCert();
  const server = await serveCallTls({ cert, key, registry: registry(), authenticate });
  const url = `tls://localhost:${server.addr.port}`;
  try {
    const conn = await connectCall(url, { tlsCaCerts: [cert], token: "good-token" });
    // 64 calls in flight at once: only the first carries the token.
    const outs = await Promise.all(
      Array.from({ length: 64 }, (_, i) => conn.call("node/ping", { i })),
    );
    assert.deepEqual(outs[63], { i: 63 });
    assert.equal(await conn.call("t/whoami", null), "alice");
    const ticks = [];
    for await (const t of conn.subscribe("node/ticks", { count: 3 })) ticks.push(t);
    assert.equal(ticks.length, 3);
    await conn.close();

    // connectCall sends a first request with the token at once: a bad one rejects there.
    await assert.rejects(
      connectCall(url, { tlsCaCerts: [cert], token: "nope" }),
      (e: ConnectError) => {
        assert.equal(e.code, "unauthorized");
        const cause = e.cause as CallError;
        assert.equal(cause.code, "FORBIDDEN");
        assert.deepEqual(cause.details, { authentication: "failed" });
        return true;
      },
    );

    const none = await connectCall(url, { tlsCaCerts: [cert] });
    await assert.rejects(none.call("node/ping", 1), /authentication required/);
    await none.closed;

    // Without trusting the certificate the handshake fails.
    await assert.rejects(
      connectCall(url),
      (e: ConnectError) => e instanceof ConnectError && e.code === "transport",
    );
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("carrier: WebSocket with bearer token; bad or missing token is HTTP 401", async () => {
  const reg = registry();
  const server = await serveCallWebSocket({ registry: reg, authenticate });
  const url = `ws://127.0.0.1:${server.addr.port}`;
  assert.equal(server.url, `${url}/alknet/call`);
  try {
    const conn = await connectCall(url, { token: "good-token" });
    assert.deepEqual(await conn.call("node/ping", { x: 1 }), { x: 1 });
    assert.equal(await conn.call("t/whoami", null), "alice");
    const outs = await Promise.all(Array.from({ length: 32 }, (_, i) => conn.call("node/ping", i)));
    assert.equal(outs[31], 31);
    const ticks = [];
    for await (const t of conn.subscribe("node/ticks", { count: 3 })) ticks.push(t);
    assert.equal(ticks.length, 3);
    // The server side can call back: the client registered nothing, so NOT_FOUND.
    const serverEnd = [...server.connections][0];
    await assert.rejects(serverEnd.call("x/y", null), (e: CallError) => e.code === "NOT_FOUND");
    await conn.close();

    // A refused token: 401, and the node's reason reaches the caller.
    await assert.rejects(
      connectCall(url, { token: "bad-token" }),
      (e: ConnectError) =>
        e instanceof ConnectError && e.code === "unauthorized" &&
        e.message.includes("HTTP 401") && e.message.includes("invalid or expired token"),
    );
    await assert.rejects(
      connectCall(url),
      (e: ConnectError) => e.code === "unauthorized" && e.message.includes("missing bearer token"),
    );
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/alknet/call`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /Bearer/);
    assert.equal(await res.text(), "401 Unauthorized: missing bearer token\n");
    const off = await fetch(`http://127.0.0.1:${server.addr.port}/other`, {
      headers: { authorization: "Bearer good-token" },
    });
    assert.equal(off.status, 404);
    await off.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("carrier: the WebSocket handler answers 401/426 without a socket", async () => {
  const h = callWebSocketHandler({ registry: new OperationRegistry(), authenticate });
  assert.equal((await h(new Request("http://x/alknet/call"))).status, 401);
  assert.equal(
    (await h(
      new Request("http://x/alknet/call", { headers: { authorization: "Bearer good-token" } }),
    )).status,
    426,
  );
});

Deno.test("carrier: framed TCP and a raw duplex with a carrier identity (the SSH control channel shape)", async () => {
  const server = await serveCallTcp({ registry: registry() });
  const clientOps = new OperationRegistry();
  clientOps.register({ name: "laptop/hello", type: "query", handler: (x) => ({ laptop_says: x }) });
  const conn = await connectCall(server.url, { router: clientOps });
  assert.equal(await conn.call("t/whoami", null), null);
  // The server calls an operation the client registered, on the same connection.
  const serverEnd = [...server.connections][0];
  assert.deepEqual(await serverEnd.call("laptop/hello", "hi"), { laptop_says: "hi" });
  await conn.close();
  await server.close();

  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  const srv = acceptCallStream({ readable: ab.readable, writable: ba.writable }, {
    registry: registry(),
    identity: alice,
  });
  const cli = new CallConnection(framedTransport({ readable: ba.readable, writable: ab.writable }));
  assert.equal(await cli.call("t/whoami", null), "alice");
  await cli.close();
  await srv.closed;
});

Deno.test("carrier: a protocol error closes the stream", async () => {
  const server = await serveCallTcp({ registry: registry() });
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  await raw.write(new Uint8Array([0, 0, 0, 0]));
  const buf = new Uint8Array(16);
  assert.equal(await raw.read(buf), null);
  raw.close();
  await server.close();
});

Deno.test("carrier: wss:// with a trusted CA, with insecure, and refused when untrusted", async () => {
  const { cert, key, dir } = await selfSignedCert();
  const server = await serveCallWebSocket({ cert, key, registry: registry(), authenticate });
  const url = `wss://localhost:${server.addr.port}`;
  assert.equal(server.url, `wss://127.0.0.1:${server.addr.port}/alknet/call`);
  try {
    for (const opts of [{ tlsCaCerts: [cert] }, { insecure: true }]) {
      const conn = await connectCall(url, { token: "good-token", ...opts });
      assert.equal(await conn.call("t/whoami", null), "alice");
      await conn.close();
    }
    await assert.rejects(
      connectCall(url, { token: "good-token" }),
      (e: ConnectError) => e.code === "transport",
    );
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
