import assert from "node:assert/strict";
import { httpDeadlines, PreauthGuard } from "./preauth.ts";
import { ConnectionLimiter, LimitSettingsError, normalizeLimits } from "./limits.ts";
import type { ByteConn } from "./stream.ts";

/** An in-memory connection: `push` feeds reads; records writes and closes. */
function memConn() {
  const queue: (Uint8Array | null)[] = [];
  let wake: (() => void) | undefined;
  const c = {
    closed: false,
    written: 0,
    push(b: Uint8Array | null) {
      queue.push(b);
      wake?.();
    },
    conn: {
      async read(p: Uint8Array): Promise<number | null> {
        while (queue.length === 0) {
          if (c.closed) return null;
          await new Promise<void>((r) => wake = r);
        }
        const b = queue.shift()!;
        if (b === null) return null;
        p.set(b);
        return b.length;
      },
      write(p: Uint8Array): Promise<number> {
        c.written += p.length;
        return Promise.resolve(p.length);
      },
      close() {
        c.closed = true;
        wake?.();
      },
    } as ByteConn,
  };
  return c;
}

const enc = new TextEncoder();
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded: 5 s) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await tick(10);
}

Deno.test("unauthenticated slots: per-address cap, release once, 0 = unlimited, limits validated", () => {
  const l = new ConnectionLimiter({ maxUnauthenticatedPerIp: 2 });
  const a = l.admitUnauthenticated("192.0.2.1")!;
  const b = l.admitUnauthenticated("::ffff:192.0.2.1")!;
  assert.equal(l.admitUnauthenticated("192.0.2.1"), undefined, "third from the same address");
  assert.ok(l.admitUnauthenticated("192.0.2.2"), "another address has its own");
  assert.equal(l.unauthenticatedConnections("192.0.2.1"), 2);
  a.release();
  a.release();
  assert.equal(l.unauthenticatedConnections("192.0.2.1"), 1);
  b.release();
  assert.equal(l.unauthenticatedConnections("192.0.2.1"), 0);
  const open = new ConnectionLimiter({ maxUnauthenticatedPerIp: 0 });
  for (let i = 0; i < 1000; i++) assert.ok(open.admitUnauthenticated("192.0.2.9"));
  assert.equal(new ConnectionLimiter().listenerLimits.maxUnauthenticatedPerIp, 64);
  assert.equal(new ConnectionLimiter().listenerLimits.httpHeaderTimeoutS, 60);
  assert.throws(() => normalizeLimits({ tlsHandshakeTimeoutS: 0 }), LimitSettingsError);
  assert.throws(() => normalizeLimits({ httpHeaderTimeoutS: -1 }), LimitSettingsError);
  assert.deepEqual(
    Object.keys(normalizeLimits({ maxUnauthenticatedPerIp: undefined })).sort(),
    Object.keys(normalizeLimits()).sort(),
    "an undefined optional limit is left out, not validated",
  );
});

Deno.test("pre-auth guard: fires once from accept unless authenticated, handed over or claimed", async () => {
  const l = new ConnectionLimiter();
  let fired = 0;
  const g = new PreauthGuard(l.admitUnauthenticated("192.0.2.3")!, 20, () => fired++);
  await until(() => fired > 0);
  assert.equal(fired, 1);
  assert.equal(l.unauthenticatedConnections("192.0.2.3"), 0, "slot freed when it fired");
  assert.equal(g.claim(), false, "nobody else reports it");

  const h = new PreauthGuard(l.admitUnauthenticated("192.0.2.3")!, 20, () => fired++);
  h.handOver();
  await tick(60);
  assert.equal(fired, 1, "handed over: no report");
  assert.equal(l.unauthenticatedConnections("192.0.2.3"), 1, "but the slot is held until close");
  h.closed();
  assert.equal(l.unauthenticatedConnections("192.0.2.3"), 0);

  const k = new PreauthGuard(
    l.admitUnauthenticated("192.0.2.3")!,
    10_000,
    () => fired++,
    Date.now() - 9_990,
  );
  assert.ok(k.remainingMs <= 10, "the clock counts from acceptedAt");
  k.authenticated();
  await tick(40);
  assert.equal(fired, 1);
  assert.equal(k.done, true);
});

Deno.test("HTTP deadlines: the first header must end in time; bytes keep it alive; disarm lifts both", async () => {
  // Header never ends: closed at the header deadline.
  const a = memConn();
  const whys: string[] = [];
  const ga = httpDeadlines(a.conn, {
    headerMs: 40,
    idleMs: 10_000,
    onTimeout: (w) => whys.push(w),
  });
  a.push(enc.encode("GET / HTTP/1.1\r\nHost: x\r\nX-a: b"));
  await ga.conn.read(new Uint8Array(100));
  await until(() => a.closed);
  assert.deepEqual(whys, ["header"]);
  assert.equal(a.closed, true);

  // Header split across reads, CRLF and bare LF endings, and bytes already peeked.
  for (const parts of [["GET / HTTP/1.1\r\nHost: x\r", "\n\r\n"], ["GET / HTTP/1.0\n", "\n"]]) {
    const b = memConn();
    const gb = httpDeadlines(b.conn, {
      headerMs: 40,
      idleMs: 10_000,
      onTimeout: (w) => whys.push(w),
      seen: enc.encode(parts[0]),
    });
    b.push(enc.encode(parts[1]));
    await gb.conn.read(new Uint8Array(100));
    await tick(100);
    assert.equal(b.closed, false, JSON.stringify(parts));
    gb.disarm();
  }

  // Idle: nothing read or written for idleMs closes it; disarm stops that.
  const c = memConn();
  const gc = httpDeadlines(c.conn, {
    headerMs: 10_000,
    idleMs: 40,
    onTimeout: (w) => whys.push(w),
  });
  await tick(100);
  assert.equal(c.closed, true);
  assert.equal(whys.at(-1), "idle");
  void gc;
  const d = memConn();
  const gd = httpDeadlines(d.conn, { headerMs: 30, idleMs: 30, onTimeout: (w) => whys.push(w) });
  gd.disarm();
  await tick(80);
  assert.equal(d.closed, false, "an authenticated connection is left alone");
});
