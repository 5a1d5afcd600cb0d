/**
 * The worker's side of a mesh: register a connection with a head
 * ({@link registerWorker}), serve a registry as a worker on a byte stream a
 * node dialled ({@link serveWorkerStream}, what `connect(target, { worker })`
 * of `@alknet/core` uses through `OperationRegistry.serveWorker`), or keep
 * a worker registered over any call carrier with reconnects
 * ({@link joinMesh}).
 *
 * @module
 */

import type { Identity } from "./access.ts";
import { duplexFromConn, type ReadWriteConn } from "./byte_duplex.ts";
import type { Caller } from "./caller.ts";
import { connectCall, type ConnectCallOptions } from "./connect.ts";
import { CallConnection } from "./connection.ts";
import { framedTransport } from "./framed.ts";
import type { WorkerRegistration } from "./mesh_policy.ts";
import type { OperationRouter } from "./router.ts";

/**
 * Who the head is, as the worker trusts it: calls from the head run as
 * this identity (default: id `head`, scope `*` — the head checks each
 * caller against the operation's access before forwarding).
 *
 * @example
 * ```ts
 * import type { HeadIdentity } from "@alknet/call";
 * const head: HeadIdentity = { id: "SHA256:head-host-key", scopes: ["node:read"], resources: {} };
 * console.log(head.scopes);
 * ```
 */
export type HeadIdentity = Identity;

/**
 * The identity calls from a head run as when none is given: scope `*`.
 *
 * @example
 * ```ts
 * import { defaultHeadIdentity } from "@alknet/call";
 * console.log(defaultHeadIdentity("SHA256:h")); // { id: "SHA256:h", scopes: ["*"], resources: {} }
 * ```
 */
export function defaultHeadIdentity(id = "head"): Identity {
  return { id, scopes: ["*"], resources: {} };
}

/**
 * Registers `connection` with the head on its other end as worker `name`
 * (`mesh/register`). Rejects with the head's `CallError`: `FORBIDDEN`
 * (no `mesh:worker` scope), `NAME_TAKEN` (a live worker holds the name) or
 * `NAME_REFUSED` (invalid, reserved or not granted).
 *
 * @example
 * ```ts
 * import {
 *   CallConnection,
 *   MeshHead,
 *   memoryTransportPair,
 *   OperationRegistry,
 *   registerWorker,
 * } from "@alknet/call";
 * const [a, b] = memoryTransportPair();
 * new CallConnection(a, { router: new MeshHead(), identity: { id: "k", scopes: ["relay:connect"], resources: {} } });
 * const conn = new CallConnection(b, { router: new OperationRegistry() });
 * await registerWorker(conn, "w1").catch((e) => console.log(e.code)); // "FORBIDDEN"
 * await conn.close();
 * ```
 */
export function registerWorker(
  connection: Caller,
  name: string,
  options: { timeoutMs?: number } = {},
): Promise<WorkerRegistration> {
  return connection.call<WorkerRegistration>("mesh/register", { name }, {
    timeoutMs: options.timeoutMs,
  });
}

/**
 * Options of {@link serveWorkerStream} (core's `WorkerLinkOptions`).
 *
 * @example
 * ```ts
 * import type { WorkerStreamOptions } from "@alknet/call";
 * const o: WorkerStreamOptions = { name: "w1", head: { id: "SHA256:h", scopes: ["*"], resources: {} } };
 * console.log(o.name);
 * ```
 */
export interface WorkerStreamOptions {
  /** The name to register as. */
  name: string;
  /** Calls from the head run as this identity (default {@link defaultHeadIdentity}). */
  head?: Identity;
  /** Deadline of `mesh/register`, in milliseconds (default 30 000). */
  registerTimeoutMs?: number;
}

/**
 * A worker's connection to its head, from {@link serveWorkerStream}.
 *
 * @example
 * ```ts
 * import type { WorkerLink } from "@alknet/call";
 * const show = (l: WorkerLink) => l.registered.then((r) => console.log("registered as", r.name));
 * console.log(typeof show);
 * ```
 */
export interface WorkerLink {
  /** The call connection (the worker may call the head too). */
  readonly connection: CallConnection;
  /** Resolves once the head accepted the name; rejects (and closes) when it refused. */
  readonly registered: Promise<WorkerRegistration>;
  /** Settles when the connection has closed. */
  readonly closed: Promise<Error | undefined>;
  /** Closes the connection (the head drops the worker). */
  close(): Promise<Error | undefined>;
}

/**
 * Serves `router` as worker `options.name` on a byte stream this node
 * dialled to a head (the SSH `alknet-control` channel, an `alknet/call`
 * stream), and registers it.
 *
 * @example
 * ```ts
 * import { OperationRegistry, serveWorkerStream } from "@alknet/call";
 * const closed = { read: () => Promise.resolve(null), write: (b: Uint8Array) => Promise.resolve(b.length), close: () => {} };
 * const link = serveWorkerStream(new OperationRegistry(), closed, { name: "w1" });
 * await link.registered.catch((e) => console.log(e.code)); // "INTERNAL": the stream was closed
 * ```
 */
export function serveWorkerStream(
  router: OperationRouter,
  conn: ReadWriteConn,
  options: WorkerStreamOptions,
): WorkerLink {
  const connection = new CallConnection(framedTransport(duplexFromConn(conn)), {
    router,
    identity: options.head ?? defaultHeadIdentity(),
  });
  const registered = registerWorker(connection, options.name, {
    timeoutMs: options.registerTimeoutMs,
  }).catch(async (e) => {
    await connection.close();
    throw e;
  });
  registered.catch(() => {}); // the caller may look later
  return {
    connection,
    registered,
    closed: connection.closed,
    close: () => connection.close(),
  };
}

/** Backoff steps (seconds) between attempts of {@link joinMesh}. */
const BACKOFF_S = [1, 2, 4, 8, 16, 30];

/**
 * Options of {@link joinMesh}: how to reach the head (those of
 * `connectCall`), and the worker.
 *
 * @example
 * ```ts
 * import { OperationRegistry, type JoinMeshOptions } from "@alknet/call";
 * const o: JoinMeshOptions = { name: "w1", registry: new OperationRegistry(), identity: "./id_worker" };
 * console.log(o.name);
 * ```
 */
export interface JoinMeshOptions extends Omit<ConnectCallOptions, "router" | "peerIdentity"> {
  /** The name to register as. */
  name: string;
  /** The operations this worker offers. */
  registry: OperationRouter;
  /** Calls from the head run as this identity (default {@link defaultHeadIdentity}). */
  head?: Identity;
  /** Told about registrations, losses and retries. */
  onEvent?: (event: MeshMembershipEvent) => void;
}

/**
 * What happened to a worker's membership: `registered`, `lost` (the
 * connection closed; a new attempt follows), `retry` (an attempt failed,
 * `inS` seconds to the next).
 *
 * @example
 * ```ts
 * import type { MeshMembershipEvent } from "@alknet/call";
 * const e: MeshMembershipEvent = { type: "retry", inS: 2, error: new Error("refused") };
 * console.log(e.type);
 * ```
 */
export interface MeshMembershipEvent {
  /** What happened. */
  type: "registered" | "lost" | "retry";
  /** For `retry`: seconds until the next attempt. */
  inS?: number;
  /** Why, when known. */
  error?: Error;
}

/**
 * A worker kept registered with its head, from {@link joinMesh}.
 *
 * @example
 * ```ts
 * import type { MeshMembership } from "@alknet/call";
 * const report = (m: MeshMembership) => console.log(m.name, m.registered);
 * console.log(typeof report);
 * ```
 */
export interface MeshMembership {
  /** The worker's name. */
  readonly name: string;
  /** True while registered. */
  readonly registered: boolean;
  /** The current connection to the head, while registered. */
  readonly connection: CallConnection | undefined;
  /** Resolves the next time the worker is registered (at once when it is, or when closed). */
  whenRegistered(): Promise<void>;
  /** Leaves the mesh and stops reconnecting. */
  close(): Promise<void>;
}

/**
 * Connects to a head over any call carrier (`ssh://`, `tls://`, `quic://`,
 * `ws://`, `wss://`, `iroh://`, `tcp://`), serves `registry` on that
 * outbound connection and registers as `name`; after a lost connection it
 * reconnects and registers again, with backoff 1, 2, 4, 8, 16, 30 s. Rejects
 * when the first attempt fails (unreachable, refused, name taken).
 *
 * @example
 * ```ts
 * import { joinMesh, MeshHead, OperationRegistry, serveCallWebSocket } from "@alknet/call";
 * const head = new MeshHead();
 * // Every caller of this test server is a worker; real heads authenticate.
 * const server = await serveCallWebSocket({
 *   registry: head,
 *   authenticate: () => ({ id: "w", scopes: ["mesh:worker"], resources: {} }),
 * });
 * const registry = new OperationRegistry();
 * registry.register({ name: "math/double", type: "query", handler: (n) => (n as number) * 2 });
 * const member = await joinMesh(server.url, { name: "w1", registry, token: "any" });
 * console.log(await head.invoke("w1/math/double", 21)); // 42
 * await member.close();
 * await server.close();
 * ```
 */
export async function joinMesh(url: string, options: JoinMeshOptions): Promise<MeshMembership> {
  const { name, registry, head, onEvent, ...connectOptions } = options;
  let current: CallConnection | undefined;
  let closed = false;
  let waiters: (() => void)[] = [];
  let wake: (() => void) | undefined;
  const emit = (e: MeshMembershipEvent) => {
    try {
      onEvent?.(e);
    } catch {
      // the listener's failure is its own
    }
  };
  const release = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const attempt = async (): Promise<CallConnection> => {
    const conn = await connectCall(url, {
      ...connectOptions,
      router: registry,
      peerIdentity: head ?? defaultHeadIdentity(),
    });
    try {
      await registerWorker(conn, name);
    } catch (e) {
      await conn.close();
      throw e;
    }
    return conn;
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  current = await attempt();
  emit({ type: "registered" });
  const loop = (async () => {
    while (!closed) {
      const err = await current!.closed;
      current = undefined;
      if (closed) break;
      emit({ type: "lost", error: err });
      for (let i = 0; !closed; i++) {
        const inS = BACKOFF_S[Math.min(i, BACKOFF_S.length - 1)];
        await sleep(inS * 1000);
        if (closed) break;
        try {
          const conn = await attempt();
          if (closed) {
            await conn.close();
            break;
          }
          current = conn;
          emit({ type: "registered" });
          release();
          break;
        } catch (e) {
          const next = BACKOFF_S[Math.min(i + 1, BACKOFF_S.length - 1)];
          emit({ type: "retry", inS: next, error: e instanceof Error ? e : new Error(String(e)) });
        }
      }
    }
    release();
  })();
  return {
    name,
    get registered() {
      return current !== undefined && !current.isClosed;
    },
    get connection() {
      return current;
    },
    whenRegistered() {
      if (closed || (current && !current.isClosed)) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    async close() {
      closed = true;
      wake?.();
      await current?.close();
      await loop;
    },
  };
}
