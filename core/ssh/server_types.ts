/**
 * The shapes of the SSH server: its options, what a connection and a
 * session carry, reserved-destination handlers, channel open failure codes,
 * and the few `ssh2` internals the server relies on.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import type { Buffer } from "node:buffer";
import type { ForwardingPolicy, Identity, SshAuthenticator } from "../auth/identity.ts";
import type { PrivateKey } from "../auth/ssh_keys.ts";
import type { Logger } from "../util/log.ts";
import type { Dialer } from "../transport/tcp.ts";
import type { ConnectionLimiter, LimitedConnection } from "../transport/limits.ts";

/**
 * SSH channel open failure reason codes (RFC 4254 section 5.1).
 *
 * @example
 * ```ts
 * import { OpenFailure } from "@alknet/core/ssh";
 * console.log(OpenFailure.ADMINISTRATIVELY_PROHIBITED); // 1
 * ```
 */
export const OpenFailure = {
  ADMINISTRATIVELY_PROHIBITED: 1,
  CONNECT_FAILED: 2,
  UNKNOWN_CHANNEL_TYPE: 3,
  RESOURCE_SHORTAGE: 4,
} as const;

/**
 * What a handler of a reserved `alknet-*` destination learns about the session.
 *
 * @example
 * ```ts
 * import type { SessionInfo } from "@alknet/core/ssh";
 * const s: SessionInfo = {
 *   identity: { id: "SHA256:x", scopes: [], resources: {} },
 *   remote: "127.0.0.1:50000",
 *   transport: "tcp",
 * };
 * console.log(s.remote);
 * ```
 */
export interface SessionInfo {
  /** The authenticated identity. */
  identity: Identity;
  /** `ip:port` of the client. */
  remote: string;
  /** The transport the session arrived on. */
  transport: string;
}

/**
 * An audit event of the SSH server (and, with `type: "config.reloaded"`
 * and token logins, of `serve()`): logins accepted and refused, sessions
 * opened and closed. Never a tunnel destination. The shape matches
 * `@alknet/storage`'s `AuditEvent`, so its `appendAudit` takes these as
 * they are.
 *
 * @example
 * ```ts
 * import type { SessionAuditEvent } from "@alknet/core/ssh";
 * const e: SessionAuditEvent = { type: "session.closed", session: "3f2a9c", identity: "alice", reason: "revoked" };
 * console.log(e.type); // "session.closed"
 * ```
 */
export type SessionAuditEvent =
  | {
    /** A login succeeded. */
    type: "login.accepted";
    /** `ip:port` (or `ip`) of the client. */
    remote: string;
    /** How it authenticated. */
    method: "publickey" | "cert" | "token" | "apikey";
    /** The identity id. */
    identity: string;
    /** The key's `SHA256:` fingerprint. */
    fingerprint?: string;
    /** The SSH user name given. */
    user?: string;
    /** The transport (`tcp`, `tls`, ...). */
    transport?: string;
  }
  | {
    /** A key or token was refused. */
    type: "login.refused";
    /** `ip:port` (or `ip`) of the client. */
    remote: string;
    /** How it tried. */
    method: "publickey" | "cert" | "token" | "apikey";
    /** Why it was refused. */
    reason: string;
    /** The offered key's fingerprint, when known. */
    fingerprint?: string;
    /** The SSH user name given. */
    user?: string;
    /** The transport. */
    transport?: string;
  }
  | {
    /** An SSH session began (after login). */
    type: "session.opened";
    /** The server's id for the session. */
    session: string;
    /** The identity id. */
    identity: string;
    /** `ip:port` of the client. */
    remote: string;
    /** The transport. */
    transport?: string;
  }
  | {
    /** An SSH session ended. */
    type: "session.closed";
    /** The server's id for the session. */
    session: string;
    /** The identity id. */
    identity: string;
    /** `client` (the connection ended), `shutdown`, or the reason given to `closeSessions`. */
    reason?: string;
    /** How long it lasted, in milliseconds. */
    durationMs?: number;
  };

/**
 * Handles a channel opened to a reserved destination such as `alknet-control`.
 *
 * @example
 * ```ts
 * import type { ReservedChannelHandler } from "@alknet/core/ssh";
 * const echo: ReservedChannelHandler = (channel) => channel.pipe(channel);
 * console.log(typeof echo); // "function"
 * ```
 */
export type ReservedChannelHandler = (channel: Duplex, session: SessionInfo) => void;

/**
 * Options of `SshServer`.
 *
 * @example
 * ```ts
 * import { Logger } from "@alknet/core/transport";
 * import { generateEd25519Key, parsePrivateKey } from "@alknet/core/auth";
 * import type { SshServerOptions } from "@alknet/core/ssh";
 * const o: SshServerOptions = {
 *   hostKeys: [parsePrivateKey(generateEd25519Key().privateText, "generated")],
 *   authenticator: { authorize: () => ({ ok: false, reason: "no keys" }) },
 *   policy: { evaluate: () => "deny" },
 *   logger: new Logger(),
 * };
 * console.log(o.hostKeys.length); // 1
 * ```
 */
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
  /**
   * Overrides the limiter's pre-auth timeout (milliseconds). The clock
   * starts at `ConnectionInfo.acceptedAt` (else when `handle` is called)
   * and covers every stage, the client's identification line included.
   */
  preauthTimeoutMs?: number;
  /**
   * The identification line after `SSH-2.0-` (software version, optionally
   * a space and comments), e.g. `OpenSSH_9.9`; default `alknet`.
   */
  banner?: string;
  /**
   * Receives an audit event for each public-key login accepted or refused
   * and each session opened and closed (a failing hook is ignored).
   */
  audit?: (event: SessionAuditEvent) => void;
}

/**
 * Where a connection came from and on which transport.
 *
 * @example
 * ```ts
 * import type { ConnectionInfo } from "@alknet/core/ssh";
 * const info: ConnectionInfo = { remoteAddress: "127.0.0.1", remotePort: 50000, transport: "tls" };
 * console.log(info.transport);
 * ```
 */
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
  /** When the listener accepted the connection (`Date.now()`); the pre-auth clock starts here. */
  acceptedAt?: number;
  /** Called once the client has logged in (the listener frees its unauthenticated slot). */
  authenticated?: () => void;
}

/** ssh2 internals used to choose the reason and text of a channel open failure (internal). */
export interface ProtocolWithOpenFail {
  channelOpenFail(remote: number, reason: number, desc: string): void;
}

/** The parts of an ssh2 server-side connection the server uses (internal). */
export interface ServerConnection {
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

/** An ssh2 authentication attempt (internal). */
export interface AuthContext {
  method: string;
  username: string;
  key?: { algo: string; data: Buffer };
  signature?: Buffer;
  blob?: Buffer;
  hashAlgo?: string;
  accept(): void;
  reject(methods?: string[]): void;
}

/** An ssh2 `direct-tcpip` request (internal). */
export interface TcpipInfo {
  srcIP: string;
  srcPort: number;
  destIP: string;
  destPort: number;
}
