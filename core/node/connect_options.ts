/**
 * The options of `connect()` and their checking: every option is validated
 * before anything is dialled or read, and a bad one is an
 * {@link OptionError} that names it.
 *
 * @module
 */

import type { PrivateKey } from "../auth/ssh_keys.ts";
import { OptionError } from "../util/errors.ts";
import { ForwardSpecError, parseHostPort } from "../transport/hostport.ts";
import { type ForwardSpec, parseForwardSpec } from "../ssh/forward_spec.ts";
import { checkTransportOptions, parseSshTarget, type SshTarget } from "../ssh/target.ts";
import type { SshTransportOptions } from "../ssh/target.ts";
import { hostKeyPolicyOf } from "../ssh/client.ts";
import type { HostKeyPolicy } from "../ssh/known_hosts.ts";
import type { DataPathMode } from "../ssh/direct_path.ts";
import { isReservedDestination } from "../ssh/reserved.ts";
import type { LoggerOption } from "./serve_log.ts";
import type { CallService } from "./call_service.ts";

/**
 * What the connection is doing: `connected` (a session is up),
 * `reconnecting` (the session was lost; local listeners stay up while new
 * sessions are tried) or `closed` (for good).
 *
 * @example
 * ```ts
 * import type { ConnectState } from "@alknet/core";
 * const s: ConnectState = "reconnecting";
 * console.log(s);
 * ```
 */
export type ConnectState = "connected" | "reconnecting" | "closed";

/**
 * A state change of a connection.
 *
 * @example
 * ```ts
 * import type { ConnectStateEvent } from "@alknet/core";
 * const e: ConnectStateEvent = { state: "reconnecting", retryInS: 2 };
 * console.log(e.state, e.retryInS); // reconnecting 2
 * ```
 */
export interface ConnectStateEvent {
  /** The new state. */
  state: ConnectState;
  /** Why the session ended or the last attempt failed, when known. */
  error?: Error;
  /** While reconnecting: seconds until the next attempt. */
  retryInS?: number;
}

/**
 * Options of `connect()`. Only `identity` and one of `hostKeyFingerprint` /
 * `knownHosts` are required; nothing listens locally unless `socks` or
 * `localForwards` ask for it.
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from "@alknet/core";
 * const o: ConnectOptions = {
 *   identity: "./id_alknet",
 *   knownHosts: "./known_hosts",
 *   socks: "127.0.0.1:1080",
 *   localForwards: ["5432:db.internal:5432"],
 *   logger: false,
 * };
 * console.log(o.socks); // "127.0.0.1:1080"
 * ```
 */
export interface ConnectOptions extends SshTransportOptions {
  /** The client key: a path to an OpenSSH private key file, or a parsed key. */
  identity: string | PrivateKey;
  /** Accept only this host key (`SHA256:<base64>`). */
  hostKeyFingerprint?: string;
  /**
   * An OpenSSH known-hosts file (trust on first use; a changed key is
   * refused). Used when `hostKeyFingerprint` is not given.
   */
  knownHosts?: string;
  /** User name sent to the server (default `alknet`; OpenSSH servers need a real one). */
  user?: string;
  /** SSH keepalive interval (default 15 000 ms; 3 missed answers end the session). */
  keepaliveMs?: number;
  /** Give up on an SSH handshake that takes longer (default 20 000 ms). */
  handshakeTimeoutMs?: number;
  /**
   * Reconnect after a lost session, forever, with backoff 1, 2, 4, 8, 16,
   * 30 s (default true). Local listeners stay up; `-R` forwards come back.
   */
  reconnect?: boolean;
  /** Serve a local SOCKS5 proxy on this address (`HOST:PORT`, port 0 picks one). None by default. */
  socks?: string | { host: string; port: number };
  /** RFC 1929 username/password the SOCKS5 proxy requires, if any. */
  socksCredentials?: { username: string; password: string };
  /** `-L` forwards: `[bind:]port:host:hostport` (OpenSSH syntax) or parsed; port 0 picks one (see `localAddrs`). */
  localForwards?: (string | ForwardSpec)[];
  /** `-R` forwards: `[bind:]port:host:hostport` (OpenSSH syntax) or parsed. */
  remoteForwards?: (string | ForwardSpec)[];
  /** Event log: a `Logger`, a function given each record, or `false` (default: text on stderr). */
  logger?: LoggerOption;
  /**
   * SOCKS5, `-L` and `openStream` connections on `tls://`, `quic://` and
   * `iroh://` ride the node's native `alknet/tcp` path when it offers it
   * (`auto`, the default), always (`direct`) or never (`ssh`).
   */
  dataPath?: DataPathMode;
  /** Told every state change (also available as `tunnel.states()`). */
  onState?: (event: ConnectStateEvent) => void;
  /** How long a new stream waits for a session while reconnecting (default 10 000 ms). */
  sessionWaitMs?: number;
  /**
   * Be a worker of the node (a mesh head): serve `worker.calls` on this
   * connection and register as `worker.name`, again after each reconnect.
   * The first refusal rejects `connect()` with a `CoreError` `worker`.
   */
  worker?: ConnectWorkerOptions;
}

/**
 * The `worker` option of `connect()`: this client serves its operations to
 * the node it connects to, which routes `NAME/<op>` to it.
 *
 * @example
 * ```ts
 * import type { ConnectWorkerOptions } from "@alknet/core";
 * import { OperationRegistry, registerNodeOperations } from "@alknet/call";
 * const calls = new OperationRegistry();
 * registerNodeOperations(calls, { version: "0.1.0" });
 * const worker: ConnectWorkerOptions = { name: "w1", calls };
 * console.log(worker.name); // "w1"
 * ```
 */
export interface ConnectWorkerOptions {
  /** The name to register as (1-64 letters, digits, `.`, `_`, `-`). */
  name: string;
  /** The operations to offer (an `OperationRegistry` from `@alknet/call`). */
  calls: CallService;
  /**
   * Scopes calls from the head run with (default `["*"]`: the head checks
   * each caller against the operation's access before forwarding).
   */
  headScopes?: string[];
}

/** {@link ConnectOptions} checked and parsed. */
export interface ResolvedConnectOptions {
  /** The node. */
  target: SshTarget;
  /** Host key trust. */
  hostKey: HostKeyPolicy;
  /** SOCKS5 listener address, or none. */
  socks?: { host: string; port: number };
  /** Parsed `-L` forwards. */
  localForwards: ForwardSpec[];
  /** Parsed `-R` forwards. */
  remoteForwards: ForwardSpec[];
  /** The data path mode (`ssh` when the target has no native path). */
  dataPath: DataPathMode;
  /** The worker to register as, checked. */
  worker?: ConnectWorkerOptions;
}

/** Throws `OptionError` for a bad `worker` option. */
function checkWorker(worker: ConnectWorkerOptions | undefined): ConnectWorkerOptions | undefined {
  if (worker === undefined) return undefined;
  if (typeof worker.name !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(worker.name)) {
    throw new OptionError("worker.name", "worker names are 1-64 letters, digits, '.', '_' or '-'");
  }
  if (typeof worker.calls?.serveWorker !== "function") {
    throw new OptionError(
      "worker.calls",
      "needs operations that can serve a head (an OperationRegistry from @alknet/call)",
    );
  }
  if (worker.headScopes !== undefined && !Array.isArray(worker.headScopes)) {
    throw new OptionError("worker.headScopes", "must be a list of scopes");
  }
  return worker;
}

function parseForwards(
  option: "localForwards" | "remoteForwards",
  list: (string | ForwardSpec)[] | undefined,
): ForwardSpec[] {
  return (list ?? []).map((f) => {
    if (typeof f !== "string") return f;
    try {
      return parseForwardSpec(f, { allowZeroBindPort: true });
    } catch (e) {
      if (e instanceof ForwardSpecError) throw new OptionError(option, e.message, { cause: e });
      throw e;
    }
  });
}

/**
 * Checks and parses the options of `connect()` for `target`. Nothing is
 * read or dialled.
 *
 * @throws {OptionError} naming the first bad option
 * @throws {TransportUrlError} for a malformed target
 */
export function resolveConnectOptions(
  target: string | { host: string; port: number },
  options: ConnectOptions,
): ResolvedConnectOptions {
  const t = parseSshTarget(target);
  const hostKey = hostKeyPolicyOf(options);
  checkTransportOptions(t, options);
  let socks: { host: string; port: number } | undefined;
  if (typeof options.socks === "string") {
    try {
      socks = parseHostPort(options.socks, "127.0.0.1");
    } catch (e) {
      if (e instanceof ForwardSpecError) throw new OptionError("socks", e.message, { cause: e });
      throw e;
    }
  } else if (options.socks) socks = options.socks;
  const localForwards = parseForwards("localForwards", options.localForwards);
  for (const f of localForwards) {
    if (isReservedDestination(f.host)) {
      throw new OptionError(
        "localForwards",
        `'${f.host}' is reserved for the node's own services (alknet-*) and cannot be forwarded`,
      );
    }
  }
  const remoteForwards = parseForwards("remoteForwards", options.remoteForwards);
  const mode = options.dataPath ?? "auto";
  if (mode !== "auto" && mode !== "ssh" && mode !== "direct") {
    throw new OptionError("dataPath", `must be auto, ssh or direct, not '${mode}'`);
  }
  const native = t.scheme === "tls" || t.scheme === "quic" || t.scheme === "iroh";
  if (mode === "direct" && !native) {
    throw new OptionError("dataPath", "direct needs a tls://, quic:// or iroh:// target");
  }
  return {
    target: t,
    hostKey,
    socks,
    localForwards,
    remoteForwards,
    dataPath: native ? mode : "ssh",
    worker: checkWorker(options.worker),
  };
}
