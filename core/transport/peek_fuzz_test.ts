// Property-based fuzzing of first-bytes sniffing on shared ports: whatever
// arrives, in whatever chunks, peekProtocol keeps every byte it read (the
// prefix is exactly the start of the stream), stops after 8 bytes or end of
// stream, and classifies as classifyPrefix does.
import assert from "node:assert/strict";
import {
  chunked,
  concat,
  cutPoints,
  fc,
  type FuzzCase,
  fuzzTests,
  rawBytes,
} from "../../tests/fuzz_util.ts";
import { classifyPrefix, peekProtocol } from "./peek.ts";
import type { ByteConn } from "./stream.ts";

const enc = new TextEncoder();

class ChunkConn implements ByteConn {
  #chunks: Uint8Array[];
  reads = 0;
  constructor(chunks: Uint8Array[]) {
    this.#chunks = chunks.map((c) => c.slice());
  }
  read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    const c = this.#chunks.shift();
    if (c === undefined) return Promise.resolve(null);
    const n = Math.min(p.length, c.length);
    p.set(c.subarray(0, n));
    if (n < c.length) this.#chunks.unshift(c.subarray(n));
    return Promise.resolve(n);
  }
  write(p: Uint8Array): Promise<number> {
    return Promise.resolve(p.length);
  }
  close(): void {}
}

const stream = fc.oneof(
  rawBytes,
  fc.tuple(
    fc.constantFrom(
      "SSH-2.0-x\r\n",
      "SSH-",
      "GET / HTTP/1.1\r\n",
      "POST ",
      "PRI * HTTP/2.0",
      "\x16\x03\x01",
    ),
    fc.uint8Array({ maxLength: 20 }),
  ).map(([head, rest]) => concat(enc.encode(head), rest)),
);

export const cases: FuzzCase[] = [
  {
    name:
      "peek: chunked first bytes give the exact stream prefix (8 bytes or to the end) and its classification",
    runs: 2100,
    property: fc.asyncProperty(stream, cutPoints, async (bytes, cuts) => {
      const chunks = chunked(bytes, cuts);
      const conn = new ChunkConn(chunks);
      const r = await peekProtocol(conn, 10_000);
      assert.ok(conn.reads <= chunks.length + 1);
      assert.equal(r.timedOut, false);
      assert.ok(r.prefix.length >= Math.min(8, bytes.length));
      assert.deepEqual(r.prefix, bytes.subarray(0, r.prefix.length));
      assert.equal(r.eof, r.prefix.length < 8);
      assert.equal(r.protocol, classifyPrefix(r.prefix));
      if (r.protocol === "ssh") {
        assert.equal(new TextDecoder().decode(r.prefix.subarray(0, 4)), "SSH-");
      }
    }),
  },
];

fuzzTests(cases);
