/**
 * Public-key authentication for the SSH server: every other method is
 * refused (and counted as a failed attempt), a key is checked by the
 * authenticator, its signature verified, and the identity's session limit
 * applied. Every decision is logged as one `auth` line. Internal to
 * `SshServer` (not exported by `@alknet/core/ssh`).
 *
 * @module
 */

import type {
  ForwardRestrictions,
  Identity,
  SshAuthDecision,
  SshAuthenticator,
} from "../auth/identity.ts";
import type { LimitedConnection } from "../transport/limits.ts";
import type { Logger } from "../util/log.ts";
import type { AuthContext, SessionAuditEvent } from "./server_types.ts";

/** What the authentication handler needs from its connection (internal). */
export interface AuthDeps {
  /** The current authenticator (it can be swapped at runtime). */
  authenticator(): SshAuthenticator;
  /** Where `auth` and `conn rejected` lines go. */
  log: Logger;
  /** `ip:port` of the client, for logs. */
  remote: string;
  /** Transport name, for logs. */
  transport: string;
  /** Client address and port, for the authenticator. */
  ip: string;
  port: number;
  /** The limiter's admission of this connection (counts failures and sessions). */
  limit?: LimitedConnection;
  /** Ends the connection. */
  end(): void;
  /** True once the connection has closed (an answer that comes later is then dropped). */
  closed(): boolean;
  /** Called once a key has logged in. */
  accepted(identity: Identity, restrictions: ForwardRestrictions, fingerprint?: string): void;
  /** Receives login audit events (public keys only; other methods are never offered). */
  audit?(event: SessionAuditEvent): void;
}

/** Returns the handler of ssh2's `authentication` event (internal). */
export function authenticationHandler(d: AuthDeps): (ctx: AuthContext) => void {
  const { log, remote, transport } = d;
  /** Records a failed attempt; true when the connection must now be closed. */
  const failed = () => d.limit?.authFailed() ?? false;
  const tooMany = () => {
    log.event("conn rejected", { remote, transport, reason: "too-many-auth-failures" });
    d.end();
  };
  return (ctx) => {
    if (ctx.method !== "publickey" || !ctx.key) {
      if (ctx.method !== "none") {
        log.event("auth", {
          result: "reject",
          remote,
          user: ctx.username,
          method: ctx.method,
          reason: "method-not-allowed",
        });
        if (failed()) return tooMany();
      }
      return ctx.reject(["publickey"]);
    }
    let answer: SshAuthDecision | Promise<SshAuthDecision>;
    try {
      answer = d.authenticator().authorize({
        algo: ctx.key.algo,
        key: new Uint8Array(ctx.key.data),
        username: ctx.username,
        remoteAddress: d.ip,
        remotePort: d.port,
      });
    } catch {
      answer = { ok: false, reason: "authenticator failed" };
    }
    const rejectKey = (reason: string, fp?: string) => {
      d.audit?.({
        type: "login.refused",
        remote,
        method: "publickey",
        reason,
        fingerprint: fp,
        user: ctx.username,
        transport,
      });
      log.event("auth", {
        result: "reject",
        remote,
        user: ctx.username,
        fp,
        method: "publickey",
        reason,
      });
      if (failed()) return tooMany();
      ctx.reject(["publickey"]);
    };
    const decide = (decision: SshAuthDecision) => {
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
      const session = d.limit?.authSucceeded(decision.identity.id) ?? { ok: true };
      if (!session.ok) {
        log.event("auth", {
          result: "reject",
          remote,
          user: ctx.username,
          fp: decision.fingerprint,
          method: decision.method,
          reason: "too-many-sessions",
        });
        d.audit?.({
          type: "login.refused",
          remote,
          method: decision.method,
          reason: "too-many-sessions",
          fingerprint: decision.fingerprint,
          user: ctx.username,
          transport,
        });
        return d.end();
      }
      d.accepted(decision.identity, decision.restrictions, decision.fingerprint);
      d.audit?.({
        type: "login.accepted",
        remote,
        method: decision.method,
        identity: decision.identity.id,
        fingerprint: decision.fingerprint,
        user: ctx.username,
        transport,
      });
      log.event("auth", {
        result: "accept",
        remote,
        user: ctx.username,
        fp: decision.fingerprint,
        method: decision.method,
        cert_id: decision.certKeyId,
      });
      ctx.accept();
    };
    if (!isPromise(answer)) return decide(answer);
    // An answer that comes later (an identity looked up in a database): ssh2
    // holds this connection's next requests until it is decided, the
    // pre-auth timeout still runs, and a connection gone meanwhile is left
    // alone (no session is counted for it).
    answer.then(
      (decision) => d.closed() || decide(decision),
      () => d.closed() || decide({ ok: false, reason: "authenticator failed" }),
    );
  };
}

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown })?.then === "function";
}
