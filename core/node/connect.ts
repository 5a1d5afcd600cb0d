/**
 * `connect(target, options)`: the client side of a node, by URL. It picks
 * the transport (`HOST:PORT`, `tcp://`, `tls://`, `quic://`, `ws://`,
 * `wss://`, `iroh://`), the ALPN and the data path itself, keeps one SSH
 * session up (reconnecting with backoff after a first success), and serves
 * what was asked for: a SOCKS5 proxy, `-L` and `-R` forwards. The handle
 * opens streams through the node and reports state changes.
 *
 * @module
 */

import { CoreError, OptionError } from "../util/errors.ts";
import type { Logger } from "../util/log.ts";
import type { ByteConn } from "../transport/stream.ts";
import { duplexToConn } from "../transport/conn.ts";
import { hostPort } from "../transport/hostport.ts";
import { connectSsh, resolveIdentity } from "../ssh/client.ts";
import { sshDialer, tokenMinter } from "../ssh/target.ts";
import { type DirectDataPath, directDataPath } from "../ssh/direct_path.ts";
import { dialOptionsOf } from "../ssh/target.ts";
import { ALPN_TCP } from "../transport/alpn.ts";
import { toLogger } from "./serve_log.ts";
import {
  type ConnectOptions,
  type ConnectState,
  type ConnectStateEvent,
  resolveConnectOptions,
} from "./connect_options.ts";
import { SessionKeeper } from "./connect_session.ts";
import { type Route, startLocalListeners } from "./connect_local.ts";
import { WorkerKeeper, type WorkerStatus } from "./connect_worker.ts";

export type {
  ConnectOptions,
  ConnectState,
  ConnectStateEvent,
  ConnectWorkerOptions,
} from "./connect_options.ts";
export type { WorkerStatus } from "./connect_worker.ts";
export type { WorkerLinkOptions, WorkerLinkSession } from "./call_service.ts";
export { RECONNECT_BACKOFF_S } from "./connect_session.ts";

/**
 * A running connection to a node, from {@link connect}.
 *
 * @example
 * ```ts
 * import type { Tunnel } from "@alknet/core";
 * const report = (t: Tunnel) => console.log(t.state, t.socksAddr?.port);
 * console.log(typeof report); // "function"
 * ```
 */
export interface Tunnel {
  /** The node, as given. */
  readonly target: string;
  /** The current state. */
  readonly state: ConnectState;
  /** True while an SSH session is up. */
  readonly connected: boolean;
  /** The SOCKS5 listener's address, when `socks` asked for one. */
  readonly socksAddr?: Deno.NetAddr;
  /** The SOCKS5 proxy as a URL (`socks5h://127.0.0.1:PORT`), for `Deno.createHttpClient`. */
  readonly socksUrl?: string;
  /** Bound addresses of the `-L` listeners, in `localForwards` order. */
  readonly localAddrs: Deno.NetAddr[];
  /** With the `worker` option: its name and whether the head has it registered now. */
  readonly worker?: WorkerStatus;
  /** Ports the node bound for the `-R` forwards of the current session, in order. */
  remotePorts(): number[];
  /** Resolves the next time a session is up (at once when one is, or when closed). */
  whenConnected(): Promise<void>;
  /**
   * State changes from now on, ending after `closed`. Each call gets its
   * own sequence.
   */
  states(): AsyncIterableIterator<ConnectStateEvent>;
  /**
   * Opens a byte stream to `host:port` as the node sees it (the native data
   * path when in use, else an SSH channel; waits for a session while
   * reconnecting).
   *
   * @throws {ChannelOpenError} or {@link NativeTcpError} when the node refuses
   * @throws {CoreError} with code `closed` when there is no session
   */
  openStream(host: string, port: number): Promise<ByteConn>;
  /** Closes listeners, streams and the session; stops reconnecting. */
  close(): Promise<void>;
}

/**
 * Connects to a node and starts what `options` ask for. Rejects when the
 * first connection fails (refused, unreachable, bad key, host key
 * mismatch, certificate pin mismatch); after that it reconnects on its own
 * (unless `reconnect: false`).
 *
 * @throws {OptionError} naming a bad option (checked before anything is dialled)
 * @throws {SshConnectError}, {@link HostKeyError} or a transport error for the first connection
 * @example
 * ```ts
 * import { connect, CoreError } from "@alknet/core";
 * try {
 *   const tunnel = await connect("tls://127.0.0.1:1", {
 *     identity: "./id_alknet",
 *     knownHosts: "./known_hosts",
 *     socks: "127.0.0.1:0",
 *     localForwards: ["8080:127.0.0.1:80"],
 *     logger: false,
 *   });
 *   for await (const change of tunnel.states()) console.log(change.state);
 * } catch (e) {
 *   console.log(e instanceof CoreError); // true: no key file, nothing listening
 * }
 * ```
 */
export async function connect(
  target: string | { host: string; port: number },
  options: ConnectOptions,
): Promise<Tunnel> {
  const r = resolveConnectOptions(target, options);
  const logger: Logger = toLogger(options.logger);
  const identity = await resolveIdentity(options.identity);
  // Open as a stealth client (a token in the first bytes) whenever the key can sign one.
  const dial = sshDialer(r.target, {
    ...options,
    token: options.token ?? (identity.seed ? tokenMinter(identity.seed) : undefined),
  });
  if (r.dataPath === "direct" && !identity.seed) {
    throw new OptionError(
      "dataPath",
      "direct needs an Ed25519 identity (tokens are Ed25519)",
    );
  }
  const server = r.target.scheme === "iroh" ? r.target.url : hostPort(r.target.host, r.target.port);
  const hostKey = {
    ...r.hostKey,
    onTrusted: (message: string) => logger.notice(message),
  };
  const events = new StateFanout(options.onState);
  const worker = r.worker
    ? new WorkerKeeper({
      worker: r.worker,
      headId: r.hostKey.pinnedFingerprint ?? `head:${server}`,
      server,
      logger,
    })
    : undefined;
  let keeperUp = false;
  const keeper: SessionKeeper = await SessionKeeper.start({
    open: () =>
      connectSsh({
        host: r.target.host,
        port: r.target.port,
        identity,
        hostKey,
        username: options.user,
        keepaliveMs: options.keepaliveMs,
        readyTimeoutMs: options.handshakeTimeoutMs,
        dial,
      }),
    remoteForwards: r.remoteForwards,
    reconnect: options.reconnect ?? true,
    logger,
    server,
    fingerprint: identity.fingerprint,
    onState: (e) => {
      events.emit(e);
      // Sessions after the first: register the worker again.
      if (keeperUp && e.state === "connected" && keeper.session) {
        worker?.attach(keeper.session).catch(() => {});
      }
    },
  });
  keeperUp = true;
  if (worker && keeper.session) {
    try {
      await worker.attach(keeper.session, true);
    } catch (e) {
      worker.close();
      await keeper.close();
      throw e;
    }
  }

  let direct: DirectDataPath | undefined;
  if (r.dataPath !== "ssh" && identity.seed && r.target.scheme !== "tcp") {
    direct = directDataPath({
      scheme: r.target.scheme as "tls" | "quic" | "iroh",
      iroh: r.target.iroh,
      host: r.target.host,
      port: r.target.port,
      dial: dialOptionsOf(options, [ALPN_TCP]),
      seed: identity.seed,
      mode: r.dataPath === "direct" ? "direct" : "auto",
      logger,
    });
  }
  const sessionWait = options.sessionWaitMs ?? 10_000;
  const isClosed = () => keeper.state === "closed";
  const route = async (host: string, port: number): Promise<Route> => {
    if (isClosed()) throw new CoreError("closed", "the connection is closed");
    if (direct) {
      const conn = await direct.open(host, port);
      if (conn) return { conn };
    }
    const s = await keeper.wait(sessionWait);
    if (!s) {
      throw new CoreError(
        "closed",
        isClosed()
          ? "the connection is closed"
          : `no session to ${server} within ${sessionWait} ms (reconnecting)`,
      );
    }
    return { channel: await s.openDirect(host, port) };
  };

  let local;
  try {
    local = startLocalListeners({
      socks: r.socks,
      socksCredentials: options.socksCredentials,
      localForwards: r.localForwards,
      open: route,
      logger,
    });
  } catch (e) {
    direct?.close();
    await keeper.close();
    throw e;
  }
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      local.close();
      worker?.close();
      await keeper.close();
      direct?.close();
    })();
  // A session lost for good (no reconnecting) closes everything.
  events.onClosed(() => void close());

  const socksAddr = local.socksAddr;
  return {
    target: r.target.url,
    get state() {
      return keeper.state;
    },
    get connected() {
      return keeper.session !== undefined;
    },
    socksAddr,
    socksUrl: socksAddr ? `socks5h://${hostPort(socksAddr.hostname, socksAddr.port)}` : undefined,
    localAddrs: local.localAddrs,
    get worker() {
      return worker?.status;
    },
    remotePorts: () => keeper.remotePorts(),
    whenConnected: () => keeper.whenConnected(),
    states: () => events.subscribe(keeper.state === "closed"),
    async openStream(host, port) {
      const rt = await route(host, port);
      return "conn" in rt ? rt.conn : duplexToConn(rt.channel);
    },
    close,
  };
}

/** Hands state changes to the `onState` callback and to every `states()` iterator. */
class StateFanout {
  #callback?: (e: ConnectStateEvent) => void;
  #queues = new Set<StateQueue>();
  #onClosed: (() => void)[] = [];

  constructor(callback?: (e: ConnectStateEvent) => void) {
    this.#callback = callback;
  }

  onClosed(f: () => void): void {
    this.#onClosed.push(f);
  }

  emit(e: ConnectStateEvent): void {
    try {
      this.#callback?.(e);
    } catch { /* the callback's failure is its own */ }
    for (const q of this.#queues) {
      q.items.push(e);
      q.wake?.();
    }
    if (e.state === "closed") { for (const f of this.#onClosed.splice(0)) f(); }
  }

  subscribe(alreadyClosed: boolean): AsyncIterableIterator<ConnectStateEvent> {
    const q: StateQueue = { items: [], ended: false };
    const queues = this.#queues;
    if (alreadyClosed) q.items.push({ state: "closed" });
    else queues.add(q);
    const it: AsyncIterableIterator<ConnectStateEvent> = {
      async next() {
        while (q.items.length === 0 && !q.ended) {
          await new Promise<void>((resolve) => q.wake = resolve);
          q.wake = undefined;
        }
        const value = q.items.shift();
        if (!value) return { value: undefined, done: true };
        if (value.state === "closed") {
          q.ended = true;
          q.items.length = 0;
          queues.delete(q);
        }
        return { value, done: false };
      },
      return() {
        q.ended = true;
        queues.delete(q);
        q.wake?.();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  }
}

interface StateQueue {
  items: ConnectStateEvent[];
  ended: boolean;
  wake?: () => void;
}
