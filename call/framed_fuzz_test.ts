// Property-based fuzzing of the framed envelope transport's receive side:
// hostile byte streams (direct reads and web streams, arbitrary chunking)
// deliver a prefix of what a reference decoder finds and close exactly
// once, cleanly or with a ProtocolError.
import assert from "node:assert/strict";
import {
  assertTypedError,
  chunked,
  concat,
  cutPoints,
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedBytes,
  outcome,
  rawBytes,
} from "../tests/fuzz_util.ts";
import type { ByteDuplex } from "./byte_duplex.ts";
import { ProtocolError } from "./errors.ts";
import { framedTransport } from "./framed.ts";
import { decodeFrameBody, encodeFrame, type Envelope } from "./wire.ts";

const CAP = 4096;

/** What a correct receiver delivers: envelopes up to the first problem, and whether the stream is clean. */
function reference(stream: Uint8Array): { envelopes: Envelope[]; clean: boolean } {
  const envelopes: Envelope[] = [];
  let off = 0;
  while (stream.length - off >= 4) {
    const n = new DataView(stream.buffer, stream.byteOffset + off, 4).getUint32(0);
    if (n === 0 || n > CAP) return { envelopes, clean: false };
    if (stream.length - off - 4 < n) return { envelopes, clean: false };
    const r = outcome(() => decodeFrameBody(stream.subarray(off + 4, off + 4 + n)), [
      ProtocolError,
    ]);
    if (!r.ok) return { envelopes, clean: false };
    envelopes.push(r.value);
    off += 4 + n;
  }
  return { envelopes, clean: off === stream.length };
}

function duplexOf(
  chunks: Uint8Array[],
  direct: boolean,
): { duplex: ByteDuplex; reads: () => number } {
  let reads = 0;
  const queue = chunks.map((c) => c.slice());
  const sink = new WritableStream<Uint8Array>();
  if (direct) {
    return {
      duplex: {
        readable: new ReadableStream<Uint8Array>(),
        writable: sink,
        read: (buf: Uint8Array) => {
          reads++;
          const c = queue.shift();
          if (c === undefined) return Promise.resolve(null);
          const n = Math.min(buf.length, c.length);
          buf.set(c.subarray(0, n));
          if (n < c.length) queue.unshift(c.subarray(n));
          return Promise.resolve(n);
        },
        write: (d: Uint8Array) => Promise.resolve(d.length),
      },
      reads: () => reads,
    };
  }
  const readable = new ReadableStream<Uint8Array>({
    pull(ctl) {
      reads++;
      const c = queue.shift();
      if (c === undefined) ctl.close();
      else ctl.enqueue(c);
    },
  });
  return { duplex: { readable, writable: sink }, reads: () => reads };
}

async function checkFramed(stream: Uint8Array, cuts: number[], direct: boolean): Promise<void> {
  const chunks = chunked(stream, cuts);
  const { duplex, reads } = duplexOf(chunks, direct);
  const got: Envelope[] = [];
  const closes: (Error | undefined)[] = [];
  let done!: () => void;
  const closed = new Promise<void>((r) => done = r);
  const t = framedTransport(duplex, { maxFrameBytes: CAP });
  t.start({
    message: (e: Envelope) => got.push(e),
    close: (err?: Error) => {
      closes.push(err);
      done();
    },
  });
  await closed;
  // Bounded: one read per chunk (direct reads may split one), plus the one that sees the end.
  assert.ok(reads() <= 2 * chunks.length + 1, `${reads()} reads for ${chunks.length} chunks`);
  assert.equal(closes.length, 1);
  const ref = reference(stream);
  assert.ok(got.length <= ref.envelopes.length);
  assert.deepEqual(got, ref.envelopes.slice(0, got.length));
  if (ref.clean) {
    assert.equal(closes[0], undefined);
    assert.equal(got.length, ref.envelopes.length);
  } else {
    assertTypedError(closes[0], [ProtocolError]);
  }
}

const envelope: fc.Arbitrary<Envelope> = fc.oneof(
  fc.record({
    type: fc.constant("call.requested" as const),
    id: fc.uuid(),
    payload: fc.record({
      operationId: fc.constantFrom("/demo/echo", "/x/y"),
      input: fc.jsonValue({ maxDepth: 2 }),
    }),
  }),
  fc.record({
    type: fc.constant("call.responded" as const),
    id: fc.uuid(),
    payload: fc.record({ output: fc.jsonValue({ maxDepth: 2 }) }),
  }),
  fc.record({
    type: fc.constant("call.aborted" as const),
    id: fc.uuid(),
    payload: fc.constant({}),
  }),
).map((e) => JSON.parse(JSON.stringify(e)) as Envelope).filter((e) =>
  encodeFrame(e).length - 4 <= CAP
);

const stream = fc.array(envelope, { maxLength: 5 }).map((es) => concat(...es.map(encodeFrame)));

/** Frames whose bodies are not envelopes (bad JSON, bad UTF-8, wrong shapes). */
const badBodies = fc.array(
  fc.oneof(rawBytes, fc.string().map((s) => new TextEncoder().encode(s))).filter((b) =>
    b.length >= 1 && b.length <= CAP
  ),
  { maxLength: 4 },
).map((bodies) =>
  concat(...bodies.map((b) => {
    const h = new Uint8Array(4);
    new DataView(h.buffer).setUint32(0, b.length);
    return concat(h, b);
  }))
);

export const cases: FuzzCase[] = [
  {
    name:
      "call framed transport: valid, mutated and random streams in chunks (direct reads and web streams)",
    runs: 850,
    property: fc.asyncProperty(
      fc.oneof(
        stream,
        mutatedBytes(stream),
        rawBytes,
        badBodies,
        fc.tuple(stream, badBodies).map(([a, b]) => concat(a, b)),
      ),
      cutPoints,
      fc.boolean(),
      async (s, cuts, direct) => await checkFramed(s, cuts, direct),
    ),
  },
];

fuzzTests(cases);

Deno.test("framed: envelopes queued during a write go out together, as the same frames, ASCII or not", async () => {
  for (
    const texts of [["a", "b", "c"], ["a", "é €", "\u{1F600}", "d"], ["x".repeat(70_000), "y"]]
  ) {
    const written: Uint8Array[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const duplex: ByteDuplex = {
      readable: new ReadableStream(),
      writable: new WritableStream(),
      read: () => new Promise<null>(() => {}),
      write: async (b) => {
        written.push(b.slice());
        await gate;
        return b.byteLength;
      },
      close: () => {},
    };
    const t = framedTransport(duplex);
    t.start({ message: () => {}, close: () => {} });
    const sent: Envelope[] = texts.map((text, i) => ({
      type: "call.responded",
      id: `id-${i}`,
      payload: { output: text },
    }));
    for (const e of sent) t.send(e); // the first write is in flight; the rest queue
    release();
    for (let i = 0; i < 100 && written.length < 2; i++) await new Promise((r) => setTimeout(r, 1));
    assert.equal(written.length, 2);
    const expected = concat(...sent.map((e) => encodeFrame(e)));
    assert.deepEqual(concat(...written), expected);
    t.close();
  }
});
