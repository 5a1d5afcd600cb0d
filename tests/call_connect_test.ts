// connectCall over every scheme against a node started with serve({ calls }):
// ssh:// (the alknet-control channel, identity key, host key pin), tls://,
// quic:// and wss:// (certificate pin), ws://, plus tcp:// (serveCallTcp) and
// iroh:// (listenIroh with relays off). Pins are accepted, wrong pins refused
// with `pin-mismatch`, refused tokens say why, and calling a subscription or
// subscribing to a query answers INVALID_OPERATION_TYPE on every carrier.
import assert from "node:assert/strict";
import { serve } from "@alknet/core";
import { listenIroh } from "@alknet/core/transport";
import {
  acceptCallStream,
  type CallConnection,
  CallError,
  connectCall,
  type ConnectCallOptions,
  ConnectError,
  duplexFromConn,
  OperationRegistry,
  serveCallTcp,
} from "@alknet/call";
import { freeTcpUdpPort, keyDir } from "./helpers.ts";

/** Settles with `p`, or fails the test loudly when `p` has not settled after `ms` (a hang). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

function registry(state: { countStarted: number }): OperationRegistry {
  const calls = new OperationRegistry();
  calls.register<{ a: number; b: number }, number>({
    name: "demo/add",
    type: "query",
    input_schema: {
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number" } },
      required: ["a", "b"],
    },
    handler: ({ a, b }) => a + b,
  });
  calls.register<{ n: number }, number>({
    name: "demo/count",
    type: "subscription",
    subscribe: async function* ({ n }) {
      state.countStarted++;
      for (let i = 1; i <= n; i++) yield i;
    },
  });
  calls.register({
    name: "demo/whoami",
    type: "query",
    handler: (_input, ctx) => ctx.identity?.id ?? null,
  });
  return calls;
}

interface Fixture {
  /** Each scheme's URL and the options that connect with pins. */
  targets: [string, ConnectCallOptions][];
  hostKeyFingerprint: string;
  tlsFingerprint: string;
  idFingerprint: string;
  state: { countStarted: number };
  close(): Promise<void>;
}

async function start(): Promise<Fixture> {
  const { dir, host, id } = await keyDir();
  const state = { countStarted: 0 };
  const calls = registry(state);
  const port = freeTcpUdpPort();
  const node = await serve({
    listen: [
      "127.0.0.1:0",
      `tls://127.0.0.1:${port}`,
      `quic://127.0.0.1:${port}`,
      "ws://127.0.0.1:0",
      "wss://127.0.0.1:0",
    ],
    hostKey: host.path,
    authorizedKeys: `${dir}/authorized_keys`,
    tls: { selfSigned: true },
    dataDir: dir,
    calls,
    logger: false,
  });
  const tcp = await serveCallTcp({ registry: calls });
  const iroh = await listenIroh({
    url: "iroh://127.0.0.1:0?relay=off",
    handlers: {
      ssh: (conn) => conn.close(),
      call: (conn) => void acceptCallStream(duplexFromConn(conn), { registry: calls }),
    },
  });
  const [ssh, tls, quic, ws, wss] = node.addresses;
  const tlsFingerprint = node.tlsFingerprint!;
  const withTls = { identity: id.path, tlsFingerprint };
  return {
    targets: [
      [ssh.replace(/^tcp:/, "ssh:"), {
        identity: id.path,
        hostKeyFingerprint: node.hostKeyFingerprint,
      }],
      [tcp.url, {}],
      [tls, withTls],
      [quic, withTls],
      [ws, { identity: id.path }],
      [wss, withTls],
      [`iroh://${iroh.nodeId}@127.0.0.1:${iroh.addr.port}?relay=off`, {}],
    ],
    hostKeyFingerprint: node.hostKeyFingerprint,
    tlsFingerprint,
    idFingerprint: id.fingerprint,
    state,
    async close() {
      await iroh.close();
      await tcp.close();
      await node.shutdown(0);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function each(
  f: Fixture,
  run: (url: string, conn: CallConnection, authenticated: boolean) => Promise<void>,
): Promise<void> {
  for (const [url, options] of f.targets) {
    const conn = await within(connectCall(url, options), 20_000, `connectCall ${url}`);
    try {
      await run(url, conn, options.identity !== undefined);
    } finally {
      await conn.close();
    }
  }
}

Deno.test("connectCall over ssh, tcp, tls, quic, ws, wss and iroh: calls and subscriptions, pins accepted", async () => {
  const f = await start();
  try {
    assert.deepEqual(f.targets.map(([u]) => u.split(":")[0]), [
      "ssh",
      "tcp",
      "tls",
      "quic",
      "ws",
      "wss",
      "iroh",
    ]);
    await each(f, async (url, conn, authenticated) => {
      assert.equal(await within(conn.call("demo/add", { a: 2, b: 3 }), 10_000, url), 5, url);
      const items: number[] = [];
      for await (const n of conn.subscribe<number>("demo/count", { n: 3 })) items.push(n);
      assert.deepEqual(items, [1, 2, 3], url);
      const who = await within(conn.call("demo/whoami", null), 10_000, url);
      assert.equal(who, authenticated ? f.idFingerprint : null, url);
    });
  } finally {
    await f.close();
  }
});

Deno.test("connectCall: a wrong certificate or host key pin is refused with pin-mismatch", async () => {
  const f = await start();
  try {
    const wrongTls = "SHA256:" + "00".repeat(32);
    const wrongHostKey = "SHA256:" + "A".repeat(43);
    let checked = 0;
    for (const [url, options] of f.targets) {
      let wrong: ConnectCallOptions | undefined;
      if (options.tlsFingerprint) wrong = { ...options, tlsFingerprint: wrongTls };
      if (options.hostKeyFingerprint) wrong = { ...options, hostKeyFingerprint: wrongHostKey };
      if (!wrong) continue;
      checked++;
      const e = await within(connectCall(url, wrong).then(() => null, (e) => e), 20_000, url);
      assert.ok(e instanceof ConnectError, `${url}: ${e}`);
      assert.equal(e.code, "pin-mismatch", `${url}: ${e.message}`);
      assert.ok(e.message.includes(url), e.message);
    }
    assert.equal(checked, 4); // ssh, tls, quic, wss
  } finally {
    await f.close();
  }
});

Deno.test("connectCall: refused credentials are unauthorized, and the WebSocket says why", async () => {
  const f = await start();
  try {
    const [, , [tlsUrl, tlsOptions], , [wsUrl]] = f.targets;
    const ws = await connectCall(wsUrl, { token: "not-a-token" }).then(() => null, (e) => e);
    assert.ok(ws instanceof ConnectError);
    assert.equal(ws.code, "unauthorized");
    assert.match(ws.message, /HTTP 401: \S/); // the node's reason follows the status
    // On TLS a first request sent by connectCall carries the token: refused there, and the
    // node's answer is the cause.
    const e = await within(
      connectCall(tlsUrl, { ...tlsOptions, identity: undefined, token: "nope" }).then(
        () => null,
        (e) => e,
      ),
      10_000,
      tlsUrl,
    );
    assert.ok(e instanceof ConnectError);
    assert.equal(e.code, "unauthorized");
    assert.ok(e.cause instanceof CallError);
    assert.equal(e.cause.code, "FORBIDDEN");
    assert.deepEqual(e.cause.details, { authentication: "failed" });
  } finally {
    await f.close();
  }
});

Deno.test("type mismatches over the wire: subscribe() on a query and call() on a subscription answer INVALID_OPERATION_TYPE on every carrier", async () => {
  const f = await start();
  try {
    await each(f, async (url, conn) => {
      const sub = conn.subscribe("demo/add", { a: 1, b: 2 })[Symbol.asyncIterator]();
      const e1 = await within(sub.next().then(() => null, (e) => e), 10_000, `${url} subscribe`);
      assert.ok(e1 instanceof CallError, `${url}: ${e1}`);
      assert.equal(e1.code, "INVALID_OPERATION_TYPE", `${url}: ${e1.message}`);

      const before = f.state.countStarted;
      const e2 = await within(
        conn.call("demo/count", { n: 3 }).then(() => null, (e) => e),
        10_000,
        `${url} call`,
      );
      assert.ok(e2 instanceof CallError, `${url}: ${e2}`);
      assert.equal(e2.code, "INVALID_OPERATION_TYPE", `${url}: ${e2.message}`);
      assert.equal(f.state.countStarted, before, `${url}: the handler must not run`);
      // The connection is still good afterwards.
      assert.equal(await within(conn.call("demo/add", { a: 1, b: 1 }), 10_000, url), 2);
    });
  } finally {
    await f.close();
  }
});

Deno.test("connectCall: a token connection is authenticated at connect, so it outlives the node's pre-auth deadline before its first call", async () => {
  const { dir, host, id } = await keyDir();
  const port = freeTcpUdpPort();
  const node = await serve({
    listen: [`tls://127.0.0.1:${port}`, `quic://127.0.0.1:${port}`],
    hostKey: host.path,
    authorizedKeys: `${dir}/authorized_keys`,
    tls: { selfSigned: true },
    dataDir: dir,
    calls: registry({ countStarted: 0 }),
    limits: { preauthTimeoutS: 1 },
    logger: false,
  });
  try {
    for (const url of node.addresses) {
      const conn = await connectCall(url, {
        identity: id.path,
        tlsFingerprint: node.tlsFingerprint,
      });
      try {
        // Idle past the node's pre-auth deadline (1 s), then call: before, the node had
        // closed the connection (the token only went with the first call).
        await new Promise((r) => setTimeout(r, 2_000));
        assert.equal(await within(conn.call("demo/add", { a: 1, b: 2 }), 10_000, url), 3);
      } finally {
        await conn.close();
      }
    }
  } finally {
    await node.shutdown(0);
    await Deno.remove(dir, { recursive: true });
  }
});
