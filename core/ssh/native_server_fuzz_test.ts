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
];

fuzzTests(cases);
