/**
 * The SSH server side of a node: public-key authentication only,
 * `direct-tcpip` (policy-checked before any dial; failures reported as SSH
 * open failures with a reason), `tcpip-forward` / `cancel-tcpip-forward`
 * (loopback binds unless allowed), the reserved `alknet-*` destinations, and
 * nothing else (no shell, exec, pty, agent or X11).
 *
 * @module
 */

// @ts-types="@types/ssh2"
import ssh2, { type Algorithms } from "ssh2";
import type { Duplex } from "node:stream";
import type { Socket } from "node:net";
import { Buffer } from "node:buffer";
import type {
  ForwardingPolicy,
  ForwardRestrictions,
  Identity,
  SshAuthenticator,
} from "../auth/identity.ts";
import type { PrivateKey } from "../auth/ssh_keys.ts";
import type { Logger } from "../util/log.ts";
import { hostPort } from "../transport/hostport.ts";
import { type Dialer, DialError, dialTcp } from "../transport/tcp.ts";
import { relayConnDuplex } from "../transport/stream.ts";
import { SSH_ALGORITHMS } from "./algorithms.ts";
import { restrictionsAllow } from "../auth/policy.ts";
import { ConnectionLimiter, type LimitedConnection } from "../transport/limits.ts";

/** SSH channel open failure reason codes (RFC 4254 section 5.1). */
export const OpenFailure = {
  ADMINISTRATIVELY_PROHIBITED: 1,
  CONNECT_FAILED: 2,
  UNKNOWN_CHANNEL_TYPE: 3,
  RESOURCE_SHORTAGE: 4,
} as const;

/** What a handler of a reserved `alknet-*` destination learns about the session. */
export interface SessionInfo {
  /** The authenticated identity. */
  identity: Identity;
  /** `ip:port` of the client. */
  remote: string;
  /** The transport the session arrived on. */
  transport: string;
}

/** Handles a channel opened to a reserved destination such as `alknet-control`. */
export type ReservedChannelHandler = (channel: Duplex, session: SessionInfo) => void;

/** Options of {@link SshServer}. */
export interface SshServerOptions {
  /** Host keys (OpenSSH private keys); at least one. */
  hostKeys: PrivateKey[];
  /** Decides which keys may log in; replaceable at runtime with `update`. */
  authenticator: SshAuthenticator;
  /** Decides where forwards may go; replaceable at runtime with `update`. */
  policy: ForwardingPolicy;
  /** Where auth and connection events are logged. */
  logger: Logger;
  /** Allow remote forwards to bind non-loopback addresses. */
  allowRemoteBind?: boolean;
  /** Handlers for reserved destinations, by host name (e.g. `alknet-control`). */
  reserved?: Record<string, ReservedChannelHandler>;
  /** Outbound connections for `direct-tcpip` (default: direct TCP with NODELAY). */
  dial?: Dialer;
  /**
   * Per-source and per-identity limits: concurrent connections, failed
   * attempts per connection, the penalty window, the pre-auth timeout and
   * sessions per identity (default: a limiter with `DEFAULT_LIMITS`). Its
   * limits can be changed at runtime with `setLimits`.
   */
  limiter?: ConnectionLimiter;
  /** Overrides the limiter's pre-auth timeout (milliseconds). */
  preauthTimeoutMs?: number;
}

/** Where a connection came from and on which transport. */
export interface ConnectionInfo {
  /** Client IP address. */
  remoteAddress: string;
  /** Client port. */
  remotePort: number;
  /** Transport name for logs and policy (`tcp`, `tls`, ...). */
  transport: string;
  /**
   * The limiter's admission, when the listener already asked for it at
   * accept time (so refused sources cost nothing more); otherwise `handle`
   * asks.
   */
  limit?: LimitedConnection;
}

/** The user-visible identity banner this server sends. */
export const SERVER_IDENT = "OpenSSH_9.6";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** ssh2 internals used to choose the reason and text of a channel open failure. */
interface ProtocolWithOpenFail {
  channelOpenFail(remote: number, reason: number, desc: string): void;
}

interface ServerConnection {
  _protocol: ProtocolWithOpenFail;
  on(event: string, fn: (...args: never[]) => void): void;
  end(): void;
  forwardOut(
    boundAddr: string,
    boundPort: number,
    remoteAddr: string,
    remotePort: number,
    cb: (err: Error | undefined, channel: Duplex) => void,
  ): void;
}

/**
 * Accepts SSH connections handed to it by any transport listener.
 *
 * @example
 * ```ts
 * import { Logger, SshServer, generateEd25519Key, parsePrivateKey } from "@alknet/core";
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
  #accepted = new WeakMap<object, { transport: string; limit: LimitedConnection }>();

  /** Creates the server; nothing listens until `handle` is given connections. */
  constructor(options: SshServerOptions) {
    if (options.hostKeys.length === 0) throw new Error("SshServer needs at least one host key");
    this.#options = { ...options };
    this.#limiter = options.limiter ?? new ConnectionLimiter();
    this.#ssh = new ssh2.Server({
      hostKeys: options.hostKeys.map((k) => Buffer.from(k.pem)),
      algorithms: SSH_ALGORITHMS as Algorithms,
      ident: SERVER_IDENT,
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
   * is closed and a `conn rejected` line logged).
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
    this.#accepted.set(sock, { transport: info.transport, limit });
    socket.once("close", () => limit.close());
    this.#ssh.injectSocket(sock as unknown as Socket);
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
    const o = this.#options;
    const log = o.logger;
    const remote = hostPort(info.ip, info.port);
    const sock = (client as unknown as { _sock?: object })._sock;
    const accepted = sock ? this.#accepted.get(sock) : undefined;
    const transport = accepted?.transport ?? "tcp";
    const limit = accepted?.limit;
    const started = Date.now();
    this.#connections.add(client);
    log.event("conn opened", { remote, transport });

    let identity: Identity | undefined;
    let restrictions: ForwardRestrictions = { noPortForwarding: false };
    const preauth = setTimeout(() => {
      if (!identity) {
        log.event("conn rejected", { remote, transport, reason: "preauth-timeout" });
        client.end();
      }
    }, o.preauthTimeoutMs ?? this.#limiter.limits.preauthTimeoutS * 1000);
    /** Records a failed attempt; true when the connection must now be closed. */
    const failed = () => limit?.authFailed() ?? false;

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

    const forwards = new Map<string, Deno.TcpListener>();

    client.on("error", () => {/* logged on close */});
    client.on("close", () => {
      clearTimeout(preauth);
      limit?.close();
      this.#connections.delete(client);
      for (const l of new Set(forwards.values())) closeQuietly(l);
      forwards.clear();
      log.event("conn closed", {
        remote,
        transport,
        duration_s: ((Date.now() - started) / 1000).toFixed(3),
      });
    });

    client.on("authentication", (ctx: AuthContext) => {
      if (ctx.method !== "publickey" || !ctx.key) {
        if (ctx.method !== "none") {
          log.event("auth", {
            result: "reject",
            remote,
            user: ctx.username,
            method: ctx.method,
            reason: "method-not-allowed",
          });
          if (failed()) {
            log.event("conn rejected", { remote, transport, reason: "too-many-auth-failures" });
            return client.end();
          }
        }
        return ctx.reject(["publickey"]);
      }
      const decision = this.#options.authenticator.authorize({
        algo: ctx.key.algo,
        key: new Uint8Array(ctx.key.data),
        username: ctx.username,
        remoteAddress: info.ip,
        remotePort: info.port,
      });
      const rejectKey = (reason: string, fp?: string) => {
        log.event("auth", {
          result: "reject",
          remote,
          user: ctx.username,
          fp,
          method: "publickey",
          reason,
        });
        if (failed()) {
          log.event("conn rejected", { remote, transport, reason: "too-many-auth-failures" });
          return client.end();
        }
        ctx.reject(["publickey"]);
      };
      if (!decision.ok) return rejectKey(decision.reason, decision.fingerprint);
      if (!ctx.signature || !ctx.blob) return ctx.accept(); // key is acceptable: PK_OK
      let valid = false;
      try {
        valid = decision.verify(
          new Uint8Array(ctx.blob),
          new Uint8Array(ctx.signature),
          ctx.hashAlgo,
        );
      } catch {
        valid = false;
      }
      if (!valid) return rejectKey("bad-signature", decision.fingerprint);
      const session = limit?.authSucceeded(decision.identity.id) ?? { ok: true };
      if (!session.ok) {
        log.event("auth", {
          result: "reject",
          remote,
          user: ctx.username,
          fp: decision.fingerprint,
          method: decision.method,
          reason: "too-many-sessions",
        });
        return client.end();
      }
      identity = decision.identity;
      restrictions = decision.restrictions;
      log.event("auth", {
        result: "accept",
        remote,
        user: ctx.username,
        fp: decision.fingerprint,
        method: decision.method,
        cert_id: decision.certKeyId,
      });
      ctx.accept();
    });

    client.on("ready", () => {
      clearTimeout(preauth);
      const session: SessionInfo = { identity: identity!, remote, transport };

      client.on("session", (_accept: unknown, reject: () => void) => reject());

      client.on("tcpip", (accept: () => Duplex, reject: () => void, dest: TcpipInfo) => {
        const host = dest.destIP;
        if (host.startsWith("alknet-")) {
          const handler = o.reserved?.[host];
          if (!handler) {
            return refuse(
              reject,
              OpenFailure.ADMINISTRATIVELY_PROHIBITED,
              "administratively prohibited",
            );
          }
          return handler(accept(), session);
        }
        if (
          !restrictionsAllow(restrictions, { kind: "connect", host, port: dest.destPort }) ||
          this.#options.policy.evaluate({
              kind: "connect",
              host,
              port: dest.destPort,
              identity: identity!,
              transport,
            }) !== "allow"
        ) {
          return refuse(
            reject,
            OpenFailure.ADMINISTRATIVELY_PROHIBITED,
            "administratively prohibited",
          );
        }
        (o.dial ?? dialTcp)(host, dest.destPort).then(
          (conn) => {
            let channel: Duplex;
            try {
              channel = accept();
            } catch {
              conn.close();
              return;
            }
            relayConnDuplex(conn, channel);
          },
          (e) => {
            const kind = e instanceof DialError ? e.kind : "unreachable";
            refuse(
              reject,
              OpenFailure.CONNECT_FAILED,
              kind === "refused"
                ? "connection refused"
                : kind === "timeout"
                ? "connection timed out"
                : "host unreachable",
            );
          },
        );
      });

      client.on(
        "request",
        (
          accept: ((port?: number) => void) | undefined,
          reject: (() => void) | undefined,
          name: string,
          data: { bindAddr: string; bindPort: number },
        ) => {
          if (name === "tcpip-forward") {
            this.#remoteForward(client, session, restrictions, forwards, data, accept, reject);
          } else if (name === "cancel-tcpip-forward") {
            const key = hostPort(data.bindAddr, data.bindPort);
            const l = forwards.get(key);
            if (l) {
              closeQuietly(l);
              for (const [k, v] of forwards) if (v === l) forwards.delete(k);
              accept?.();
            } else reject?.();
          } else {
            reject?.();
          }
        },
      );
    });
  }

  #remoteForward(
    client: ServerConnection,
    session: SessionInfo,
    restrictions: ForwardRestrictions,
    forwards: Map<string, Deno.TcpListener>,
    data: { bindAddr: string; bindPort: number },
    accept: ((port?: number) => void) | undefined,
    reject: (() => void) | undefined,
  ): void {
    const requested = data.bindAddr;
    const bindHost = requested === "localhost"
      ? "127.0.0.1"
      : requested === "" || requested === "*"
      ? "0.0.0.0"
      : requested;
    const allowed = (this.#options.allowRemoteBind || isLoopback(bindHost)) &&
      restrictionsAllow(restrictions, { kind: "listen", host: requested, port: data.bindPort }) &&
      this.#options.policy.evaluate({
          kind: "listen",
          host: bindHost,
          port: data.bindPort,
          identity: session.identity,
          transport: session.transport,
        }) === "allow";
    if (!allowed) {
      this.#options.logger.event("forward refused", {
        remote: session.remote,
        reason: "administratively-prohibited",
      });
      return reject?.();
    }
    let listener: Deno.TcpListener;
    try {
      listener = Deno.listen({ hostname: bindHost, port: data.bindPort, transport: "tcp" });
    } catch {
      return reject?.();
    }
    const port = (listener.addr as Deno.NetAddr).port;
    forwards.set(hostPort(requested, data.bindPort === 0 ? port : data.bindPort), listener);
    if (data.bindPort === 0) forwards.set(hostPort(requested, 0), listener);
    accept?.(port);
    (async () => {
      for await (const conn of listener) {
        conn.setNoDelay(true);
        const peer = conn.remoteAddr as Deno.NetAddr;
        client.forwardOut(requested, port, peer.hostname, peer.port, (err, channel) => {
          if (err) return conn.close();
          relayConnDuplex(conn, channel);
        });
      }
    })().catch(() => {});
  }
}

function closeQuietly(closable: { close(): void }): void {
  try {
    closable.close();
  } catch { /* already closed */ }
}

interface AuthContext {
  method: string;
  username: string;
  key?: { algo: string; data: Buffer };
  signature?: Buffer;
  blob?: Buffer;
  hashAlgo?: string;
  accept(): void;
  reject(methods?: string[]): void;
}

interface TcpipInfo {
  srcIP: string;
  srcPort: number;
  destIP: string;
  destPort: number;
}
