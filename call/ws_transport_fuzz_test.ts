// Property-based fuzzing of the WebSocket envelope transport's receive
// side: hostile messages (bad JSON, bad UTF-8, wrong shapes, non-binary
// types) close the socket with 1002 and a ProtocolError, after the good
// messages before them were delivered.
import assert from "node:assert/strict";
import {
  assertTypedError,
  fc,
  type FuzzCase,
  fuzzTests,
  mutatedBytes,
  outcome,
  rawBytes,
  rawText,
} from "../tests/fuzz_util.ts";
import { ProtocolError } from "./errors.ts";
import { decodeMessage, encodeMessage, type Envelope } from "./wire.ts";
import { type WebSocketLike, webSocketTransport } from "./ws_transport.ts";

class FakeSocket implements WebSocketLike {
  binaryType = "blob";
  readyState = 1;
  bufferedAmount = 0;
  closedWith: number | undefined;
  #listeners = new Map<string, ((ev: { data?: unknown }) => void)[]>();
  send(_data: Uint8Array): void {}
  close(code?: number): void {
    this.closedWith = code ?? 1000;
    this.readyState = 3;
  }
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }
  emit(type: string, data?: unknown): void {
    for (const l of this.#listeners.get(type) ?? []) l({ data });
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
    type: fc.constant("call.completed" as const),
    id: fc.uuid(),
    payload: fc.constant({}),
  }),
).map((e) => JSON.parse(JSON.stringify(e)) as Envelope);

const message: fc.Arbitrary<unknown> = fc.oneof(
  envelope.map((e) => encodeMessage(e)),
  envelope.map((e) => encodeMessage(e).slice().buffer),
  envelope.map((e) => JSON.stringify(e)),
  mutatedBytes(envelope.map(encodeMessage)),
  rawText,
  rawBytes,
  fc.constantFrom(null, 42, new Blob(["x"]), new Uint8Array(0)),
);

function check(messages: unknown[]): void {
  const ws = new FakeSocket();
  const t = webSocketTransport(ws);
  const got: Envelope[] = [];
  const closes: (Error | undefined)[] = [];
  t.start({ message: (e: Envelope) => got.push(e), close: (err?: Error) => closes.push(err) });
  for (const m of messages) ws.emit("message", m);
  ws.emit("close");
  assert.equal(closes.length, 1);
  // Reference: decode each message until the first bad one.
  const expected: Envelope[] = [];
  let bad = false;
  for (const m of messages) {
    if (!(typeof m === "string" || m instanceof ArrayBuffer || m instanceof Uint8Array)) {
      bad = true;
      break;
    }
    const r = outcome(() => decodeMessage(m), [ProtocolError]);
    if (!r.ok) {
      bad = true;
      break;
    }
    expected.push(r.value);
  }
  assert.deepEqual(got, expected);
  if (bad) {
    assertTypedError(closes[0], [ProtocolError]);
    assert.equal(ws.closedWith, 1002);
  } else {
    assert.equal(closes[0], undefined);
  }
}

export const cases: FuzzCase[] = [
  {
    name:
      "call WebSocket transport: hostile messages close with ProtocolError (1002) after the good ones",
    runs: 1400,
    property: fc.property(fc.array(message, { maxLength: 6 }), (ms) => check(ms)),
  },
];

fuzzTests(cases);
