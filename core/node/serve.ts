/**
 * `serve()`: the whole node. Listeners by URL (`HOST:PORT`/`tcp://` for SSH,
 * `tls://`, `quic://`, `ws://`, `wss://`, `iroh://`), TLS from PEM, a
 * self-signed certificate kept in the data dir or ACME with renewal,
 * stealth, the native data path, limits, the forwarding policy, the
 * identity (authorized keys, API keys, any identity provider), a call
 * registry served on every carrier, reload, logging, drain and shutdown.
 *
 * @module
 */

import type { PrivateKey } from "../auth/ssh_keys.ts";
import type { Identity } from "../auth/identity.ts";
import { SshServer } from "../ssh/server.ts";
import { nativeTcpHandler, type NativeTcpOptions } from "../ssh/native_server.ts";
import { irohSecretKeyFile } from "../transport/iroh_key.ts";
import { hostPort } from "../transport/hostport.ts";
import { egressDialer } from "../transport/proxy.ts";
import type { Dialer } from "../transport/tcp.ts";
import type { EndpointHandlers } from "../transport/endpoint.ts";
import { OptionError } from "../util/errors.ts";
import coreMeta from "../deno.json" with { type: "json" };
import { nodeOperations, registerNodeOperationsOn } from "./node_operations.ts";
import { toAuditHook, toLogger } from "./serve_log.ts";
import { NodeAuth, watchRevocations } from "./serve_auth.ts";
import { prepareTls, type TlsMaterial } from "./serve_tls.ts";
import { bindListeners, type BoundListeners, type Listening } from "./serve_listeners.ts";
import { callCarriers } from "./serve_calls.ts";
import { checkWorkerOf, startWorkerOf } from "./serve_mesh.ts";
import {
  checkServeOptions,
  listenList,
  resolveHostKeys,
  type ServeOptions,
  type ServeReloadOptions,
} from "./serve_options.ts";

export {
  type AuthorizedKeysOption,
  type IdentityChange,
  type ListenAddress,
  parseListenAddress,
  type PemSource,
  type PolicyOption,
  type ServeAcmeOptions,
  type ServeOptions,
  type ServeReloadOptions,
  type ServeTlsOptions,
  type WatchedIdentityProvider,
} from "./serve_options.ts";
export type { LogFunction, LoggerOption, LogRecord, NodeAuditEvent } from "./serve_log.ts";
export type { Listening } from "./serve_listeners.ts";
export type { ServeWorkerOfOptions } from "./serve_mesh.ts";
export {
  CALL_WEBSOCKET_PATH,
  type CallPeer,
  type CallService,
  type CallSession,
  type NodeOperationDefinition,
} from "./call_service.ts";

/**
 * What `reload()` did: the new options are in force, or they were refused
 * (the old ones stay) and `error` says why.
 *
 * @example
 * ```ts
 * import type { NodeReloadResult } from "@alknet/core";
 * const say = (r: NodeReloadResult) => r.ok ? "reloaded" : `kept the old options: ${r.error.message}`;
 * console.log(say({ ok: true })); // "reloaded"
 * ```
 */
export type NodeReloadResult = { ok: true } | {
  ok: false;
  /** Why the new options were refused (an `OptionError` naming the option, usually). */
  error: Error;
};

/**
 * A running node, as `serve()` resolves it.
 *
 * @example
 * ```ts
 * import type { NodeServer } from "@alknet/core";
 * const show = (node: NodeServer) => `${node.addresses.join(" ")} ${node.hostKeyFingerprint}`;
 * console.log(typeof show); // "function"
 * ```
 */
export interface NodeServer {
  /**
   * Where clients reach the node, in listen order, ports resolved:
   * `ssh://HOST:PORT` for plain tcp listeners, `tls://`, `quic://`, `ws://`,
   * `wss://` URLs and `iroh://NODEID`.
   */
  readonly addresses: string[];
  /** The host key's `SHA256:` fingerprint (clients pin it). */
  readonly hostKeyFingerprint: string;
  /** The TLS certificate's `SHA256:<hex>` fingerprint, when a listener uses TLS. */
  readonly tlsFingerprint?: string;
  /**
   * Re-reads the `authorizedKeys` file (or asks `reloadOptions`), merges
   * `changes`, and swaps in keys, API keys, identity provider, policy and
   * limits atomically; open sessions stay. A refused reload keeps the old
   * state.
   */
  reload(changes?: ServeReloadOptions): Promise<NodeReloadResult>;
  /** Stops accepting, drains sessions for `drainMs` (default `drainMs` option, 2 s), then closes. */
  shutdown(drainMs?: number): Promise<void>;
  /** The bound addresses, in listen order. */
  readonly addrs: Deno.NetAddr[];
  /** Every listener with its transport, in listen order. */
  readonly listening: Listening[];
  /** The SSH server (low level: swap the authenticator or policy, count connections). */
  readonly ssh: SshServer;
  /**
   * Serves a new certificate on `tls://` and `wss://` listeners from the
   * next handshake on (ACME renewals do this themselves); `quic://` keeps
   * its certificate until a restart.
   */
  setCertificate(cert: string, key: string): void;
  /**
   * Closes the open SSH sessions and token-authenticated call connections
   * of an identity (with `fingerprints`, only the SSH sessions that logged
   * in with one of those keys); returns how many. The node does this by
   * itself for identities its provider revokes (`closeSessionsOnRevoke`).
   */
  closeSessions(
    identityId: string,
    options?: { fingerprints?: readonly string[]; reason?: string },
  ): number;
}

function dialerOf(options: ServeOptions): Dialer | undefined {
  if (options.dial) return options.dial;
  if (options.egressProxy === undefined) return undefined;
  try {
    return egressDialer(options.egressProxy);
  } catch (e) {
    throw new OptionError("egressProxy", (e as Error).message, { cause: e });
  }
}

/**
 * Runs a node until `shutdown()`.
 *
 * @throws {OptionError} naming the option (`listen`, `hostKey`, `tls.cert`, ...) that is missing, unreadable or invalid.
 * @example A node with its own operations on SSH and WebSocket
 * ```ts
 * import { generateEd25519Key, serve } from "@alknet/core";
 * import { OperationRegistry } from "@alknet/call";
 *
 * const calls = new OperationRegistry();
 * calls.register({ name: "demo/hello", type: "query", handler: () => "hello" });
 * const node = await serve({
 *   listen: ["127.0.0.1:0", "ws://127.0.0.1:0"],
 *   hostKey: generateEd25519Key().privateText,
 *   authorizedKeys: [],
 *   calls,
 *   logger: false,
 * });
 * console.log(node.addresses.length); // 2
 * await node.shutdown(0);
 * ```
 */
export async function serve(options: ServeOptions): Promise<NodeServer> {
  checkServeOptions(options);
  checkWorkerOf(options.workerOf, options.calls);
  const listen = listenList(options.listen);
  const logger = toLogger(options.logger);
  const audit = toAuditHook(options.audit);
  const hostKeys: PrivateKey[] = await resolveHostKeys(options);
  const dial = dialerOf(options);
  const auth = await NodeAuth.create(options, {
    authenticator: options.authenticator,
    limiter: options.limiter,
    warn: (m) => logger.warn(m),
  });
  const loudIfNoLogins = () => {
    if (!auth.hasLogins) {
      logger.warn("no authorized keys are configured: EVERY LOGIN WILL BE REFUSED");
    }
  };
  loudIfNoLogins();
  const hostKeyFingerprint = hostKeys[0].fingerprint;
  const addresses: string[] = [];
  let tlsFingerprint: string | undefined;
  let bound: BoundListeners | undefined;
  const tls: TlsMaterial | undefined = await prepareTls(options, listen, logger, (ck) => {
    bound?.setCertificate(ck.cert, ck.key);
    tlsFingerprint = ck.fingerprint;
    logger.event("tls renewed", { fingerprint: ck.fingerprint });
  });
  tlsFingerprint = tls?.cert.fingerprint;

  const authenticate = async (token: string, remote: string): Promise<Identity> => {
    const method = typeof token === "string" && token.startsWith("alk_") ? "apikey" : "token";
    try {
      const { identity } = await auth.authenticate(token, remote);
      audit({ type: "login.accepted", remote, method, identity: identity.id });
      return identity;
    } catch (e) {
      audit({ type: "login.refused", remote, method, reason: (e as Error)?.message ?? "refused" });
      throw e;
    }
  };
  const carriers = callCarriers({
    calls: options.calls,
    authenticate,
    reserved: options.reserved,
    call: options.call,
    http: options.http,
  });
  const ssh = new SshServer({
    hostKeys,
    authenticator: auth.authenticator,
    policy: auth.policy,
    logger,
    allowRemoteBind: options.allowRemoteBind,
    reserved: carriers.reserved,
    dial,
    limiter: auth.limiter,
    preauthTimeoutMs: options.preauthTimeoutMs,
    banner: options.ssh?.banner,
    audit,
  });
  const closeOnRevoke = options.closeSessionsOnRevoke !== false;
  const watch = (provider: typeof options.identity) =>
    closeOnRevoke
      ? watchRevocations(provider, closer, (identity, count, reason) => {
        logger.event("sessions closed", { identity, count, reason });
      })
      : () => {};
  // Revoked identities lose their SSH sessions and (all keys revoked) their token call connections.
  const closer = {
    closeSessions: (id: string, o: { fingerprints?: readonly string[]; reason?: string } = {}) =>
      ssh.closeSessions(id, o) + (o.fingerprints ? 0 : carriers.closeSessions(id)),
  };
  let watched = auth.identity;
  let unwatch = watch(watched);
  const resolveToken: NativeTcpOptions["resolveToken"] | undefined =
    options.nativeTcp?.resolveToken ??
      (options.nativePath === false
        ? undefined
        : (token, info) => auth.authenticate(token, info.remoteAddress).catch(() => null));
  const handlers: EndpointHandlers = {
    ssh: (conn, info) => ssh.handleConn(conn, info),
    call: carriers.call,
    http: carriers.http,
    tcp: resolveToken
      ? nativeTcpHandler({ resolveToken, policy: auth.policy, dial, logger })
      : undefined,
  };
  const removeOperations = options.calls && options.nodeOperations !== false
    ? registerNodeOperationsOn(
      options.calls,
      nodeOperations({
        version: options.nodeOperations?.version ?? coreMeta.version,
        fingerprint: hostKeyFingerprint,
        listeners: () => addresses,
      }),
    )
    : () => {};
  const dataDir = options.dataDir;
  try {
    bound = await bindListeners(listen, {
      handlers,
      ssh,
      logger,
      tls: tls?.cert,
      stealth: options.stealth,
      decoyDir: options.decoyDir,
      decoyUpstream: options.decoyUpstream,
      acceptToken: (token, info) =>
        auth.authenticate(token, info.remoteAddress).then(() => true, () => false),
      peekTimeoutMs: options.peekTimeoutMs ?? 5000,
      irohSecretKey: async () =>
        options.iroh?.secretKey ??
          (dataDir ? await irohSecretKeyFile(`${dataDir}/iroh-secret.key`) : undefined),
    });
  } catch (e) {
    unwatch();
    removeOperations();
    tls?.acme?.close();
    await ssh.shutdown(0);
    throw e;
  }
  const listeners = bound;
  const workerOf = options.workerOf && options.calls
    ? startWorkerOf(options.workerOf, { calls: options.calls, hostKey: hostKeys[0], logger })
    : undefined;
  for (const l of listeners.listening) {
    addresses.push(l.address);
    logger.event("listening", {
      addr: hostPort(l.addr.hostname, l.addr.port),
      transport: l.transport,
      node_id: l.nodeId,
      host_key: hostKeyFingerprint,
      alpn: l.alpn?.length ? l.alpn.join(",") : undefined,
    });
  }

  let reloading: Promise<unknown> = Promise.resolve();
  let shut: Promise<void> | undefined;
  return {
    addresses: [...addresses],
    hostKeyFingerprint,
    get tlsFingerprint() {
      return tlsFingerprint;
    },
    addrs: listeners.listening.map((l) => l.addr),
    listening: listeners.listening,
    ssh,
    setCertificate(cert, key) {
      listeners.setCertificate(cert, key);
    },
    closeSessions(identityId, o = {}) {
      return closer.closeSessions(identityId, o);
    },
    reload(changes = {}) {
      const run = reloading.then(async (): Promise<NodeReloadResult> => {
        try {
          const fresh = options.reloadOptions ? await options.reloadOptions() : {};
          await auth.reload({ ...fresh, ...changes });
        } catch (e) {
          const error = e instanceof Error ? e : new Error(String(e));
          audit({ type: "config.reloaded", ok: false, error: error.message });
          return { ok: false, error };
        }
        if (auth.identity !== watched) {
          unwatch();
          watched = auth.identity;
          unwatch = watch(watched);
        }
        audit({ type: "config.reloaded", ok: true });
        loudIfNoLogins();
        return { ok: true };
      });
      reloading = run;
      return run;
    },
    shutdown(drainMs = options.drainMs ?? 2000) {
      shut ??= (async () => {
        tls?.acme?.close();
        unwatch();
        await listeners.stopAccepting();
        await workerOf?.close();
        await ssh.shutdown(drainMs);
        await listeners.closeEndpoints();
        removeOperations();
      })();
      return shut;
    },
  };
}
