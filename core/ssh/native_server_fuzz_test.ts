// Property-based fuzzing of the native data-path server: the `alknet/tcp`
// handler reading hostile headers delivered in arbitrary chunks. The header
// codec itself is fuzzed in core/transport/native_header_fuzz_test.ts.
import assert from "node:assert/strict";
import {
  chunked,
  concat,
  cutPoints,
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedBytes,
  outcome,
  rawBytes,
} from "../../tests/fuzz_util.ts";
import {
  decodeNativeTcpHeader,
  encodeNativeTcpHeader,
  NativeTcpError,
  NativeTcpStatus,
} from "../transport/native_header.ts";
import type { ByteConn } from "../transport/stream.ts";
import { nativeTcpHandler } from "./native_server.ts";
import { FRAME_PREFIX, MAX_FRAME, NATIVE_REUSE_HOST } from "./native_reuse.ts";

class ChunkConn implements ByteConn {
  #chunks: Uint8Array[];
  reads = 0;
  written: number[] = [];
  #closed = false;
  readonly done: Promise<void>;
  #resolve!: () => void;
  constructor(chunks: Uint8Array[]) {
    this.#chunks = chunks.map((c) => c.slice());
    this.done = new Promise((r) => this.#resolve = r);
  }
  read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    const c = this.#chunks.shift();
    if (c === undefined || this.#closed) return Promise.resolve(null);
    const n = Math.min(p.length, c.length);
    p.set(c.subarray(0, n));
    if (n < c.length) this.#chunks.unshift(c.subarray(n));
    return Promise.resolve(n);
  }
  write(p: Uint8Array): Promise<number> {
    this.written.push(...p);
    return Promise.resolve(p.length);
  }
  close(): void {
    this.#closed = true;
    this.#resolve();
  }
}

type Info = Parameters<ReturnType<typeof nativeTcpHandler>>[1];

/**
 * The handler on hostile input answers exactly one status byte and closes.
 * The decoder on the whole input is the oracle: a valid header reaches the
 * token check (refused here: FORBIDDEN), anything else is MALFORMED. Reads
 * are bounded by the chunks delivered.
 */
async function checkHandler(bytes: Uint8Array, cuts: number[]): Promise<void> {
  const chunks = chunked(bytes, cuts);
  const conn = new ChunkConn(chunks);
  const tokens: string[] = [];
  const handler = nativeTcpHandler({
    resolveToken: (t) => {
      tokens.push(t);
      return null;
    },
    policy: { evaluate: () => "deny" },
    dial: () => Promise.reject(new Error("the fuzz test never dials")),
  });
  const info = { remoteAddress: "127.0.0.1", remotePort: 1, transport: "tls" } as Info;
  handler(conn, info);
  await conn.done;
  assert.ok(conn.reads <= chunks.length + 1);
  const expected = outcome(() => decodeNativeTcpHeader(bytes), [NativeTcpError]);
  if (expected.ok && expected.value) {
    assert.deepEqual(tokens, [expected.value.header.token]);
    assert.deepEqual(conn.written, [NativeTcpStatus.FORBIDDEN]);
  } else {
    assert.deepEqual(tokens, []);
    assert.deepEqual(conn.written, [NativeTcpStatus.MALFORMED]);
  }
}

/**
 * A target that keeps what it is sent and ends (answers its end) once the
 * node half-closes it, as an echo server that closes on EOF would.
 */
class SinkTarget implements ByteConn {
  got: number[] = [];
  #end!: (n: null) => void;
  #ended = new Promise<null>((r) => this.#end = r);
  read(): Promise<number | null> {
    return this.#ended;
  }
  write(p: Uint8Array): Promise<number> {
    this.got.push(...p);
    return Promise.resolve(p.length);
  }
  closeWrite(): Promise<void> {
    this.#end(null);
    return Promise.resolve();
  }
  close(): void {
    this.#end(null);
  }
}

/** What a well-behaved node passes to the target: the payloads up to an oversized frame, the end frame or the end of the bytes. */
function payloadsOf(b: Uint8Array): { delivered: number[]; ended: boolean } {
  const delivered: number[] = [];
  for (let at = 0; at + FRAME_PREFIX <= b.length;) {
    const len = new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0);
    at += FRAME_PREFIX;
    if (len > MAX_FRAME) break;
    if (len === 0) return { delivered, ended: true };
    delivered.push(...b.subarray(at, Math.min(at + len, b.length)));
    at += len;
  }
  return { delivered, ended: false };
}

/**
 * A reusable connection carrying hostile frames in chunks: the node answers
 * the reuse header and the stream's, passes the target exactly the
 * well-formed payloads, and closes the connection (after its own end frame
 * when the stream ended), never hanging or throwing.
 */
async function checkFrames(frames: Uint8Array, cuts: number[]): Promise<void> {
  const first = concat(
    encodeNativeTcpHeader({ token: "t", host: NATIVE_REUSE_HOST, port: 1 }),
    encodeNativeTcpHeader({ token: "t", host: "10.0.0.1", port: 80 }),
  );
  const conn = new ChunkConn([first, ...chunked(frames, cuts)]);
  const target = new SinkTarget();
  const handler = nativeTcpHandler({
    resolveToken: () => ({ id: "fuzz", scopes: [], resources: {} }),
    policy: { evaluate: () => "allow" },
    dial: () => Promise.resolve(target as unknown as Deno.TcpConn),
  });
  handler(conn, { remoteAddress: "127.0.0.1", remotePort: 1, transport: "tls" } as Info);
  await conn.done;
  const want = payloadsOf(frames);
  assert.deepEqual(target.got, want.delivered);
  assert.deepEqual(conn.written.slice(0, 2), [NativeTcpStatus.OK, NativeTcpStatus.OK]);
  if (want.ended) assert.deepEqual(conn.written.slice(2, 6), [0, 0, 0, 0]);
}

const frame = fc.uint8Array({ maxLength: 40 }).map((p) => {
  const f = new Uint8Array(FRAME_PREFIX + p.length);
  new DataView(f.buffer).setUint32(0, p.length);
  f.set(p, FRAME_PREFIX);
  return f;
});
const frames = fc.array(frame, { maxLength: 5 }).map((fs) => concat(...fs));

const header = fc.record({
  token: fc.stringMatching(/^[!-~]{1,80}$/),
  host: fc.stringMatching(/^[!-.0-~]{1,60}$/),
  port: fc.integer({ min: 1, max: 65535 }),
});
const encoded = header.map(encodeNativeTcpHeader);

export const cases: FuzzCase[] = [
  {
    name:
      "native server: hostile headers in chunks get one status byte (FORBIDDEN or MALFORMED) and a close",
    runs: 700,
    property: fc.asyncProperty(
      fc.oneof(
        encoded,
        fc.tuple(encoded, fc.uint8Array({ maxLength: 16 })).map(([h, extra]) => concat(h, extra)),
        mutatedBytes(encoded),
        rawBytes,
        rawBytes.map((b) => concat(Uint8Array.of(1), b)),
      ),
      cutPoints,
      async (b, cuts) => await checkHandler(b, cuts),
    ),
  },
  {
    name:
      "native server: hostile frames on a reusable connection reach the target exactly as well-formed, then a close",
    runs: 500,
    property: fc.asyncProperty(
      fc.oneof(
        frames,
        frames.map((f) => concat(f, new Uint8Array(FRAME_PREFIX))),
        fc.tuple(frames, rawBytes).map(([f, r]) => concat(f, new Uint8Array(FRAME_PREFIX), r)),
        mutatedBytes(frames),
        rawBytes,
      ),
      cutPoints,
      async (b, cuts) => await checkFrames(b, cuts),
    ),
  },
];

fuzzTests(cases);
