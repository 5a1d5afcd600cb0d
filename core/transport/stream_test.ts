import assert from "node:assert/strict";
import { type ByteConn, relayConns, writeAll } from "./stream.ts";

/** One direction of an in-memory pipe: written chunks are copied, read in order. */
class Pipe {
  #chunks: Uint8Array[] = [];
  #ended = false;
  #wake: (() => void) | undefined;
  push(p: Uint8Array): void {
    this.#chunks.push(p.slice());
    this.#wake?.();
  }
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }
  async read(p: Uint8Array): Promise<number | null> {
    for (let i = 0; i < 1000 && this.#chunks.length === 0 && !this.#ended; i++) {
      await new Promise<void>((r) => this.#wake = r);
    }
    const head = this.#chunks.shift();
    if (!head) return null;
    const n = Math.min(p.length, head.length);
    p.set(head.subarray(0, n));
    if (n < head.length) this.#chunks.unshift(head.subarray(n));
    return n;
  }
}

/** Two connected in-memory ByteConns. */
function pair(): [ByteConn, ByteConn] {
  const ab = new Pipe(), ba = new Pipe();
  const end = (out: Pipe, inn: Pipe): ByteConn => ({
    read: (p) => inn.read(p),
    write: (p) => {
      out.push(p);
      return Promise.resolve(p.length);
    },
    closeWrite: () => {
      out.end();
      return Promise.resolve();
    },
    close: () => {
      out.end();
      inn.end();
    },
  });
  return [end(ab, ba), end(ba, ab)];
}

async function readAll(c: ByteConn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(7000);
  for (let i = 0; i < 100_000; i++) {
    const n = await c.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

Deno.test("relayConns: relays one after another and side by side carry exactly their own bytes (buffers reused between relays)", async () => {
  const one = async (seed: number, size: number) => {
    const [client, relayA] = pair();
    const [relayB, server] = pair();
    const done = relayConns(relayA, relayB);
    const up = new Uint8Array(size).map((_, i) => (i * 7 + seed) & 255);
    const down = new Uint8Array(size >> 1).map((_, i) => (i * 13 + seed) & 255);
    const sent = (async () => {
      for (let o = 0; o < up.length; o += 3000) await writeAll(client, up.subarray(o, o + 3000));
      await client.closeWrite!();
    })();
    const echoed = (async () => {
      await writeAll(server, down);
      await server.closeWrite!();
    })();
    const [atServer, atClient] = await Promise.all([readAll(server), readAll(client)]);
    await Promise.all([sent, echoed, done]);
    assert.deepEqual(atServer, up, `seed ${seed}: client to server`);
    assert.deepEqual(atClient, down, `seed ${seed}: server to client`);
  };
  const all = (async () => {
    for (let i = 0; i < 20; i++) await one(i, 1000 + i * 997);
    await Promise.all(Array.from({ length: 8 }, (_, i) => one(100 + i, 40_000 + i * 3001)));
  })();
  // A relay that stalls fails the test instead of hanging it.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("relays stalled for 20 s")), 20_000);
  });
  try {
    await Promise.race([all, stalled]);
  } finally {
    clearTimeout(timer);
  }
});
