/**
 * `@alknet/call` — the alknet call protocol: typed operations between nodes,
 * in both directions, with streaming, cancellation, access control and
 * discovery.
 *
 * Define operations with JSON Schemas on an {@link OperationRegistry}, serve
 * them over TLS, WebSocket, TCP or any byte stream (the SSH `alknet-control`
 * channel), and call them from another process with a {@link CallConnection}.
 * Both ends run the same dispatcher, so the server can call the client too.
 *
 * @example Serve and call over TCP in one process
 * ```ts
 * import { connectCallTcp, OperationRegistry, serveCallTcp } from "@alknet/call";
 *
 * const registry = new OperationRegistry();
 * registry.register<{ name: string }, { greeting: string }>({
 *   name: "demo/greet",
 *   type: "query",
 *   input_schema: {
 *     type: "object",
 *     properties: { name: { type: "string", minLength: 1 } },
 *     required: ["name"],
 *   },
 *   output_schema: { type: "object", properties: { greeting: { type: "string" } } },
 *   handler: ({ name }) => ({ greeting: `hello, ${name}` }),
 * });
 * registry.register<{ count: number }, number>({
 *   name: "demo/countdown",
 *   type: "subscription",
 *   subscribe: async function* ({ count }, ctx) {
 *     for (let i = count; i > 0 && !ctx.signal.aborted; i--) yield i;
 *   },
 * });
 *
 * const server = serveCallTcp({ hostname: "127.0.0.1", port: 0, registry });
 * const conn = await connectCallTcp({ hostname: "127.0.0.1", port: server.addr.port });
 * console.log(await conn.call("demo/greet", { name: "alk" })); // { greeting: "hello, alk" }
 * for await (const n of conn.subscribe("demo/countdown", { count: 3 })) console.log(n);
 *
 * const abort = new AbortController();
 * const slow = conn.call("demo/greet", { name: "x" }, { signal: abort.signal });
 * abort.abort();
 * await slow.catch((e) => console.log("aborted:", e.name));
 *
 * await conn.close();
 * await server.close();
 * ```
 *
 * @example Serve in this process, call, subscribe and abort from another Deno process
 * ```ts
 * import { CallError, OperationRegistry, registerNodeOperations, serveCallTcp } from "@alknet/call";
 *
 * const registry = new OperationRegistry();
 * registerNodeOperations(registry, { version: "0.1.0" }); // node/info, node/ping, node/ticks
 * registry.register({
 *   name: "demo/slow",
 *   type: "query",
 *   handler: (_input, ctx) =>
 *     new Promise((_resolve, reject) => {
 *       ctx.signal.addEventListener("abort", () => {
 *         console.log("server: demo/slow was aborted by the caller");
 *         reject(new CallError("INTERNAL", "aborted"));
 *       });
 *     }),
 * });
 * const server = serveCallTcp({ hostname: "127.0.0.1", port: 0, registry });
 *
 * const client = `
 *   import { connectCall } from "@alknet/call";
 *   const conn = await connectCall("tcp://127.0.0.1:${server.addr.port}");
 *   console.log(JSON.stringify(await conn.call("node/ping", { from: "another process" })));
 *   for await (const t of conn.subscribe("node/ticks", { count: 3, interval_ms: 10 })) {
 *     console.log(JSON.stringify(t));
 *   }
 *   const abort = new AbortController();
 *   setTimeout(() => abort.abort(), 50);
 *   await conn.call("demo/slow", null, { signal: abort.signal }).catch((e) => console.log(e.name));
 *   await conn.close();
 * `;
 * const out = await new Deno.Command(Deno.execPath(), { args: ["eval", client] }).output();
 * console.log(new TextDecoder().decode(out.stdout)); // {"from":"another process"} {"n":1} ... AbortError
 * await server.close();
 * ```
 *
 * @module
 */

export { accessDenial, type AccessSpec, type Identity, type Principal } from "./access.ts";
export { type NodeInfo, type NodeInfoOptions, registerNodeOperations } from "./builtins.ts";
export {
  CALL_ALPN,
  type CallServer,
  connectCallTcp,
  connectCallTls,
  type ConnectTcpOptions,
  type ConnectTlsOptions,
  duplexFromConn,
  type ReadWriteConn,
  serveCallDuplex,
  serveCallTcp,
  type ServeDuplexOptions,
  type ServeTcpOptions,
} from "./carrier_stream.ts";
export { serveCallTls, type ServeTlsOptions } from "./carrier_tls.ts";
export {
  CALL_WS_PATH,
  callWebSocketHandler,
  connectCallWebSocket,
  type ConnectWebSocketOptions,
  serveCallWebSocket,
  type ServeWebSocketOptions,
  type WebSocketHandlerOptions,
} from "./carrier_ws.ts";
export { CallClient, fromCall, type FromCallOptions, PeerOperations } from "./client.ts";
export { connectCall, type ConnectCallOptions } from "./connect.ts";
export {
  type Authenticate,
  CallConnection,
  type CallOptions,
  type CallSubscription,
  type ConnectionOptions,
} from "./connection.ts";
export type { CallContext, ChildPolicy, InvokeOptions, ScopedEnv } from "./context.ts";
export {
  type OperationSummary,
  type PeerList,
  registerDiscovery,
  type ServiceList,
} from "./discovery.ts";
export {
  type CallEvent,
  type CallObserver,
  DEFAULT_TIMEOUT_MS,
  invokeOperation,
  subscribeOperation,
} from "./dispatch.ts";
export { CompositeEnv, type CompositeEnvOptions, type PeerRouter } from "./env.ts";
export {
  CallError,
  type CallErrorOptions,
  ConnectError,
  type ErrorPayloadShape,
  isProtocolErrorCode,
  PROTOCOL_ERROR_CODES,
  ProtocolError,
  RegistrationError,
  SamePeerCollisionError,
} from "./errors.ts";
export {
  allowed,
  type CallHandler,
  type ErrorSpec,
  type LocalInvokeOptions,
  type OperationDefinition,
  type OperationEntry,
  OperationRegistry,
  type OperationRouter,
  type OperationSpec,
  type OperationType,
  type PeerInfo,
  type RegistryOptions,
  type SubscriptionHandler,
  type Visibility,
} from "./registry.ts";
export { type JsonSchema, SchemaCompiler, type ValidationIssue, type Validator } from "./schema.ts";
export {
  type ByteDuplex,
  type EnvelopeTransport,
  framedTransport,
  type FramedTransportOptions,
  fromNodeDuplex,
  memoryTransportPair,
  type NodeDuplexLike,
  type TransportHandlers,
  type WebSocketLike,
  webSocketTransport,
} from "./transport.ts";
export {
  decodeFrameBody,
  decodeMessage,
  type EmptyPayload,
  encodeFrame,
  encodeMessage,
  type Envelope,
  errorEnvelope,
  type ErrorPayload,
  type EventType,
  FrameDecoder,
  MAX_FRAME_BYTES,
  newCallId,
  type RequestedPayload,
  type RespondedPayload,
  toEnvelope,
} from "./wire.ts";
