/**
 * One SSH client connection: authenticates with a key, verifies the server's
 * host key, opens `direct-tcpip` channels and asks for remote forwards.
 * {@link openSshSession} opens one to a node by URL; reconnection and local
 * listeners live in `connect()`.
 *
 * @module
 */

// @ts-types="@types/ssh2"
import ssh2, { type Algorithms } from "ssh2";
import type { Duplex } from "node:stream";
import { Buffer } from "node:buffer";
import { type PrivateKey, readPrivateKeyFile } from "../auth/ssh_keys.ts";
import { type HostKeyPolicy, verifyHostKey } from "./known_hosts.ts";
import { type ByteConn, connToDuplex } from "../transport/stream.ts";
import { duplexToConn } from "../transport/conn.ts";
import { dialTcp } from "../transport/tcp.ts";
import { CoreError, OptionError } from "../util/errors.ts";
import { hostPort } from "../transport/hostport.ts";
import { SSH_ALGORITHMS } from "./algorithms.ts";
import {
  parseSshTarget,
  type SshDialer,
  sshDialer,
  type SshTarget,
  type SshTransportOptions,
} from "./target.ts";

/**
 * Options of {@link connectSsh}.
 *
 * @example
 * ```ts
 * import type { SshConnectOptions } from "@alknet/core/ssh";
 * import { generateEd25519Key, parsePrivateKey } from "@alknet/core/auth";
 * const o: SshConnectOptions = {
 *   host: "127.0.0.1",
 *   port: 2222,
 *   identity: parsePrivateKey(generateEd25519Key("me").privateText, "generated"),
 *   hostKey: { pinnedFingerprint: "SHA256:" + "A".repeat(43) },
 * };
 * console.log(o.port); // 2222
 * ```
 */
export interface SshConnectOptions {
  /** Server host name or IP literal (IPv6 without brackets). */
  host: string;
  /** Server port. */
  port: number;
  /** The client key. */
  identity: PrivateKey;
  /** How the server's host key is trusted. */
  hostKey: HostKeyPolicy;
  /** User name sent to the server (alknet ignores it; OpenSSH needs a real one). */
  username?: string;
  /** Keepalive interval (default 15 s; 3 missed answers close the session). */
  keepaliveMs?: number;
  /** Give up on a handshake that takes longer (default 20 s). */
  readyTimeoutMs?: number;
  /** Opens the underlying connection (default: TCP with NODELAY). */
  dial?: SshDialer;
}

/**
 * Why a channel could not be opened, decoded once from the SSH open
 * failure (RFC 4254 reason code, and for "connect failed" the server's
 * description, since the protocol has no finer code).
 *
 * @example
 * ```ts
 * import { type ChannelFailure, ChannelOpenError } from "@alknet/core/ssh";
 * const failure = (e: unknown): ChannelFailure | undefined =>
 *   e instanceof ChannelOpenError ? e.failure : undefined;
 * console.log(failure(new Error("something else"))); // undefined
 * ```
 */
export type ChannelFailure =
  | "prohibited"
  | "refused"
  | "unreachable"
  | "unknown-type"
  | "resource-shortage"
  | "closed";

/**
 * The failure kind for an RFC 4254 open failure. Reason 2 ("connect
 * failed") covers both a refused and an unreachable target; alknet and
 * OpenSSH say which in the description, so this is where it is read, once.
 *
 * @example
 * ```ts
 * import { channelFailureOf } from "@alknet/core/ssh";
 * console.log(channelFailureOf(1, "")); // "prohibited"
 * console.log(channelFailureOf(2, "Connection refused")); // "refused"
 * ```
 */
export function channelFailureOf(reason: number, description: string): ChannelFailure {
  switch (reason) {
    case 1:
      return "prohibited";
    case 2:
      return /refused/i.test(description) ? "refused" : "unreachable";
    case 3:
      return "unknown-type";
    case 4:
      return "resource-shortage";
    default:
      return "closed";
  }
}

/**
 * An SSH channel could not be opened. `reason` is the RFC 4254 code
 * (1 prohibited, 2 connect failed, 3 unknown type, 4 resource shortage, 0
 * when the session is gone); `failure` says the same in words.
 *
 * @example
 * ```ts
 * import { ChannelOpenError } from "@alknet/core/ssh";
 * const e = new ChannelOpenError(1, "administratively prohibited");
 * console.log(e.code, e.reason, e.failure); // "channel-open" 1 "prohibited"
 * ```
 */
export class ChannelOpenError extends CoreError {
  /** RFC 4254 reason code, or 0 when the session is gone. */
  readonly reason: number;
  /** The reason in words. */
  readonly failure: ChannelFailure;
  /** Creates the error. */
  constructor(reason: number, description: string, failure?: ChannelFailure) {
    super("channel-open", `channel open failed: ${description || "no reason given"}`);
    this.name = "ChannelOpenError";
    this.reason = reason;
    this.failure = failure ?? channelFailureOf(reason, description);
  }
}

/**
 * The stage at which an SSH session could not be set up: the transport
 * (`dial`), the key exchange or its deadline (`handshake`), the login
 * (`authentication`) or the server hanging up (`closed`). A host key that
 * is not trusted is a {@link HostKeyError} instead.
 *
 * @example
 * ```ts
 * import { SshConnectError, type SshConnectStage } from "@alknet/core/ssh";
 * const stage: SshConnectStage = new SshConnectError("handshake", "the handshake timed out").stage;
 * console.log(stage); // "handshake"
 * ```
 */
export type SshConnectStage = "dial" | "handshake" | "authentication" | "closed";

/**
 * The SSH session could not be set up: network, handshake or authentication.
 *
 * @example
 * ```ts
 * import { SshConnectError } from "@alknet/core/ssh";
 * const e = new SshConnectError("authentication", "the node refused key SHA256:...");
 * console.log(e.code, e.stage); // "ssh-connect" "authentication"
 * ```
 */
export class SshConnectError extends CoreError {
  /** Where it failed. */
  readonly stage: SshConnectStage;
  /** Creates the error. */
  constructor(stage: SshConnectStage, message: string, options?: ErrorOptions) {
    super("ssh-connect", message, options);
    this.name = "SshConnectError";
    this.stage = stage;
  }
}

/**
 * A connection that arrived on a remote forward.
 *
 * @example
 * ```ts
 * import type { ForwardedConnection } from "@alknet/core/ssh";
 * const refuse = (c: ForwardedConnection) => {
 *   console.log(`refusing a connection to ${c.bindHost}:${c.bindPort}`);
 *   c.reject();
 * };
 * console.log(typeof refuse); // "function"
 * ```
 */
export interface ForwardedConnection {
  /** Address the server bound. */
  bindHost: string;
  /** Port the server bound. */
  bindPort: number;
  /** Accepts the channel. */
  accept(): Duplex;
  /** Refuses it. */
  reject(): void;
}

type Ssh2Client = InstanceType<typeof ssh2.Client>;

/**
 * An authenticated SSH client session.
 *
 * @example
 * ```ts
 * import { openSshSession } from "@alknet/core/ssh";
 * const session = await openSshSession("127.0.0.1:1", {
 *   identity: "./id_alknet",
 *   knownHosts: "./known_hosts",
 * }).catch(() => null);
 * if (session) {
 *   const stream = await session.openChannel("example.com", 80);
 *   stream.close();
 *   session.close();
 * }
 * ```
 */
export class SshSession {
  #client: Ssh2Client;
  #forwardHandler?: (conn: ForwardedConnection) => void;
  /** Resolves when the session has ended, with the error that ended it, if any. */
  readonly closed: Promise<Error | undefined>;
  #isClosed = false;

  /** Wraps a ready ssh2 client (use {@link openSshSession} or {@link connectSsh}). */
  constructor(client: Ssh2Client) {
    this.#client = client;
    let lastError: Error | undefined;
    client.on("error", (e: Error) => lastError = e);
    this.closed = new Promise((resolve) => {
      client.on("close", () => {
        this.#isClosed = true;
        resolve(lastError);
      });
    });
    client.on(
      "tcp connection",
      (info: { destIP: string; destPort: number }, accept: () => Duplex, reject: () => void) => {
        if (!this.#forwardHandler) return reject();
        this.#forwardHandler({ bindHost: info.destIP, bindPort: info.destPort, accept, reject });
      },
    );
  }

  /** True once the session has ended. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /**
   * Opens a `direct-tcpip` channel to `host:port` through the server, as a
   * Node `Duplex` (what ssh2 gives).
   *
   * @throws {ChannelOpenError} when the server refuses or the session is gone
   */
  openDirect(host: string, port: number, origin = "127.0.0.1", originPort = 0): Promise<Duplex> {
    if (this.#isClosed) return Promise.reject(new ChannelOpenError(0, "session closed"));
    return new Promise((resolve, reject) => {
      try {
        this.#client.forwardOut(
          origin,
          originPort,
          host,
          port,
          (err: Error | undefined, channel: Duplex) => {
            if (err) {
              const reason = Number((err as Error & { reason?: number }).reason) || 0;
              const desc = err.message.replace(/^\(SSH\) Channel open failure: ?/, "");
              return reject(new ChannelOpenError(reason, desc));
            }
            resolve(channel as unknown as Duplex);
          },
        );
      } catch (e) {
        reject(new ChannelOpenError(0, (e as Error).message));
      }
    });
  }

  /**
   * Opens a `direct-tcpip` channel to `host:port` as a byte stream
   * (`read`/`write`/`closeWrite`/`close`). `alknet-control` (any port)
   * reaches the node's call service.
   *
   * @throws {ChannelOpenError} when the server refuses or the session is gone
   */
  async openChannel(host: string, port: number): Promise<ByteConn> {
    return duplexToConn(await this.openDirect(host, port));
  }

  /** Asks the server to listen on `bindHost:bindPort`; resolves to the bound port. */
  forwardIn(bindHost: string, bindPort: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#client.forwardIn(bindHost, bindPort, (err: Error | undefined, port: number) => {
        if (err) {
          return reject(
            new ChannelOpenError(1, `remote forward ${bindPort} refused: ${err.message}`),
          );
        }
        resolve(bindPort === 0 ? port : bindPort);
      });
    });
  }

  /** Cancels a remote forward. */
  unforwardIn(bindHost: string, bindPort: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#client.unforwardIn(
        bindHost,
        bindPort,
        (err?: Error | null) => err ? reject(err) : resolve(),
      );
    });
  }

  /** Sets who handles connections arriving on remote forwards. */
  onForwardedConnection(handler: (conn: ForwardedConnection) => void): void {
    this.#forwardHandler = handler;
  }

  /** Ends the session. */
  close(): void {
    this.#client.end();
  }
}

/**
 * Connects over `options.dial` (TCP by default), verifies the host key and
 * authenticates with the key. {@link openSshSession} does the same from a
 * URL and option values; this is the lower-level form.
 *
 * @throws {SshConnectError} when the transport, handshake or login fails
 * @throws {HostKeyError} when the host key is not trusted
 * @throws {PinMismatchError} when a TLS certificate does not match `tlsFingerprint`
 * @example
 * ```ts
 * import { connectSsh } from "@alknet/core/ssh";
 * import { generateEd25519Key, parsePrivateKey } from "@alknet/core/auth";
 * const key = generateEd25519Key("me");
 * const identity = parsePrivateKey(key.privateText, "generated");
 * await connectSsh({
 *   host: "127.0.0.1", port: 1, identity, hostKey: { pinnedFingerprint: "SHA256:..." },
 * }).catch((e) => console.log(e.code, e.stage)); // ssh-connect dial
 * ```
 */
export async function connectSsh(options: SshConnectOptions): Promise<SshSession> {
  const where = hostPort(options.host, options.port);
  let conn: ByteConn;
  try {
    conn = await (options.dial ?? dialTcp)(options.host, options.port);
  } catch (e) {
    // A certificate that does not match its pin is refused as such, like a host key.
    if (e instanceof CoreError && e.code === "pin-mismatch") throw e;
    throw new SshConnectError("dial", `cannot reach ${where}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const sock = connToDuplex(conn, { remoteAddress: options.host, remotePort: options.port });
  const client = new ssh2.Client();
  let hostKeyError: Error | undefined;
  return await new Promise<SshSession>((resolve, reject) => {
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      client.end();
      sock.destroy();
      reject(e);
    };
    client.once("ready", () => {
      if (settled) return;
      settled = true;
      resolve(new SshSession(client));
    });
    client.on("error", (e: Error & { level?: string }) => {
      if (hostKeyError) return fail(hostKeyError);
      if (e.level === "client-authentication") {
        return fail(
          new SshConnectError(
            "authentication",
            `${where} refused key ${options.identity.fingerprint} (not in its authorized keys?)`,
          ),
        );
      }
      fail(new SshConnectError("handshake", `SSH connection to ${where} failed: ${e.message}`));
    });
    client.on(
      "close",
      () => fail(new SshConnectError("closed", `${where} closed the connection`)),
    );
    client.connect({
      sock: sock as unknown as import("node:stream").Readable,
      username: options.username ?? "alknet",
      privateKey: Buffer.from(options.identity.pem),
      algorithms: SSH_ALGORITHMS as Algorithms,
      keepaliveInterval: options.keepaliveMs ?? 15_000,
      keepaliveCountMax: 3,
      readyTimeout: options.readyTimeoutMs ?? 20_000,
      hostVerifier: ((key: Buffer, verify: (ok: boolean) => void) => {
        verifyHostKey(options.host, options.port, new Uint8Array(key), options.hostKey).then(
          () => verify(true),
          (e) => {
            hostKeyError = e;
            verify(false);
          },
        );
      }) as never,
    });
  });
}

/**
 * Options of {@link openSshSession}: who logs in, how the host key is
 * trusted, and the transport options of {@link SshTransportOptions}.
 *
 * @example
 * ```ts
 * import type { OpenSshSessionOptions } from "@alknet/core/ssh";
 * const o: OpenSshSessionOptions = {
 *   identity: "./id_alknet", // or a parsed key
 *   knownHosts: "./known_hosts", // or hostKeyFingerprint
 *   tlsFingerprint: "SHA256:" + "0".repeat(64), // for a tls://, quic:// or wss:// target
 * };
 * console.log(typeof o.identity); // "string"
 * ```
 */
export interface OpenSshSessionOptions extends SshTransportOptions {
  /** The client key: a path to an OpenSSH private key file, or a parsed key. */
  identity: string | PrivateKey;
  /** Accept only this host key (`SHA256:<base64>`, as `serve` reports it). */
  hostKeyFingerprint?: string;
  /**
   * An OpenSSH known-hosts file: an unknown host's key is trusted and saved
   * on first use, a changed key is refused. Used when no
   * `hostKeyFingerprint` is given; one of the two is required.
   */
  knownHosts?: string;
  /** Told when a new host key is trusted and saved to `knownHosts`. */
  onHostKeyTrusted?: (message: string) => void;
  /** User name sent to the server (default `alknet`; alknet ignores it, OpenSSH needs one). */
  user?: string;
  /** Keepalive interval (default 15 000 ms; 3 missed answers close the session). */
  keepaliveMs?: number;
  /** Give up on an SSH handshake that takes longer (default 20 000 ms). */
  handshakeTimeoutMs?: number;
}

/**
 * Reads `identity` when it is a path.
 *
 * @throws {KeyError} when the file cannot be read or parsed
 * @example
 * ```ts
 * import { resolveIdentity } from "@alknet/core/ssh";
 * import { generateEd25519Key, parsePrivateKey } from "@alknet/core/auth";
 * const key = parsePrivateKey(generateEd25519Key("me").privateText, "generated");
 * console.log((await resolveIdentity(key)) === key); // true
 * ```
 */
export async function resolveIdentity(identity: string | PrivateKey): Promise<PrivateKey> {
  return typeof identity === "string" ? await readPrivateKeyFile(identity) : identity;
}

/**
 * The host key policy for `hostKeyFingerprint` / `knownHosts`.
 *
 * @throws {OptionError} when neither is given or the fingerprint is malformed
 * @example
 * ```ts
 * import { hostKeyPolicyOf } from "@alknet/core/ssh";
 * console.log(hostKeyPolicyOf({ knownHosts: "./known_hosts" }).knownHostsPath); // "./known_hosts"
 * ```
 */
export function hostKeyPolicyOf(
  options: Pick<OpenSshSessionOptions, "hostKeyFingerprint" | "knownHosts" | "onHostKeyTrusted">,
): HostKeyPolicy {
  const fp = options.hostKeyFingerprint;
  if (fp !== undefined && !/^SHA256:[A-Za-z0-9+/]{43}$/.test(fp.trim())) {
    throw new OptionError(
      "hostKeyFingerprint",
      `'${fp}' is not of the form SHA256:<43 base64 characters>`,
    );
  }
  if (fp === undefined && options.knownHosts === undefined) {
    throw new OptionError(
      "hostKeyFingerprint",
      "give hostKeyFingerprint or knownHosts: the host key must be verified",
    );
  }
  return {
    pinnedFingerprint: fp?.trim(),
    knownHostsPath: options.knownHosts,
    onTrusted: options.onHostKeyTrusted,
  };
}

/**
 * Opens an authenticated SSH session to a node: `target` is `ssh://HOST:PORT`,
 * `HOST:PORT`, `[v6]:PORT`, any transport URL (`tcp://`, `tls://`,
 * `quic://`, `ws://`, `wss://`, `iroh://NODEID[...]`) or `{ host, port }`
 * (TCP). The host key is checked against `hostKeyFingerprint` or the
 * `knownHosts` file before the login. `session.openChannel(host, port)`
 * then opens byte streams through the node (`alknet-control` reaches its
 * call service).
 *
 * @throws {OptionError} for options that are missing or do not fit the target
 * @throws {TransportUrlError} for a malformed target
 * @throws {KeyError} when the identity file cannot be used
 * @throws {SshConnectError} when the transport, handshake or login fails
 * @throws {HostKeyError} when the host key is not trusted
 * @example
 * ```ts
 * import { openSshSession } from "@alknet/core/ssh";
 * import { generateEd25519Key, parsePrivateKey } from "@alknet/core/auth";
 * const identity = parsePrivateKey(generateEd25519Key("me").privateText, "generated");
 * try {
 *   const session = await openSshSession("ssh://127.0.0.1:1", {
 *     identity,
 *     hostKeyFingerprint: "SHA256:" + "A".repeat(43),
 *   });
 *   const control = await session.openChannel("alknet-control", 0);
 *   control.close();
 *   session.close();
 * } catch (e) {
 *   console.log((e as Error).name); // "SshConnectError": nothing listens on port 1
 * }
 * ```
 */
export async function openSshSession(
  target: string | { host: string; port: number } | SshTarget,
  options: OpenSshSessionOptions,
): Promise<SshSession> {
  const t = typeof target === "object" && "scheme" in target ? target : parseSshTarget(target);
  const hostKey = hostKeyPolicyOf(options);
  const dial = sshDialer(t, options);
  const identity = await resolveIdentity(options.identity);
  return await connectSsh({
    host: t.host,
    port: t.port,
    identity,
    hostKey,
    username: options.user,
    keepaliveMs: options.keepaliveMs,
    readyTimeoutMs: options.handshakeTimeoutMs,
    dial,
  });
}
