/**
 * The server side of the native data path (ALPN `alknet/tcp`): read the
 * header, check its token, the key's forwarding restrictions and the
 * forwarding policy exactly as for an SSH `direct-tcpip` channel, dial,
 * answer one status byte, then relay raw bytes both ways. The wire format is
 * in `@alknet/core/transport` (`encodeNativeTcpHeader`).
 *
 * @module
 */

import { type ByteConn, closeQuietly, relayConns, writeAll } from "../transport/stream.ts";
import { type Dialer, DialError, dialTcp } from "../transport/tcp.ts";
import { destinationProblem } from "./server_destination.ts";
import { prefixedConn } from "../transport/conn.ts";
import type { ConnHandler, ConnInfo } from "../transport/endpoint_types.ts";
import { hostPort } from "../transport/hostport.ts";
import {
  decodeNativeTcpHeader,
  NATIVE_TCP_MAX_HEADER,
  NativeTcpError,
  type NativeTcpHeader,
  NativeTcpStatus,
} from "../transport/native_header.ts";
import type { ForwardingPolicy, ForwardRestrictions, Identity } from "../auth/identity.ts";
import { restrictionsAllow } from "../auth/policy.ts";
import type { Logger } from "../util/log.ts";
import { Deadline, TIMED_OUT } from "../util/timeout.ts";
import { NATIVE_STANDBY_HOST, NATIVE_STANDBY_IDLE_MS } from "./native_pool.ts";
import { NATIVE_REUSE_HOST, ReusableStream } from "./native_reuse.ts";

/**
 * What a token stands for: an identity, optionally with per-key forwarding limits.
 *
 * @example
 * ```ts
 * import type { NativeTcpGrant } from "@alknet/core/ssh";
 * const g: NativeTcpGrant = {
 *   identity: { id: "SHA256:x", scopes: ["relay:connect"], resources: {} },
 *   restrictions: { noPortForwarding: false, permitOpen: ["db:5432"] },
 * };
 * console.log(g.identity.id);
 * ```
 */
export interface NativeTcpGrant {
  /** Who. */
  identity: Identity;
  /** Limits from the key's `authorized_keys` options (`permitopen=`, ...). */
  restrictions?: ForwardRestrictions;
}

/**
 * Options of {@link nativeTcpHandler}.
 *
 * @example
 * ```ts
 * import type { NativeTcpOptions } from "@alknet/core/ssh";
 * const o: NativeTcpOptions = { resolveToken: () => null, policy: { evaluate: () => "deny" } };
 * console.log(typeof o.resolveToken); // "function"
 * ```
 */
export interface NativeTcpOptions {
  /**
   * Resolves the header's token (same authorized set as SSH). Return an
   * Identity, a grant with restrictions, or null to refuse. Use
   * `AuthorizedKeysAuthenticator.authorizeToken(token, info.remoteAddress)`
   * to honour `from=`, `expiry-time=` and `permitopen=`.
   */
  resolveToken(
    token: string,
    info: ConnInfo,
  ): Identity | NativeTcpGrant | null | Promise<Identity | NativeTcpGrant | null>;
  /** The forwarding policy (the SSH server's). */
  policy: ForwardingPolicy;
  /** Outbound connections (default: direct TCP with NODELAY). */
  dial?: Dialer;
  /** Auth events are logged here; targets never are. */
  logger?: Logger;
  /** Deadline for the header (default 10 000 ms). */
  headerTimeoutMs?: number;
}

function isGrant(v: Identity | NativeTcpGrant): v is NativeTcpGrant {
  return typeof (v as NativeTcpGrant).identity === "object" &&
    (v as NativeTcpGrant).identity !== null;
}

/**
 * The header and the bytes after it; null when `quiet` and the stream ends
 * before any byte. `pending` holds bytes already read from `conn`.
 */
async function readHeader(
  conn: ByteConn,
  timeoutMs: number,
  quiet: boolean,
  pending: Uint8Array,
): Promise<{ header: NativeTcpHeader; rest: Uint8Array } | null> {
  // Room for the longest header and some early data; what does not fit
  // stays in `conn` for the relay.
  const buf = new Uint8Array(Math.max(NATIVE_TCP_MAX_HEADER + 2048, pending.length));
  buf.set(pending);
  let have = pending.length;
  const deadline = new Deadline(timeoutMs);
  try {
    while (true) {
      const parsed = decodeNativeTcpHeader(buf.subarray(0, have));
      if (parsed) return { header: parsed.header, rest: buf.slice(parsed.used, have) };
      if (have >= NATIVE_TCP_MAX_HEADER) throw new NativeTcpError("malformed", "header too long");
      const n = await deadline.race(conn.read(buf.subarray(have)));
      if (n === TIMED_OUT) throw new NativeTcpError("timeout", "no header in time");
      if (n === null && quiet && have === 0) return null;
      if (n === null) throw new NativeTcpError("malformed", "stream ended inside the header");
      have += n;
    }
  } finally {
    deadline.clear();
  }
}

/**
 * Where a connection is: before its first header, a standby connection
 * waiting for its one real header, or a reusable one between streams.
 */
type Phase = "first" | "standby" | "reuse";

const NOTHING = new Uint8Array(0);

/**
 * The server side: returns the endpoint's `tcp` handler.
 *
 * @example
 * ```ts
 * import { listenEndpoint } from "@alknet/core/transport";
 * import { nativeTcpHandler } from "@alknet/core/ssh";
 * const tcp = nativeTcpHandler({
 *   resolveToken: () => null,
 *   policy: { evaluate: () => "allow" },
 * });
 * const ep = await listenEndpoint("tcp://127.0.0.1:0", { handlers: { ssh: (c) => c.close(), tcp } });
 * await ep.close();
 * ```
 */
export function nativeTcpHandler(options: NativeTcpOptions): ConnHandler {
  const dial = options.dial ?? dialTcp;
  const log = options.logger;
  const headerMs = options.headerTimeoutMs ?? 10_000;
  const answer = async (conn: ByteConn, status: number) => {
    await writeAll(conn, new Uint8Array([status])).catch(() => {});
    if (status !== NativeTcpStatus.OK) {
      await conn.closeWrite?.().catch(() => {});
      closeQuietly(conn);
    }
  };
  // One header and what follows it; resolves to the bytes already read
  // when the connection carries another header next (standby, reuse).
  // Past the first header, closing or timing out while waiting is the
  // client's pool letting the connection go, not an error.
  const serveOne = async (
    conn: ByteConn,
    info: ConnInfo,
    phase: Phase,
    pending: Uint8Array,
  ): Promise<{ phase: Phase; pending: Uint8Array } | undefined> => {
    const remote = hostPort(info.remoteAddress, info.remotePort);
    const waiting = phase !== "first";
    let header: NativeTcpHeader;
    let rest: Uint8Array;
    try {
      const got = await readHeader(
        conn,
        waiting ? NATIVE_STANDBY_IDLE_MS : headerMs,
        waiting,
        pending,
      );
      if (!got) return void closeQuietly(conn);
      ({ header, rest } = got);
    } catch (e) {
      if (waiting && e instanceof NativeTcpError && e.status === "timeout") {
        return void closeQuietly(conn);
      }
      const status = e instanceof NativeTcpError && e.status === "timeout"
        ? NativeTcpStatus.TIMEOUT
        : NativeTcpStatus.MALFORMED;
      log?.event("conn rejected", { remote, transport: info.transport, reason: "bad-header" });
      return void await answer(conn, status);
    }
    let resolved: Identity | NativeTcpGrant | null = null;
    try {
      resolved = await options.resolveToken(header.token, info);
    } catch {
      resolved = null;
    }
    if (!resolved) {
      log?.event("auth", { result: "reject", remote, method: "token", transport: info.transport });
      return void await answer(conn, NativeTcpStatus.FORBIDDEN);
    }
    info.authenticated?.();
    const next = phase === "first" && header.host === NATIVE_STANDBY_HOST
      ? "standby"
      : phase === "first" && header.host === NATIVE_REUSE_HOST
      ? "reuse"
      : undefined;
    if (next) {
      try {
        await writeAll(conn, new Uint8Array([NativeTcpStatus.OK]));
      } catch {
        return void closeQuietly(conn);
      }
      return { phase: next, pending: rest };
    }
    const identity = isGrant(resolved) ? resolved.identity : resolved;
    const restrictions = isGrant(resolved) ? resolved.restrictions : undefined;
    const { host, port } = header;
    const problem = destinationProblem(host, port);
    if (problem !== undefined) {
      log?.event("forward refused", { remote, reason: problem });
      return void await answer(conn, NativeTcpStatus.MALFORMED);
    }
    const allowed = !host.toLowerCase().startsWith("alknet-") &&
      (!restrictions || restrictionsAllow(restrictions, { kind: "connect", host, port })) &&
      options.policy.evaluate({
          kind: "connect",
          host,
          port,
          identity,
          transport: info.transport,
        }) ===
        "allow";
    if (!allowed) {
      log?.event("forward refused", { remote, reason: "administratively-prohibited" });
      return void await answer(conn, NativeTcpStatus.FORBIDDEN);
    }
    let target: ByteConn;
    try {
      target = await dial(host, port);
    } catch (e) {
      const kind = e instanceof DialError ? e.kind : "unreachable";
      return void await answer(
        conn,
        kind === "refused"
          ? NativeTcpStatus.REFUSED
          : kind === "timeout"
          ? NativeTcpStatus.TIMEOUT
          : NativeTcpStatus.UNREACHABLE,
      );
    }
    try {
      await writeAll(conn, new Uint8Array([NativeTcpStatus.OK]));
    } catch {
      target.close();
      conn.close();
      return;
    }
    if (phase !== "reuse") return void await relayConns(prefixedConn(conn, rest), target);
    // A framed stream: the connection outlives it when both ends pass.
    let idle: Uint8Array | undefined;
    const stream = new ReusableStream(conn, (_, leftover) => idle = leftover, rest);
    await relayConns(stream, target);
    return idle ? { phase, pending: idle } : undefined;
  };
  const serve = async (conn: ByteConn, info: ConnInfo): Promise<void> => {
    let at: { phase: Phase; pending: Uint8Array } | undefined = {
      phase: "first",
      pending: NOTHING,
    };
    while (at) at = await serveOne(conn, info, at.phase, at.pending);
  };
  return (conn, info) => {
    serve(conn, info).catch(() => closeQuietly(conn));
  };
}
