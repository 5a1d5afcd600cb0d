/**
 * `@alknet/call` — the alknet call protocol: typed operations between nodes,
 * in both directions, with streaming, cancellation, access control and
 * discovery.
 *
 * Define operations with JSON Schemas on an {@link OperationRegistry}, serve
 * them on a whole node (`serve({ calls })` in `@alknet/core`), over TLS,
 * WebSocket, TCP or any byte stream, and call them from another process
 * with {@link connectCall} over `ssh://`, `tcp://`, `tls://`, `quic://`,
 * `ws://`, `wss://` or `iroh://`. Both ends run the same dispatcher, so the
 * server can call the client too.
 *
 * @example Serve and call over TCP in one process
 * ```ts
 * import { connectCall, OperationRegistry, serveCallTcp } from "@alknet/call";
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
 * const server = await serveCallTcp({ registry });
 * const conn = await connectCall(server.url);
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
 * @example Call an operation on a node over SSH with your identity key
 * ```ts
 * import { connectCall } from "@alknet/call";
 * const conn = await connectCall("ssh://127.0.0.1:2222", {
 *   identity: "./id_alknet",
 *   knownHosts: "./known_hosts",
 * })
 *   .catch((e) => console.log(e.code)); // "options" here: there is no ./id_alknet
 * if (conn) console.log(await conn.call("node/info", {}));
 * await conn?.close();
 * ```
 *
 * @example Serve in this process, call, subscribe and abort from another Deno process
 * ```ts
 * import {
 *   CallError,
 *   OperationRegistry,
 *   registerNodeOperations,
 *   serveCallTcp,
 * } from "@alknet/call";
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
 * const server = await serveCallTcp({ registry });
 *
 * const client = `
 *   import { connectCall } from "@alknet/call";
 *   const conn = await connectCall("${server.url}");
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
  type ByteDuplex,
  duplexFromConn,
  fromNodeDuplex,
  type NodeDuplexLike,
  type ReadWriteConn,
} from "./byte_duplex.ts";
export type { AbortLink, Caller, CallOptions, CallSubscription } from "./caller.ts";
export {
  acceptCallStream,
  type AcceptCallStreamOptions,
  CALL_ALPN,
  type CallServer,
  type ServeCallOptions,
  serveCallTcp,
  type ServedConnectionOptions,
} from "./carrier_stream.ts";
export { type CertificateSource, serveCallTls, type ServeCallTlsOptions } from "./carrier_tls.ts";
export {
  CALL_WS_PATH,
  callWebSocketHandler,
  serveCallWebSocket,
  type ServeCallWebSocketOptions,
  type WebSocketHandlerOptions,
} from "./carrier_ws.ts";
export { CallClient, fromCall, type FromCallOptions, PeerOperations } from "./client.ts";
export { connectCall, type ConnectCallOptions } from "./connect.ts";
export type { IdentityKey } from "./connect_carriers.ts";
export { CALL_SCHEMES, type CallScheme } from "./connect_target.ts";
export { CallConnection, type ConnectionOptions } from "./connection.ts";
export type { CallContext, ChildPolicy, InvokeOptions, ScopedEnv } from "./context.ts";
export {
  type OperationRegistrar,
  type OperationSummary,
  type PeerList,
  registerDiscovery,
  type ServiceList,
} from "./discovery.ts";
export { CompositeEnv, type CompositeEnvOptions, type PeerRouter } from "./env.ts";
export {
  CallError,
  type CallErrorCode,
  type CallErrorOptions,
  ConnectError,
  type ConnectErrorCode,
  ConnectionClosedError,
  type ErrorPayloadShape,
  isProtocolErrorCode,
  type LocalErrorCode,
  PROTOCOL_ERROR_CODES,
  ProtocolError,
  type ProtocolErrorCode,
  RegistrationError,
  SamePeerCollisionError,
} from "./errors.ts";
export { framedTransport, type FramedTransportOptions } from "./framed.ts";
export type { Authenticate } from "./incoming.ts";
export { invokeOperation, subscribeOperation } from "./local.ts";
export {
  type NodeCallConn,
  type NodeCallPeer,
  serveNodeCallStream,
  serveNodeCallWebSocket,
} from "./node_carriers.ts";
export {
  defaultOutputValidation,
  type InvalidOutputReporter,
  type OutputValidation,
} from "./output_check.ts";
export { MeshHead, type MeshHeadOptions, type WorkerEvent, WorkerGoneError } from "./mesh_head.ts";
export {
  defaultWorkerPolicy,
  MESH_WORKER_SCOPE,
  workerNameProblem,
  type WorkerPolicy,
  type WorkerRegistration,
} from "./mesh_policy.ts";
export {
  defaultHeadIdentity,
  type HeadIdentity,
  joinMesh,
  type JoinMeshOptions,
  type MeshMembership,
  type MeshMembershipEvent,
  registerWorker,
  serveWorkerStream,
  type WorkerLink,
  type WorkerStreamOptions,
} from "./mesh_worker.ts";
export { OperationRegistry, type RegistryOptions } from "./registry.ts";
export { DEFAULT_TIMEOUT_MS } from "./request.ts";
export {
  allowed,
  type CallEvent,
  type CallHandler,
  type CallObserver,
  type LocalInvokeOptions,
  type OperationDefinition,
  type OperationEntry,
  type OperationRouter,
  type SubscriptionHandler,
} from "./router.ts";
export { type JsonSchema, SchemaCompiler, type ValidationIssue, type Validator } from "./schema.ts";
export type { ErrorSpec, OperationSpec, OperationType, PeerInfo, Visibility } from "./spec.ts";
export {
  type HandlerOf,
  type ImplementOptions,
  type InputOf,
  operation,
  type OperationDeclaration,
  type OutputOf,
  type TypedApi,
  typedApi,
  type TypedOperation,
} from "./typed.ts";
export type {
  SchemaArray,
  SchemaExtra,
  SchemaIntersection,
  SchemaObject,
  SchemaRequired,
  SchemaType,
  SchemaTypeName,
} from "./typed_schema.ts";
export {
  type EnvelopeTransport,
  memoryTransportPair,
  type TransportHandlers,
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
export { type WebSocketLike, webSocketTransport } from "./ws_transport.ts";
