import assert from "node:assert/strict";
import {
  decodeFrameBody,
  decodeMessage,
  encodeFrame,
  encodeMessage,
  type Envelope,
  errorEnvelope,
  FrameDecoder,
  MAX_FRAME_BYTES,
  newCallId,
  toEnvelope,
} from "./wire.ts";
import { ProtocolError } from "./errors.ts";

const te = new TextEncoder();

function frameOf(text: string): Uint8Array {
  const body = te.encode(text);
  const f = new Uint8Array(4 + body.length);
  new DataView(f.buffer).setUint32(0, body.length);
  f.set(body, 4);
  return f;
}

function prefix(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

Deno.test("wire: ids are UUID v4", () => {
  for (let i = 0; i < 100; i++) {
    assert.match(
      newCallId(),
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  }
});

Deno.test("wire: every event type round-trips through frames and messages", () => {
  const envs: Envelope[] = [
    {
      type: "call.requested",
      id: "a",
      payload: {
        operationId: "/node/ping",
        input: { x: "é✓" },
        auth_token: "t",
        forwarded_for: "f",
        timeout_ms: 5,
      },
    },
    { type: "call.responded", id: "a", payload: { output: [1, 2] } },
    { type: "call.completed", id: "a", payload: {} },
    { type: "call.aborted", id: "a", payload: {} },
    errorEnvelope("a", "TIMEOUT", "late"),
    errorEnvelope("a", "X", "m", false, { k: 1 }),
  ];
  for (const e of envs) {
    const d = new FrameDecoder();
    const bodies = d.push(encodeFrame(e));
    assert.equal(bodies.length, 1);
    assert.deepEqual(decodeFrameBody(bodies[0]), e);
    assert.deepEqual(decodeMessage(encodeMessage(e)), e);
    d.finish();
  }
});

Deno.test("wire: call.error omits details when absent", () => {
  const e = errorEnvelope("a", "NOT_FOUND", "nope");
  assert.equal("details" in e.payload, false);
  assert.equal(new TextDecoder().decode(encodeMessage(e)).includes("details"), false);
  assert.equal(e.payload.retryable, false);
  assert.equal(errorEnvelope("a", "TIMEOUT", "t").payload.retryable, true);
  const parsed = decodeMessage(
    '{"type":"call.error","id":"a","payload":{"code":"X","message":"m","retryable":false}}',
  );
  assert.equal("details" in parsed.payload, false);
});

Deno.test("wire: zero length is a protocol error", () => {
  assert.throws(() => new FrameDecoder().push(prefix(0)), ProtocolError);
});

Deno.test("wire: 64 MiB + 1 is refused from the prefix alone; 64 MiB is accepted", () => {
  const d = new FrameDecoder();
  assert.throws(() => d.push(prefix(MAX_FRAME_BYTES + 1)), /exceeds/);
  const ok = new FrameDecoder();
  assert.deepEqual(ok.push(prefix(MAX_FRAME_BYTES)), []);
  assert.equal(ok.buffered, 0);
  assert.throws(() => ok.finish(), /body/);
});

Deno.test("wire: truncated prefix and truncated body", () => {
  const d = new FrameDecoder();
  d.push(new Uint8Array([0, 0]));
  assert.throws(() => d.finish(), /length prefix/);
  const f = encodeFrame({ type: "call.completed", id: "x", payload: {} });
  const d2 = new FrameDecoder();
  assert.deepEqual(d2.push(f.subarray(0, f.length - 1)), []);
  assert.throws(() => d2.finish(), /body/);
});

Deno.test("wire: invalid JSON, invalid UTF-8 and malformed envelopes", () => {
  const cases = [
    "{not json",
    "[]",
    "null",
    '{"type":"call.requested","id":"a","payload":{}}',
    '{"type":"call.nope","id":"a","payload":{}}',
    '{"type":"call.completed","id":"","payload":{}}',
    '{"type":"call.completed","id":"a","payload":[]}',
    '{"type":"call.error","id":"a","payload":{"code":1}}',
    '{"type":"call.requested","id":"a","payload":{"operationId":"/x/y","timeout_ms":-1}}',
  ];
  for (const c of cases) {
    const bodies = new FrameDecoder().push(frameOf(c));
    assert.throws(() => decodeFrameBody(bodies[0]), ProtocolError, c);
  }
  assert.throws(() => decodeFrameBody(new Uint8Array([0xff, 0xfe, 0x7b])), ProtocolError);
  assert.throws(() => toEnvelope("x"), ProtocolError);
});

Deno.test("wire: a valid frame followed by trailing bytes", () => {
  const f = encodeFrame({ type: "call.completed", id: "x", payload: {} });
  const buf = new Uint8Array(f.length + 3);
  buf.set(f);
  buf.set([0, 0, 1], f.length);
  const d = new FrameDecoder();
  const bodies = d.push(buf);
  assert.equal(bodies.length, 1);
  assert.equal(decodeFrameBody(bodies[0]).id, "x");
  assert.equal(d.buffered, 3);
  assert.throws(() => d.finish(), ProtocolError);
});

Deno.test("wire: frames split at every byte boundary and many per chunk", () => {
  const envs: Envelope[] = Array.from({ length: 5 }, (_, i) => ({
    type: "call.responded",
    id: `id${i}`,
    payload: { output: "x".repeat(i * 7) },
  }));
  const all = envs.map(encodeFrame);
  const joined = new Uint8Array(all.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of all) {
    joined.set(f, o);
    o += f.length;
  }
  for (let cut = 1; cut < joined.length; cut++) {
    const d = new FrameDecoder();
    const got = [...d.push(joined.subarray(0, cut)), ...d.push(joined.subarray(cut))];
    assert.deepEqual(got.map(decodeFrameBody), envs);
    d.finish();
  }
  const d = new FrameDecoder();
  const got: Uint8Array[] = [];
  for (let i = 0; i < joined.length; i++) got.push(...d.push(joined.subarray(i, i + 1)));
  assert.deepEqual(got.map(decodeFrameBody), envs);
});

Deno.test("wire: fuzz — random and mutated frames never throw anything but ProtocolError, never exceed the cap", () => {
  let seed = 0x2545f491;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const cap = 4096;
  const base = encodeFrame({
    type: "call.requested",
    id: newCallId(),
    payload: { operationId: "/node/ping", input: { a: [1, "b", null] } },
  });
  let frames = 0;
  let errors = 0;
  for (let round = 0; round < 3000; round++) {
    let data: Uint8Array;
    if (round % 3 === 0) {
      data = new Uint8Array(Math.floor(rnd() * 64));
      for (let i = 0; i < data.length; i++) data[i] = Math.floor(rnd() * 256);
    } else {
      data = base.slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) {
        data[Math.floor(rnd() * data.length)] = Math.floor(rnd() * 256);
      }
      if (round % 3 === 2) data = data.subarray(0, Math.floor(rnd() * data.length));
    }
    const d = new FrameDecoder(cap);
    try {
      let off = 0;
      while (off < data.length) {
        const n = 1 + Math.floor(rnd() * 16);
        for (const body of d.push(data.subarray(off, off + n))) {
          assert.ok(body.length >= 1 && body.length <= cap);
          frames++;
          decodeFrameBody(body);
        }
        assert.ok(d.buffered <= cap + 4);
        off += n;
      }
      d.finish();
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      errors++;
    }
  }
  assert.ok(errors > 0 && frames > 0);
});

Deno.test("wire: copyRetained lets the caller reuse its read buffer", () => {
  const envs: Envelope[] = Array.from({ length: 4 }, (_, i) => ({
    type: "call.responded",
    id: `id${i}`,
    payload: { output: "y".repeat(i * 11) },
  }));
  const joined = new Uint8Array(envs.map(encodeFrame).reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of envs.map(encodeFrame)) {
    joined.set(f, o);
    o += f.length;
  }
  for (let step = 1; step <= 9; step++) {
    const d = new FrameDecoder(MAX_FRAME_BYTES, true);
    const buf = new Uint8Array(16);
    const got: Envelope[] = [];
    for (let off = 0; off < joined.length; off += step) {
      const n = Math.min(step, joined.length - off);
      buf.set(joined.subarray(off, off + n));
      for (const body of d.push(buf.subarray(0, n))) got.push(decodeFrameBody(body));
      buf.fill(0xee); // the next read overwrites the buffer
    }
    assert.deepEqual(got, envs);
    d.finish();
  }
});

Deno.test("wire: pushTexts decodes whole frames of a chunk together, same texts as one by one", () => {
  const texts = [
    '{"a":1}',
    '{"b":"é ü €"}',
    '{"c":"\u{1F600}"}',
    '"x"',
    "{}",
    '{"big":"' + "y".repeat(300) + '"}',
  ];
  const cat = (parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  // ASCII only (one decode), mixed (one by one), and a partial frame at the end.
  const ascii = [texts[0], texts[3], texts[4], texts[5]];
  assert.deepEqual(new FrameDecoder().pushTexts(cat(ascii.map(frameOf))), ascii);
  assert.deepEqual(new FrameDecoder().pushTexts(cat(texts.map(frameOf))), texts);
  const d = new FrameDecoder();
  const all = cat([...ascii.map(frameOf), frameOf(texts[1])]);
  assert.deepEqual(d.pushTexts(all.subarray(0, all.length - 3)), ascii);
  assert.deepEqual(d.pushTexts(all.subarray(all.length - 3)), [texts[1]]);
  d.finish();
  // An invalid byte in one body: that body is null, the others are text.
  const bad = frameOf('{"z":"??"}');
  bad[9] = 0xff;
  bad[10] = 0x80;
  assert.deepEqual(new FrameDecoder().pushTexts(cat([frameOf("{}"), bad, frameOf("[]")])), [
    "{}",
    null,
    "[]",
  ]);
  // A body that holds U+FFFD itself (valid UTF-8) stays text.
  assert.deepEqual(new FrameDecoder().pushTexts(cat([frameOf('"\uFFFD"'), frameOf("1")])), [
    '"\uFFFD"',
    "1",
  ]);
});
