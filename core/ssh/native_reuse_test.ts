import assert from "node:assert/strict";
import { concat, fc } from "../../tests/fuzz_util.ts";
import type { ByteConn } from "../transport/stream.ts";
import { NativeTcpError } from "../transport/native_header.ts";
import { FRAME_PREFIX, MAX_FRAME, ReusableStream } from "./native_reuse.ts";

/** A connection whose reads return `chunks` in turn (then the end); writes are kept. */
function scripted(chunks: Uint8Array[]) {
  const written: Uint8Array[] = [];
  let closed = false;
  const conn: ByteConn = {
    read(p) {
      const c = chunks.shift();
      if (!c) return Promise.resolve(null);
      const n = Math.min(p.length, c.length);
      p.set(c.subarray(0, n));
      if (n < c.length) chunks.unshift(c.subarray(n));
      return Promise.resolve(n);
    },
    write(p) {
      written.push(p.slice());
      return Promise.resolve(p.length);
    },
    close() {
      closed = true;
    },
  };
  return { conn, written, closed: () => closed };
}

function frame(payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(FRAME_PREFIX + payload.length);
  new DataView(f.buffer).setUint32(0, payload.length);
  f.set(payload, FRAME_PREFIX);
  return f;
}

async function readAll(s: ReusableStream, size: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(size);
  for (let i = 0; i < 100_000; i++) {
    const n = await s.read(buf);
    if (n === null) return concat(...parts);
    parts.push(buf.slice(0, n));
  }
  throw new Error("no end");
}

Deno.test("reusable stream: frames cut anywhere read back as the bytes sent, then the end and the leftover", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 6 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 1, max: 500 }),
      async (payloads, after, cuts, readSize) => {
        const wire = concat(...payloads.map(frame), new Uint8Array(FRAME_PREFIX), after);
        const chunks: Uint8Array[] = [];
        for (let at = 0, i = 0; at < wire.length; i++) {
          const n = cuts[i % cuts.length];
          chunks.push(wire.subarray(at, at + n));
          at += n;
        }
        const { conn, closed } = scripted(chunks);
        let idle: Uint8Array | undefined;
        const s = new ReusableStream(conn, (_, left) => idle = left);
        assert.deepEqual(await readAll(s, readSize), concat(...payloads));
        assert.equal(idle, undefined, "not idle before our own end");
        await s.closeWrite();
        assert.ok(idle, "idle once both ends passed");
        // The leftover is what was read past the end frame; the rest is still in the connection.
        const rest = concat(idle!, ...chunks);
        assert.deepEqual(rest, after);
        s.close();
        assert.equal(closed(), false, "an idle connection is not closed by close()");
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("reusable stream: writes are framed whole; the end frame is four zero bytes", async () => {
  const { conn, written } = scripted([]);
  const s = new ReusableStream(conn, () => {});
  assert.equal(await s.write(new Uint8Array([1, 2, 3])), 3);
  const buf = new Uint8Array(16);
  buf.set([9, 8], 6);
  await s.writeInRoom(buf.subarray(6, 8));
  await s.closeWrite();
  assert.deepEqual(written, [
    new Uint8Array([0, 0, 0, 3, 1, 2, 3]),
    new Uint8Array([0, 0, 0, 2, 9, 8]),
    new Uint8Array(4),
  ]);
  await assert.rejects(s.write(new Uint8Array(1)), NativeTcpError);
});

Deno.test("reusable stream: a frame over MAX_FRAME, or the connection ending inside one, is an error that closes it", async () => {
  const big = new Uint8Array(FRAME_PREFIX);
  new DataView(big.buffer).setUint32(0, MAX_FRAME + 1);
  const a = scripted([big]);
  const e = await new ReusableStream(a.conn, () => {}).read(new Uint8Array(8)).catch((e) => e);
  assert.ok(e instanceof NativeTcpError && e.status === "malformed", String(e));
  assert.match(e.message, /frame of \d+ bytes/);
  assert.ok(a.closed());

  const b = scripted([frame(new Uint8Array(10)).subarray(0, 7)]);
  const s = new ReusableStream(b.conn, () => {});
  assert.equal(await s.read(new Uint8Array(8)), 3);
  const e2 = await s.read(new Uint8Array(8)).catch((e) => e);
  assert.ok(e2 instanceof NativeTcpError, String(e2));
  assert.match(e2.message, /inside a frame/);
  assert.ok(b.closed());

  const c = scripted([]);
  const e3 = await new ReusableStream(c.conn, () => {}).read(new Uint8Array(8)).catch((e) => e);
  assert.match(e3.message, /before the stream did/);
});

Deno.test("reusable stream: close before both ends closes the connection; writes over MAX_FRAME are split", async () => {
  const a = scripted([]);
  const s = new ReusableStream(a.conn, () => assert.fail("not idle"));
  await s.closeWrite();
  s.close();
  assert.ok(a.closed());

  const b = scripted([]);
  const t = new ReusableStream(b.conn, () => {});
  assert.equal(await t.write(new Uint8Array(MAX_FRAME + 5)), MAX_FRAME);
  assert.equal(b.written[0].length, MAX_FRAME + FRAME_PREFIX);
});
