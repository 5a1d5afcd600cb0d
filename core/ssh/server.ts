/**
 * The SSH server side of a node: public-key authentication only,
 * `direct-tcpip` (policy-checked before any dial; failures reported as SSH
 * open failures with a reason), `tcpip-forward` / `cancel-tcpip-forward`
 * (loopback binds unless allowed), the reserved `alknet-*` destinations, and
 * nothing else (no shell, exec, pty, agent or X11). Authentication is in
 * `server_auth.ts`, channels and forwards in `server_forwards.ts`.
 *
 * @module
 */

// @ts-types="@types/ssh2"
import ssh2, { type Algorithms } from "ssh2";
import type { Duplex } from "node:stream";
import type { Socket } from "node:net";
import { Buffer } from "node:buffer";
import type { ForwardingPolicy, ForwardRestrictions, Identity } from "../auth/identity.ts";
import type { ConnInfo } from "../transport/endpoint_types.ts";
import { hostPort } from "../transport/hostport.ts";
import { type ByteConn, connToDuplex } from "../transport/stream.ts";
import { ConnectionLimiter, type LimitedConnection } from "../transport/limits.ts";
import { CoreError } from "../util/errors.ts";
import { SSH_ALGORITHMS } from "./algorithms.ts";
import type {
  ConnectionInfo,
  ServerConnection,
  SessionAuditEvent,
  SessionInfo,
  SshServerOptions,
} from "./server_types.ts";
import { replaceServerSigAlgs, SERVER_IDENT, sshBannerIdent } from "./server_ext_info.ts";
import { authenticationHandler } from "./server_auth.ts";
import { directTcpipHandler, RemoteForwards } from "./server_forwards.ts";

export {
  type ConnectionInfo,
  OpenFailure,
  type ReservedChannelHandler,
  type SessionAuditEvent,
  type SessionInfo,
  type SshServerOptions,
} from "./server_types.ts";
export {
  encodeExtInfo,
  replaceServerSigAlgs,
  SERVER_IDENT,
  SERVER_SIG_ALGS,
  sshBannerIdent,
} from "./server_ext_info.ts";

/** What `handle` learned about a connection before ssh2 reports it. */
interface Accepted {
  transport: string;
  limit: LimitedConnection;
  authenticated?: () => void;
  loggedIn: boolean;
  preauth: ReturnType<typeof setTimeout>;
}

/** A logged-in session, for `closeSessions` and the audit trail. */
interface LiveSession {
  id: string;
  end(): void;
  fingerprint?: string;
  reason?: string;
}

/**
 * Accepts SSH connections handed to it by any transport listener.
 *
 * @example
 * ```ts
 * import { Logger } from "@alknet/core/transport";
 * import { generateEd25519Key, parsePrivateKey } from "@alknet/core/auth";
 * import { SshServer } from "@alknet/core/ssh";
 * const host = parsePrivateKey(generateEd25519Key().privateText, "generated");
 * const server = new SshServer({
 *   hostKeys: [host],
 *   authenticator: { authorize: () => ({ ok: false, reason: "no keys" }) },
 *   policy: { evaluate: () => "allow" },
 *   logger: new Logger(),
 * });
 * // server.handle(duplexFromListener, { remoteAddress, remotePort, transport: "tcp" });
 * await server.shutdown(0);
 * ```
 */
export class SshServer {
  #options: SshServerOptions;
  #ssh: InstanceType<typeof ssh2.Server>;
  #connections = new Set<{ end(): void }>();
  #closing = false;
  #limiter: ConnectionLimiter;
  #accepted = new WeakMap<object, Accepted>();
  #sessions = new Map<string, Set<LiveSession>>();

  /**
   * Creates the server; nothing listens until `handle` is given connections.
   *
   * @throws {CoreError} (`options`) when `hostKeys` is empty or `banner` is malformed
   */
  constructor(options: SshServerOptions) {
    if (options.hostKeys.length === 0) {
      throw new CoreError("options", "hostKeys: at least one host key is required");
    }
    const ident = options.banner === undefined ? SERVER_IDENT : sshBannerIdent(options.banner);
    this.#options = { ...options };
    this.#limiter = options.limiter ?? new ConnectionLimiter();
    this.#ssh = new ssh2.Server({
      hostKeys: options.hostKeys.map((k) => Buffer.from(k.pem)),
      algorithms: SSH_ALGORITHMS as Algorithms,
      ident,
      highWaterMark: 256 * 1024,
    });
    this.#ssh.on("connection", (client: unknown, info: { ip: string; port: number }) => {
      this.#onClient(client as ServerConnection, info);
    });
  }

  /** The current forwarding policy (changes with `update`). */
  get policy(): ForwardingPolicy {
    return this.#options.policy;
  }

  /** The connection limiter (change limits at runtime with `limiter.setLimits`). */
  get limiter(): ConnectionLimiter {
    return this.#limiter;
  }

  /** Number of connections currently open. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Swaps the authenticator and/or policy; applies to the next auth attempt or channel. */
  update(parts: Partial<Pick<SshServerOptions, "authenticator" | "policy">>): void {
    Object.assign(this.#options, parts);
  }

  /**
   * Runs the SSH protocol on an accepted connection, unless the source is
   * over its connection limit or in its penalty window (then the connection
   * is closed and a `conn rejected` line logged). The server sends its
   * identification line at once. A client that has not logged in within
   * the pre-auth timeout of `info.acceptedAt` (or of now) is disconnected
   * and logged (`conn rejected reason=preauth-timeout`), whatever it
   * stalled in, its own identification line included.
   */
  handle(socket: Duplex, info: ConnectionInfo): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    let limit = info.limit;
    if (!limit) {
      const admission = this.admit(info);
      if (!admission) {
        socket.destroy();
        return;
      }
      limit = admission;
    }
    const sock = Object.assign(socket, {
      remoteAddress: info.remoteAddress,
      remotePort: info.remotePort,
    });
    const preauthMs = this.#options.preauthTimeoutMs ??
      this.#limiter.limits.preauthTimeoutS * 1000;
    const left = Math.max(0, preauthMs - (Date.now() - (info.acceptedAt ?? Date.now())));
    const accepted: Accepted = {
      transport: info.transport,
      limit,
      authenticated: info.authenticated,
      loggedIn: false,
      preauth: setTimeout(() => {
        if (accepted.loggedIn) return;
        this.#options.logger.event("conn rejected", {
          remote: hostPort(info.remoteAddress, info.remotePort),
          transport: info.transport,
          reason: "preauth-timeout",
        });
        socket.destroy();
      }, left),
    };
    this.#accepted.set(sock, accepted);
    socket.once("close", () => {
      clearTimeout(accepted.preauth);
      limit.close();
    });
    this.#ssh.injectSocket(sock as unknown as Socket);
  }

  /**
   * {@link handle} for a connection of a `listenEndpoint` listener (its
   * `ssh` handler): admitted first, so that a refused source costs no
   * stream adapter.
   */
  handleConn(conn: ByteConn, info: ConnInfo): void {
    const limit = this.admit(info);
    if (!limit) return conn.close();
    const socket = connToDuplex(conn, {
      remoteAddress: info.remoteAddress,
      remotePort: info.remotePort,
    });
    this.handle(socket, { ...info, limit });
  }

  /**
   * Asks the limiter whether a new connection from this source may proceed;
   * logs `conn rejected reason=penalty|too-many-connections` and returns
   * undefined when not. The caller must `close()` what it gets back unless
   * it passes it on to `handle`.
   */
  admit(info: Omit<ConnectionInfo, "limit">): LimitedConnection | undefined {
    const admission = this.#limiter.open(info.remoteAddress);
    if (admission.ok) return admission.connection;
    this.#options.logger.event("conn rejected", {
      remote: hostPort(info.remoteAddress, info.remotePort),
      transport: info.transport,
      reason: admission.reason,
    });
    return undefined;
  }

  /**
   * Closes the open sessions of an identity (a revoked peer, say); with
   * `fingerprints`, only those that logged in with one of those keys.
   * Returns how many were closed. `reason` goes to the `session.closed`
   * audit event (default `revoked`).
   */
  closeSessions(
    identityId: string,
    options: { fingerprints?: readonly string[]; reason?: string } = {},
  ): number {
    let n = 0;
    for (const s of [...(this.#sessions.get(identityId) ?? [])]) {
      if (options.fingerprints && !options.fingerprints.includes(s.fingerprint ?? "")) continue;
      s.reason ??= options.reason ?? "revoked";
      try {
        s.end();
      } catch { /* gone */ }
      n++;
    }
    return n;
  }

  #audit(event: SessionAuditEvent): void {
    try {
      this.#options.audit?.(event);
    } catch { /* the hook's failure is its own */ }
  }

  /** Stops taking connections, waits up to `drainMs` for open ones, then closes them. */
  async shutdown(drainMs = 2000): Promise<void> {
    this.#closing = true;
    const deadline = Date.now() + drainMs;
    while (this.#connections.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const c of this.#connections) {
      try {
        c.end();
      } catch { /* gone */ }
    }
  }

  #onClient(client: ServerConnection, info: { ip: string; port: number }): void {
    const log = this.#options.logger;
    const options = () => this.#options;
    const remote = hostPort(info.ip, info.port);
    const sock = (client as unknown as { _sock?: object })._sock;
    const accepted = sock ? this.#accepted.get(sock) : undefined;
    const transport = accepted?.transport ?? "tcp";
    const limit = accepted?.limit;
    const started = Date.now();
    this.#connections.add(client);
    log.event("conn opened", { remote, transport });
    replaceServerSigAlgs(client._protocol);

    let identity: Identity | undefined;
    let restrictions: ForwardRestrictions = { noPortForwarding: false };
    let keyFingerprint: string | undefined;
    let live: LiveSession | undefined;
    let loggedInAt = 0;
    const preauth = accepted?.preauth;

    // ssh2 always answers CONNECT_FAILED with no text; alknet says why.
    const proto = client._protocol;
    const originalFail = proto.channelOpenFail.bind(proto);
    let failOverride: { reason: number; desc: string } | undefined;
    proto.channelOpenFail = (r, reason, desc) => {
      const o = failOverride;
      failOverride = undefined;
      originalFail(r, o?.reason ?? reason, o?.desc ?? desc);
    };
    const refuse = (reject: () => void, reason: number, desc: string) => {
      failOverride = { reason, desc };
      reject();
    };

    let forwards: RemoteForwards | undefined;

    client.on("error", () => {/* logged on close */});
    let closed = false;
    client.on("close", () => {
      closed = true;
      clearTimeout(preauth);
      limit?.close();
      this.#connections.delete(client);
      forwards?.closeAll();
      if (live && identity) {
        const set = this.#sessions.get(identity.id);
        set?.delete(live);
        if (set?.size === 0) this.#sessions.delete(identity.id);
        this.#audit({
          type: "session.closed",
          session: live.id,
          identity: identity.id,
          reason: live.reason ?? (this.#closing ? "shutdown" : "client"),
          durationMs: Date.now() - loggedInAt,
        });
      }
      log.event("conn closed", {
        remote,
        transport,
        duration_s: ((Date.now() - started) / 1000).toFixed(3),
      });
    });

    client.on(
      "authentication",
      authenticationHandler({
        authenticator: () => this.#options.authenticator,
        log,
        remote,
        transport,
        ip: info.ip,
        port: info.port,
        limit,
        end: () => client.end(),
        closed: () => closed,
        accepted(who, limits, fingerprint) {
          identity = who;
          restrictions = limits;
          keyFingerprint = fingerprint;
        },
        audit: (event) => this.#audit(event),
      }),
    );

    client.on("ready", () => {
      clearTimeout(preauth);
      if (accepted) {
        accepted.loggedIn = true;
        accepted.authenticated?.();
      }
      const session: SessionInfo = { identity: identity!, remote, transport };
      loggedInAt = Date.now();
      live = { id: sessionId(), end: () => client.end(), fingerprint: keyFingerprint };
      const set = this.#sessions.get(session.identity.id) ?? new Set<LiveSession>();
      this.#sessions.set(session.identity.id, set.add(live));
      this.#audit({
        type: "session.opened",
        session: live.id,
        identity: session.identity.id,
        remote,
        transport,
      });
      const limits = () => restrictions;
      forwards = new RemoteForwards(client, session, limits, options);
      const remoteForwards = forwards;

      client.on("session", (_accept: unknown, reject: () => void) => reject());
      client.on("tcpip", directTcpipHandler(options, session, limits, refuse));
      client.on(
        "request",
        (
          accept: ((port?: number) => void) | undefined,
          reject: (() => void) | undefined,
          name: string,
          data: { bindAddr: string; bindPort: number },
        ) => remoteForwards.request(name, data, accept, reject),
      );
    });
  }
}

/** 12 random hex digits: unique enough to tell sessions apart in an audit trail. */
function sessionId(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
