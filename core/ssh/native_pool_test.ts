import assert from "node:assert/strict";
import {
  type ConnHandler,
  listenEndpoint,
  Logger,
  selfSignedCertificate,
} from "../transport/mod.ts";
import { type ByteConn, closeQuietly, writeAll } from "../transport/stream.ts";
import { prefixedConn } from "../transport/conn.ts";
import { nativeTcpHandler } from "./native_server.ts";
import { nativeTcpOverStealthTls } from "./native_client.ts";
import { type StandbyPool, standbyPool } from "./native_pool.ts";
import { NATIVE_REUSE_HOST } from "./native_reuse.ts";
import {
  decodeNativeTcpHeader,
  NativeTcpError,
  NativeTcpStatus,
} from "../transport/native_header.ts";

const TOKEN = "t".repeat(20);
const who = { id: "me", scopes: [], resources: {} };

/** An echo server on loopback. */
function echo(): { port: number; close(): void } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const c of l) {
      conns.add(c);
      (async () => {
        const buf = new Uint8Array(4096);
        try {
          for (let n = await c.read(buf); n !== null; n = await c.read(buf)) {
            await writeAll(c, buf.subarray(0, n));
          }
        } catch { /* closed */ }
        conns.delete(c);
        closeQuietly(c);
      })();
    }
  })().catch(() => {});
  return {
    port: (l.addr as Deno.NetAddr).port,
    close() {
      closeQuietly(l);
      for (const c of conns) closeQuietly(c);
    },
  };
}

/** `p`, or a failure after `ms` (a wait that never ends fails instead of hanging). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits (bounded) until `cond()` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

type Evaluate = Parameters<typeof nativeTcpHandler>[0]["policy"]["evaluate"];

/** The node's native-path handler: {@link TOKEN} stands for `who`; `evaluate` decides (default: allow). */
function tokenHandler(evaluate: Evaluate = () => "allow"): ConnHandler {
  return nativeTcpHandler({ resolveToken: (t) => t === TOKEN ? who : null, policy: { evaluate } });
}

/**
 * A node whose first-header handling of reserved hosts is `reserved`'s
 * (an older or failing node): `reserved` answers the connection and
 * resolves true, or false to hand it to the real handler.
 */
function reservedHeaders(reserved: (host: string, c: ByteConn) => Promise<boolean>): ConnHandler {
  const real = tokenHandler();
  return (c, info) => {
    (async () => {
      const buf = new Uint8Array(2048);
      const got = await c.read(buf);
      const h = got ? decodeNativeTcpHeader(buf.subarray(0, got)) : null;
      if (h && await reserved(h.header.host, c)) return;
      real(prefixedConn(c, buf.subarray(0, got ?? 0)), info);
    })().catch(() => closeQuietly(c));
  };
}

/** One stream through `pool`: a round trip, then a close. */
async function pingOnce(pool: StandbyPool, port: number): Promise<void> {
  const c = await pool.open(TOKEN, "127.0.0.1", port);
  await roundTrip(c);
  c.close();
}

/** Answers `status` on `c` and closes it. */
async function answerAndClose(c: ByteConn, status: number): Promise<true> {
  await writeAll(c, new Uint8Array([status]));
  closeQuietly(c);
  return true;
}

async function node(tcp: ConnHandler) {
  const dir = await Deno.makeTempDir({ prefix: "alknet-pool-" });
  const { cert, key } = await selfSignedCertificate(dir);
  await Deno.remove(dir, { recursive: true });
  const lines: string[] = [];
  let accepted = 0;
  const ep = await listenEndpoint("tls://127.0.0.1:0", {
    cert,
    key,
    logger: new Logger("text", (l) => lines.push(l)),
    handlers: {
      ssh: (c) => c.close(),
      tcp: (c, info) => {
        accepted++;
        tcp(c, info);
      },
    },
  });
  const opener = nativeTcpOverStealthTls("127.0.0.1", ep.addr.port, { caCerts: [cert] });
  return { ep, opener, lines, accepted: () => accepted };
}

/**
 * Connections their client let go leave no `conn rejected` line at the
 * node (checked after a moment); then the node and the target stop.
 */
async function stopUnrejected(
  n: { ep: { close(): Promise<void> }; lines: string[] },
  target: { close(): void },
): Promise<void> {
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(n.lines.filter((l) => / conn rejected /.test(l)), []);
  await n.ep.close();
  target.close();
}

async function roundTrip(conn: ByteConn) {
  await writeAll(conn, new TextEncoder().encode("ping"));
  const buf = new Uint8Array(4);
  let have = 0;
  while (have < 4) {
    const n = await within(conn.read(buf.subarray(have)), 10_000, "echo");
    assert.notEqual(n, null);
    have += n!;
  }
  assert.equal(new TextDecoder().decode(buf), "ping");
}

Deno.test("standby pool: later connections ride standby connections; a client letting one go is not logged", async () => {
  const target = echo();
  const n = await node(tokenHandler());
  const pool = standbyPool(n.opener, () => TOKEN, { size: 2, maxIdleMs: 60_000 });
  try {
    // The first connection dials; the pool fills behind it.
    await pingOnce(pool, target.port);
    await until(() => n.accepted() === 3, "two standby connections opened");
    // The next two use them (no new TLS connection until the refill).
    for (let i = 0; i < 2; i++) {
      await pingOnce(pool, target.port);
    }
    await until(() => n.accepted() === 5, "the pool refilled");
  } finally {
    pool.close();
  }
  await stopUnrejected(n, target);
});

Deno.test("standby pool: a node that refuses reuse and standby headers is dialled per connection", async () => {
  const target = echo();
  let refused = 0;
  // What an older node answers: alknet-* hosts are forbidden.
  const old = reservedHeaders((host, c) => {
    if (!host.startsWith("alknet-")) return Promise.resolve(false);
    refused++;
    return answerAndClose(c, NativeTcpStatus.FORBIDDEN);
  });
  const n = await node(old);
  const pool = standbyPool(n.opener, () => TOKEN, { size: 2 });
  try {
    for (let i = 0; i < 4; i++) {
      await pingOnce(pool, target.port);
      await until(() => refused >= 1, "the standby header was tried");
    }
    // Reuse, then standby, each tried once per pool slot at most, then never again.
    assert.ok(refused <= 4, `reserved headers tried ${refused} times`);
  } finally {
    pool.close();
    await n.ep.close();
    target.close();
  }
});

Deno.test("standby pool: a standby connection the node closed is replaced by a fresh one", async () => {
  const target = echo();
  // A node that accepts standby connections, then drops them (as a restart would).
  let dropped = 0;
  const n = await node(reservedHeaders((host, c) => {
    if (!host.startsWith("alknet-")) return Promise.resolve(false);
    dropped++;
    return answerAndClose(c, NativeTcpStatus.OK);
  }));
  const pool = standbyPool(n.opener, () => TOKEN, { size: 1 });
  try {
    (await pool.open(TOKEN, "127.0.0.1", target.port)).close();
    await until(() => dropped === 1, "a standby connection was made and dropped");
    await new Promise((r) => setTimeout(r, 50));
    await pingOnce(pool, target.port);
  } finally {
    pool.close();
    await n.ep.close();
    target.close();
  }
});

Deno.test("standby pool: a refusal on a standby connection is the node's answer, as without standby", async () => {
  const target = echo();
  const n = await node(
    tokenHandler((r) => r.kind === "connect" && r.port === target.port ? "allow" : "deny"),
  );
  const pool = standbyPool(n.opener, () => TOKEN, { size: 1 });
  try {
    (await pool.open(TOKEN, "127.0.0.1", target.port)).close();
    await until(() => n.accepted() === 2, "a standby connection opened");
    // Forbidden by policy, answered on the standby connection: not retried.
    const e = await pool.open(TOKEN, "127.0.0.1", target.port + 1).catch((e) => e);
    assert.ok(e instanceof NativeTcpError, String(e));
    assert.equal(e.status, "forbidden");
    assert.equal(n.accepted(), 2, "no fresh connection for a refusal");
    await until(() => n.accepted() === 3, "refilled after the refusal");
    await pingOnce(pool, target.port);
  } finally {
    pool.close();
    await n.ep.close();
    target.close();
  }
});

Deno.test("standby pool: a standby connection older than maxIdleMs is closed, not used", async () => {
  const target = echo();
  const n = await node(tokenHandler());
  const pool = standbyPool(n.opener, () => TOKEN, { size: 1, maxIdleMs: 30 });
  try {
    (await pool.open(TOKEN, "127.0.0.1", target.port)).close();
    await until(() => n.accepted() === 2, "a standby connection opened");
    await new Promise((r) => setTimeout(r, 60));
    const c = await pool.open(TOKEN, "127.0.0.1", target.port);
    // The stale one was dropped and this connection dialled fresh (the
    // refill starts only now).
    assert.equal(n.accepted(), 3);
    await roundTrip(c);
    c.close();
  } finally {
    pool.close();
    await n.ep.close();
    target.close();
  }
});

/** Reads until the end of `conn` (bounded). */
async function drained(conn: ByteConn): Promise<void> {
  const buf = new Uint8Array(64);
  for (let i = 0; i < 1000; i++) {
    if (await within(conn.read(buf), 10_000, "end of stream") === null) return;
  }
  assert.fail("no end of stream");
}

Deno.test("reuse: a stream whose two ends passed gives its connection back; the next one rides it", async () => {
  const target = echo();
  const n = await node(tokenHandler());
  const pool = standbyPool(n.opener, () => TOKEN, { size: 1, maxIdleMs: 60_000 });
  try {
    (await pool.open(TOKEN, "127.0.0.1", target.port)).close();
    await until(() => n.accepted() === 2, "a ready connection opened");
    const stream = async () => {
      const c = await pool.open(TOKEN, "127.0.0.1", target.port);
      await roundTrip(c);
      await c.closeWrite!(); // our end; the echo server answers with its own
      await drained(c);
      c.close();
    };
    // The first stream takes the ready connection (the pool dials another
    // to stay ready) and gives it back.
    await stream();
    await until(() => n.accepted() === 3, "the refill");
    // Five more streams ride those two: no TLS connection is made.
    for (let i = 0; i < 5; i++) {
      await stream();
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(n.accepted(), 3);
    // A stream closed before its ends passed takes its connection with it.
    await pingOnce(pool, target.port);
    await pingOnce(pool, target.port);
    await until(() => n.accepted() === 4, "refilled after two resets");
  } finally {
    pool.close();
  }
  await stopUnrejected(n, target);
});

Deno.test("reuse: a node that refuses reuse headers but takes standby ones gets standby connections", async () => {
  const target = echo();
  let refused = 0;
  // What a node from before reuse answers.
  const older = reservedHeaders((host, c) => {
    if (host !== NATIVE_REUSE_HOST) return Promise.resolve(false);
    refused++;
    return answerAndClose(c, NativeTcpStatus.FORBIDDEN);
  });
  const n = await node(older);
  const pool = standbyPool(n.opener, () => TOKEN, { size: 1 });
  try {
    (await pool.open(TOKEN, "127.0.0.1", target.port)).close();
    await until(() => refused === 1, "reuse was asked for");
    await pool.open(TOKEN, "127.0.0.1", target.port).then((c) => c.close());
    await until(() => n.accepted() === 4, "a standby connection opened");
    const before = n.accepted();
    const c = await pool.open(TOKEN, "127.0.0.1", target.port);
    assert.equal(n.accepted(), before, "rode the standby connection");
    await roundTrip(c);
    c.close();
    assert.equal(refused, 1, "reuse not asked for again");
  } finally {
    pool.close();
    await n.ep.close();
    target.close();
  }
});

Deno.test("reuse: a hostile client's oversized frame closes the connection and the target's", async () => {
  let targetEnded = false;
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    const c = await l.accept();
    const buf = new Uint8Array(64);
    try {
      while (await c.read(buf) !== null) { /* drain */ }
    } catch { /* reset */ }
    targetEnded = true;
    closeQuietly(c);
  })();
  const n = await node(tokenHandler());
  const conn = await n.opener();
  try {
    const { encodeNativeTcpHeader } = await import("../transport/native_header.ts");
    const one = new Uint8Array(1);
    await writeAll(conn, encodeNativeTcpHeader({ token: TOKEN, host: NATIVE_REUSE_HOST, port: 1 }));
    assert.equal(await within(conn.read(one), 10_000, "reuse status"), 1);
    assert.equal(one[0], NativeTcpStatus.OK);
    const port = (l.addr as Deno.NetAddr).port;
    await writeAll(conn, encodeNativeTcpHeader({ token: TOKEN, host: "127.0.0.1", port }));
    assert.equal(await within(conn.read(one), 10_000, "status"), 1);
    assert.equal(one[0], NativeTcpStatus.OK);
    // A frame claiming 2 GiB.
    await writeAll(conn, new Uint8Array([0x80, 0, 0, 0, 1, 2, 3]));
    await drained(conn);
    await until(() => targetEnded, "the target's connection closed");
  } finally {
    closeQuietly(conn);
    closeQuietly(l);
    await n.ep.close();
  }
});

Deno.test("reuse: connections dialled when none is ready are reusable too (a burst leaves them idle for the next)", async () => {
  const target = echo();
  const n = await node(tokenHandler());
  const pool = standbyPool(n.opener, () => TOKEN, { size: 1, maxIdle: 8, maxIdleMs: 60_000 });
  const burst = () =>
    Promise.all(Array.from({ length: 6 }, async () => {
      const c = await pool.open(TOKEN, "127.0.0.1", target.port);
      await roundTrip(c);
      await c.closeWrite!();
      await drained(c);
      c.close();
    }));
  try {
    await burst();
    await new Promise((r) => setTimeout(r, 100));
    const after = n.accepted();
    assert.ok(after >= 6, `${after} connections for six streams at once`);
    await burst();
    assert.equal(n.accepted(), after, "the second burst rode the first one's connections");
  } finally {
    pool.close();
    await n.ep.close();
    target.close();
  }
});
