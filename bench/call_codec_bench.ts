/**
 * `deno bench -A bench/call_codec_bench.ts`: the call protocol's codec and
 * dispatcher in one process (no sockets).
 *
 * @module
 */

import {
  CallConnection,
  decodeFrameBody,
  decodeMessage,
  encodeFrame,
  encodeMessage,
  type Envelope,
  FrameDecoder,
  memoryTransportPair,
  OperationRegistry,
} from "../call/mod.ts";

const request: Envelope = {
  type: "call.requested",
  id: crypto.randomUUID(),
  payload: { operationId: "/bench/echo", input: { text: "x".repeat(80), n: 1 } },
};
const frame = encodeFrame(request);
const message = encodeMessage(request);
const batch = new Uint8Array(frame.length * 64);
for (let i = 0; i < 64; i++) batch.set(frame, i * frame.length);

Deno.bench("encodeFrame (≈170-byte request)", { group: "codec", baseline: true }, () => {
  encodeFrame(request);
});
Deno.bench("FrameDecoder.push + decodeFrameBody (one frame)", { group: "codec" }, () => {
  const d = new FrameDecoder();
  for (const b of d.push(frame)) decodeFrameBody(b);
});
Deno.bench("FrameDecoder: 64 frames in one chunk", { group: "codec" }, () => {
  const d = new FrameDecoder();
  for (const b of d.push(batch)) decodeFrameBody(b);
});
Deno.bench("FrameDecoder: one frame split in 3 chunks", { group: "codec" }, () => {
  const d = new FrameDecoder();
  d.push(frame.subarray(0, 2));
  d.push(frame.subarray(2, 40));
  for (const b of d.push(frame.subarray(40))) decodeFrameBody(b);
});
Deno.bench("encodeMessage + decodeMessage (WebSocket codec)", { group: "codec" }, () => {
  decodeMessage(encodeMessage(request));
  void message;
});

const registry = new OperationRegistry();
registry.register({
  name: "bench/echo",
  type: "query",
  input_schema: {
    type: "object",
    properties: { text: { type: "string" }, n: { type: "integer" } },
    required: ["text"],
  },
  handler: (x) => x,
});
registry.register({
  name: "bench/compose",
  type: "query",
  allow: ["bench/echo"],
  handler: (x, ctx) => ctx.env.invoke("bench/echo", x),
});
const input = { text: "x".repeat(80), n: 1 };

Deno.bench("registry.invoke (lookup, access, ajv validation, handler)", {
  group: "dispatch",
  baseline: true,
}, async () => {
  await registry.invoke("bench/echo", input);
});
Deno.bench(
  "registry.invoke of a composing handler (one env.invoke child)",
  { group: "dispatch" },
  async () => {
    await registry.invoke("bench/compose", input);
  },
);

const [a, b] = memoryTransportPair();
const server = new CallConnection(a, { router: registry });
const client = new CallConnection(b);
Deno.bench("connection round trip over an in-memory pair (JSON copies, both dispatchers)", {
  group: "dispatch",
}, async () => {
  await client.call("bench/echo", input);
});

globalThis.addEventListener("unload", () => {
  void client.close();
  void server.closed;
});
