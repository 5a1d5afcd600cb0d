// Property-based fuzzing of the call wire format: envelope decoding from
// WebSocket messages (bytes or text) and from parsed JSON, and the
// length-prefixed frame decoder fed in arbitrary chunks.
import assert from "node:assert/strict";
import {
  chunked,
  concat,
  cutPoints,
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedBytes,
  mutatedText,
  outcome,
  rawBytes,
  rawText,
} from "../tests/fuzz_util.ts";
import { ProtocolError } from "./errors.ts";
import {
  decodeFrameBody,
  decodeMessage,
  encodeFrame,
  encodeMessage,
  type Envelope,
  FrameDecoder,
  toEnvelope,
} from "./wire.ts";

const TYPES = new Set([
  "call.requested",
  "call.responded",
  "call.completed",
  "call.aborted",
  "call.error",
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What every decoded envelope must look like. */
function checkEnvelope(e: Envelope): void {
  assert.ok(TYPES.has(e.type), e.type);
  assert.equal(typeof e.id, "string");
  assert.ok(e.id.length >= 1 && e.id.length <= 128);
  assert.ok(isObject(e.payload));
  switch (e.type) {
    case "call.requested": {
      const p = e.payload;
      assert.equal(typeof p.operationId, "string");
      assert.ok("input" in p);
      for (const k of ["auth_token", "forwarded_for"] as const) {
        assert.ok(p[k] === undefined || typeof p[k] === "string");
      }
      const t = p.timeout_ms;
      assert.ok(t === undefined || (typeof t === "number" && Number.isFinite(t) && t >= 0));
      break;
    }
    case "call.responded":
      assert.ok("output" in e.payload);
      break;
    case "call.error":
      assert.equal(typeof e.payload.code, "string");
      assert.equal(typeof e.payload.message, "string");
      assert.equal(typeof e.payload.retryable, "boolean");
      break;
  }
}

function checkDecode(data: Uint8Array | string): void {
  const r = outcome(() => decodeMessage(data), [ProtocolError]);
  if (r.ok) checkEnvelope(r.value);
}

// ---------------------------------------------------------------------------
// Valid envelopes.

const id = fc.oneof(
  fc.uuid(),
  fc.string({ minLength: 1, maxLength: 128, unit: "binary" }),
);
const json = fc.jsonValue({ maxDepth: 3 });

const envelope: fc.Arbitrary<Envelope> = fc.oneof(
  fc.record({
    type: fc.constant("call.requested" as const),
    id,
    payload: fc.record(
      {
        operationId: fc.string({ unit: "binary", maxLength: 40 }),
        input: json,
        auth_token: fc.string({ maxLength: 140 }),
        forwarded_for: fc.string({ maxLength: 60 }),
        timeout_ms: fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e12, noNaN: true })),
      },
      { requiredKeys: ["operationId", "input"] },
    ),
  }),
  fc.record({
    type: fc.constant("call.responded" as const),
    id,
    payload: fc.record({ output: json }),
  }),
  fc.record({
    type: fc.constantFrom("call.completed" as const, "call.aborted" as const),
    id,
    payload: fc.constant({}),
  }),
  fc.record({
    type: fc.constant("call.error" as const),
    id,
    payload: fc.record(
      {
        code: fc.constantFrom("NOT_FOUND", "TIMEOUT", "INTERNAL", "OUT_OF_STOCK"),
        message: fc.string({ unit: "binary", maxLength: 60 }),
        retryable: fc.boolean(),
        details: json,
      },
      { requiredKeys: ["code", "message", "retryable"] },
    ),
  }),
  // JSON round trips plain objects only; fast-check records have a null prototype.
).map((e) => JSON.parse(JSON.stringify(e)) as Envelope);

/** Values near the envelope shape: right keys, wrong types. */
const nearEnvelope = fc.record({
  type: fc.oneof(fc.constantFrom(...TYPES), fc.string(), json),
  id: fc.oneof(id, fc.constant(""), fc.constant("x".repeat(129)), json),
  payload: fc.oneof(
    fc.dictionary(
      fc.constantFrom(
        "operationId",
        "input",
        "output",
        "auth_token",
        "forwarded_for",
        "timeout_ms",
        "code",
        "message",
        "retryable",
        "details",
        "expect",
        "__proto__",
      ),
      fc.oneof(json, fc.constantFrom(-1, Infinity, NaN, "", null)),
    ),
    json,
  ),
}, { requiredKeys: [] });

// ---------------------------------------------------------------------------
// Frames.

/** Reference decoder: whole stream at once. */
function referenceFrames(
  stream: Uint8Array,
  cap: number,
): { bodies: Uint8Array[]; error: boolean; rest: number } {
  const bodies: Uint8Array[] = [];
  let off = 0;
  while (stream.length - off >= 4) {
    const n = new DataView(stream.buffer, stream.byteOffset + off, 4).getUint32(0);
    if (n === 0 || n > cap) return { bodies, error: true, rest: 0 };
    if (stream.length - off - 4 < n) break;
    bodies.push(stream.subarray(off + 4, off + 4 + n));
    off += 4 + n;
  }
  return { bodies, error: false, rest: stream.length - off };
}

/**
 * Feeds `stream` in chunks: bodies are a prefix of the reference's (all of
 * them without an error), the error happens iff the reference has one, the
 * decoder never holds more than one incomplete frame, and `finish` throws
 * iff a frame was cut short.
 */
function checkFrames(stream: Uint8Array, cuts: number[], cap: number, copy: boolean): Uint8Array[] {
  const ref = referenceFrames(stream, cap);
  const d = new FrameDecoder(cap, copy);
  const got: Uint8Array[] = [];
  let failed = false;
  for (const c of chunked(stream, cuts)) {
    const r = outcome(() => d.push(copy ? c.slice() : c), [ProtocolError]);
    if (!r.ok) {
      failed = true;
      break;
    }
    for (const b of r.value) {
      assert.ok(b.length >= 1 && b.length <= cap);
      got.push(b.slice());
    }
    // Memory bound: at most one incomplete frame is held, never past the cap.
    assert.ok(d.buffered <= Math.max(3, cap - 1), `buffered ${d.buffered} with cap ${cap}`);
  }
  assert.equal(failed, ref.error);
  assert.ok(got.length <= ref.bodies.length);
  got.forEach((b, i) => assert.deepEqual(b, ref.bodies[i]));
  if (!failed) {
    assert.equal(got.length, ref.bodies.length);
    const fin = outcome(() => d.finish(), [ProtocolError]);
    assert.equal(fin.ok, ref.rest === 0);
  }
  return got;
}

const frameStream = fc.array(envelope, { maxLength: 6 }).map((es) =>
  concat(...es.map(encodeFrame))
);

export const cases: FuzzCase[] = [
  {
    name: "call wire: decodeMessage on raw bytes and text gives an envelope or ProtocolError",
    runs: 2100,
    property: fc.property(fc.oneof(rawBytes, rawText), (d) => checkDecode(d)),
  },
  {
    name: "call wire: toEnvelope on arbitrary and near-envelope JSON values",
    runs: 2100,
    property: fc.property(
      fc.oneof(fc.anything({ maxDepth: 3 }), nearEnvelope, json),
      (v) => {
        const r = outcome(() => toEnvelope(structuredClone(v)), [ProtocolError]);
        if (r.ok) checkEnvelope(r.value);
        // The same value as a message decodes the same way.
        let text: string | undefined;
        try {
          text = JSON.stringify(v);
        } catch {
          text = undefined; // not JSON (e.g. a cycle or a bigint): nothing to compare
        }
        if (text !== undefined) checkDecode(text);
      },
    ),
  },
  {
    name: "call wire: mutated envelope JSON (text and UTF-8 bytes)",
    runs: 2100,
    property: fc.property(
      fc.oneof(
        mutatedText(envelope.map((e) => JSON.stringify(e))),
        mutatedBytes(envelope.map(encodeMessage)),
      ),
      (d) => checkDecode(d),
    ),
  },
  {
    name: "call wire: encodeMessage/encodeFrame -> decode round trip",
    runs: 1400,
    property: fc.property(envelope, (e) => {
      assert.deepEqual(decodeMessage(encodeMessage(e)), e);
      assert.deepEqual(decodeMessage(JSON.stringify(e)), e);
      const f = encodeFrame(e);
      assert.equal(new DataView(f.buffer, f.byteOffset).getUint32(0), f.length - 4);
      assert.deepEqual(decodeFrameBody(f.subarray(4)), e);
    }),
  },
  {
    name: "call frames: envelopes framed, split anywhere, decode to the same envelopes",
    runs: 1050,
    property: fc.property(
      fc.array(envelope, { maxLength: 6 }),
      cutPoints,
      fc.boolean(),
      (es, cuts, copy) => {
        const stream = concat(...es.map(encodeFrame));
        const bodies = checkFrames(stream, cuts, 64 * 1024 * 1024, copy);
        assert.deepEqual(bodies.map(decodeFrameBody), es);
      },
    ),
  },
  {
    name:
      "call frames: random, mutated and length-lying streams against a reference decoder (memory bounded)",
    runs: 2100,
    property: fc.property(
      fc.oneof(rawBytes, mutatedBytes(frameStream), frameStream),
      cutPoints,
      fc.constantFrom(1, 5, 64, 1024, 64 * 1024 * 1024),
      fc.boolean(),
      (stream, cuts, cap, copy) => {
        const bodies = checkFrames(stream, cuts, cap, copy);
        for (const b of bodies) {
          const r = outcome(() => decodeFrameBody(b), [ProtocolError]);
          if (r.ok) checkEnvelope(r.value);
        }
      },
    ),
  },
  {
    name: "call wire: deeply nested payloads decode without exhausting the stack",
    runs: 50,
    property: fc.property(
      fc.integer({ min: 1, max: 50_000 }),
      fc.constantFrom("[]", "{}"),
      fc.boolean(),
      (depth, pair, cut) => {
        const open = pair === "[]" ? "[" : '{"a":';
        const close = pair === "[]" ? "]" : "}";
        const inner = open.repeat(depth) + "0" + close.repeat(cut ? depth - 1 : depth);
        checkDecode(`{"type":"call.responded","id":"x","payload":{"output":${inner}}}`);
      },
    ),
  },
];

fuzzTests(cases);
