/**
 * `connect()`: the client side of a tunnel. Keeps one SSH session to a node
 * (reconnecting forever with backoff 1, 2, 4, 8, 16, 30 s after a first
 * success), and serves a local SOCKS5 proxy and `-L` forwards through it,
 * and `-R` forwards from it. Local listeners stay up across reconnects.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import {
  ChannelOpenError,
  connectSsh,
  type SshConnectOptions,
  type SshSession,
} from "../ssh/client.ts";
import type { ForwardSpec } from "../ssh/forward_spec.ts";
import { socks5Handshake, Socks5Reply } from "../ssh/socks5.ts";
import { type ByteConn, relayConnDuplex, relayConns, writeAll } from "../transport/stream.ts";
import { NativeTcpError } from "../transport/native_header.ts";
import { dialTcp } from "../transport/tcp.ts";
import { Logger } from "../util/log.ts";
import { hostPort } from "../transport/hostport.ts";

/** Backoff steps in seconds between reconnect attempts. */
export const RECONNECT_BACKOFF_S: readonly number[] = [1, 2, 4, 8, 16, 30];

/** Options of {@link connect}. */
export interface TunnelOptions extends SshConnectOptions {
  /** Local SOCKS5 listener, or `null` for none (default `127.0.0.1:1080`). */
  socks5?: { host: string; port: number } | null;
  /** RFC 1929 credentials the SOCKS5 listener requires, if any. */
  socks5Credentials?: { username: string; password: string };
  /** `-L` forwards. */
  localForwards?: ForwardSpec[];
  /** `-R` forwards. */
  remoteForwards?: ForwardSpec[];
  /** Event log (default: text on stderr). */
  logger?: Logger;
  /** How long a new local connection waits for a session while reconnecting (default 10 s). */
  sessionWaitMs?: number;
  /**
   * A direct data path for SOCKS and `-L` connections (the native
   * `alknet/tcp` path): resolves to a stream to `host:port`, or to `null`
   * to send this connection through SSH instead. Its errors are reported to
   * SOCKS clients with {@link socksReplyFor}.
   */
  direct?: (host: string, port: number) => Promise<ByteConn | null>;
}

/** A running tunnel client. */
export interface Tunnel {
  /** The SOCKS5 listener's address, when there is one. */
  socksAddr?: Deno.NetAddr;
  /** Bound addresses of the `-L` listeners, in spec order. */
  localAddrs: Deno.NetAddr[];
  /** Ports the server bound for the `-R` forwards of the current session, in spec order. */
  remotePorts(): number[];
  /** True while an SSH session is up. */
  readonly connected: boolean;
  /** Resolves the next time a session comes up (immediately when one is up). */
  whenConnected(): Promise<void>;
  /** Closes listeners and the session; stops reconnecting. */
  close(): Promise<void>;
}

/**
 * The SOCKS5 reply for a failed tunnel open: SSH open failures by reason,
 * native data path failures by status.
 *
 * @example
 * ```ts
 * import { ChannelOpenError, socksReplyFor } from "@alknet/core";
 * console.log(socksReplyFor(new ChannelOpenError(1, "administratively prohibited"))); // 2
 * ```
 */
export function socksReplyFor(e: unknown): number {
  if (e instanceof NativeTcpError) {
    return e.status === "forbidden"
      ? Socks5Reply.NOT_ALLOWED
      : e.status === "refused"
      ? Socks5Reply.CONNECTION_REFUSED
      : e.status === "malformed"
      ? Socks5Reply.GENERAL_FAILURE
      : Socks5Reply.HOST_UNREACHABLE;
  }
  if (e instanceof ChannelOpenError) {
    if (e.reason === 1) return Socks5Reply.NOT_ALLOWED;
    if (e.reason === 2) {
      return /refused/i.test(e.message)
        ? Socks5Reply.CONNECTION_REFUSED
        : Socks5Reply.HOST_UNREACHABLE;
    }
  }
  return Socks5Reply.GENERAL_FAILURE;
}

/**
 * Connects to a node and starts the local listeners. Rejects when the first
 * connection fails (bad key, refused, unreachable, host key mismatch);
 * after that, reconnects on its own.
 *
 * @example
 * ```ts
 * import { connect, readPrivateKeyFile } from "@alknet/core";
 * const identity = await readPrivateKeyFile("./id_alknet").catch(() => null);
 * if (identity) {
 *   const tunnel = await connect({
 *     host: "127.0.0.1", port: 2222, identity,
 *     hostKey: { knownHostsPath: "./known_hosts" },
 *     socks5: { host: "127.0.0.1", port: 1080 },
 *     localForwards: [{ bindPort: 8080, host: "127.0.0.1", hostPort: 80 }],
 *   });
 *   await tunnel.close();
 * }
 * ```
 */
export async function connect(options: TunnelOptions): Promise<Tunnel> {
  const logger = options.logger ?? new Logger();
  const server = hostPort(options.host, options.port);
  const remoteSpecs = options.remoteForwards ?? [];
  let session: SshSession | undefined;
  let boundRemote: number[] = [];
  let closing = false;
  let waiters: (() => void)[] = [];
  const listeners: Deno.TcpListener[] = [];
  const active = new Set<Deno.Conn>();

  const setSession = async (s: SshSession) => {
    s.onForwardedConnection((fc) => {
      const i = boundRemote.indexOf(fc.bindPort);
      const spec = i >= 0 ? remoteSpecs[i] : undefined;
      if (!spec) return fc.reject();
      dialTcp(spec.host, spec.hostPort).then(
        (conn) => {
          let channel: Duplex;
          try {
            channel = fc.accept();
          } catch {
            return conn.close();
          }
          relayConnDuplex(conn, channel);
        },
        () => fc.reject(),
      );
    });
    const ports: number[] = [];
    for (const spec of remoteSpecs) {
      ports.push(await s.forwardIn(spec.bindHost ?? "localhost", spec.bindPort));
    }
    boundRemote = ports;
    for (const port of ports) logger.event("forward listening", { kind: "remote", port });
    session = s;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  const waitSession = (ms: number): Promise<SshSession | undefined> => {
    if (session && !session.isClosed) return Promise.resolve(session);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiters = waiters.filter((f) => f !== done);
        resolve(undefined);
      }, ms);
      const done = () => {
        clearTimeout(timer);
        resolve(session);
      };
      waiters.push(done);
    });
  };

  // First connection: failures are the caller's to report.
  const first = await connectSsh(options);
  try {
    await setSession(first);
  } catch (e) {
    first.close();
    throw e;
  }
  logger.event("tunnel connected", { server, fp: options.identity.fingerprint });

  const sessionWait = options.sessionWaitMs ?? 10_000;
  const serveLocal = (
    listener: Deno.TcpListener,
    handle: (conn: Deno.TcpConn) => Promise<void>,
  ) => {
    listeners.push(listener);
    (async () => {
      for await (const conn of listener) {
        conn.setNoDelay(true);
        active.add(conn);
        handle(conn).catch(() => {}).finally(() => {
          active.delete(conn);
          try {
            conn.close();
          } catch { /* closed */ }
        });
      }
    })().catch(() => {});
  };

  let socksAddr: Deno.NetAddr | undefined;
  const localAddrs: Deno.NetAddr[] = [];
  try {
    const socks = options.socks5 === undefined ? { host: "127.0.0.1", port: 1080 } : options.socks5;
    if (socks) {
      const l = Deno.listen({ hostname: socks.host, port: socks.port, transport: "tcp" });
      socksAddr = l.addr as Deno.NetAddr;
      serveLocal(l, async (conn) => {
        let hs;
        try {
          hs = await socks5Handshake(conn, { credentials: options.socks5Credentials });
        } catch (e) {
          const peer = conn.remoteAddr as Deno.NetAddr;
          logger.event("socks rejected", {
            remote: hostPort(peer.hostname, peer.port),
            reason: (e as Error).message,
          });
          return;
        }
        if (options.direct) {
          let stream: ByteConn | null;
          try {
            stream = await options.direct(hs.request.host, hs.request.port);
          } catch (e) {
            return await hs.reply(socksReplyFor(e));
          }
          if (stream) {
            await hs.reply(Socks5Reply.SUCCEEDED);
            if (hs.leftover.length) await writeAll(stream, hs.leftover);
            return await relayConns(conn, stream);
          }
        }
        const s = await waitSession(sessionWait);
        if (!s) return await hs.reply(Socks5Reply.GENERAL_FAILURE);
        let channel: Duplex;
        try {
          channel = await s.openDirect(hs.request.host, hs.request.port);
        } catch (e) {
          return await hs.reply(socksReplyFor(e));
        }
        await hs.reply(Socks5Reply.SUCCEEDED);
        await relayConnDuplex(conn, channel, hs.leftover);
      });
    }
    for (const spec of options.localForwards ?? []) {
      const l = Deno.listen({
        hostname: spec.bindHost ?? "127.0.0.1",
        port: spec.bindPort,
        transport: "tcp",
      });
      localAddrs.push(l.addr as Deno.NetAddr);
      serveLocal(l, async (conn) => {
        if (options.direct) {
          const stream = await options.direct(spec.host, spec.hostPort).catch(() => undefined);
          if (stream === undefined) return;
          if (stream) return await relayConns(conn, stream);
        }
        const s = await waitSession(sessionWait);
        if (!s) return;
        let channel: Duplex;
        try {
          channel = await s.openDirect(spec.host, spec.hostPort);
        } catch {
          return;
        }
        await relayConnDuplex(conn, channel);
      });
    }
  } catch (e) {
    for (const l of listeners) l.close();
    first.close();
    throw e;
  }

  // Reconnect loop.
  const loop = (async () => {
    while (!closing) {
      const s = session!;
      const err = await s.closed;
      session = undefined;
      if (closing) break;
      logger.event("tunnel disconnected", { server, reason: err?.message ?? "closed" });
      for (let attempt = 0; !closing; attempt++) {
        const delay = RECONNECT_BACKOFF_S[Math.min(attempt, RECONNECT_BACKOFF_S.length - 1)];
        await sleepUnlessClosed(delay * 1000);
        if (closing) break;
        try {
          const next = await connectSsh(options);
          try {
            await setSession(next);
          } catch (e) {
            next.close();
            throw e;
          }
          logger.event("tunnel connected", { server, fp: options.identity.fingerprint });
          break;
        } catch (e) {
          logger.event("tunnel retry", {
            server,
            in_s: RECONNECT_BACKOFF_S[Math.min(attempt + 1, RECONNECT_BACKOFF_S.length - 1)],
            reason: (e as Error).message,
          });
        }
      }
    }
  })();

  let wake: (() => void) | undefined;
  function sleepUnlessClosed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  return {
    socksAddr,
    localAddrs,
    remotePorts: () => [...boundRemote],
    get connected() {
      return session !== undefined && !session.isClosed;
    },
    whenConnected: () =>
      session && !session.isClosed
        ? Promise.resolve()
        : new Promise((r) => waiters.push(() => r())),
    async close() {
      closing = true;
      wake?.();
      for (const l of listeners) {
        try {
          l.close();
        } catch { /* closed */ }
      }
      for (const c of active) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      session?.close();
      for (const f of waiters) f();
      await loop;
    },
  };
}
