/**
 * One SSH client connection: authenticates with a key, verifies the server's
 * host key, opens `direct-tcpip` channels and asks for remote forwards.
 * Reconnection lives in `tunnel.ts`.
 *
 * @module
 */

// @ts-types="@types/ssh2"
import ssh2, { type Algorithms } from "ssh2";
import type { Duplex } from "node:stream";
import { Buffer } from "node:buffer";
import type { PrivateKey } from "../auth/ssh_keys.ts";
import { type HostKeyPolicy, verifyHostKey } from "./known_hosts.ts";
import { type ByteConn, connToDuplex } from "../transport/stream.ts";
import { dialTcp } from "../transport/tcp.ts";
import { SSH_ALGORITHMS } from "./algorithms.ts";

/**
 * Opens the byte stream the SSH session runs on: TCP by default; TLS, QUIC,
 * WebSocket or a proxy chain from the transport layer.
 */
export type SshDialer = (host: string, port: number) => Promise<ByteConn>;

/** Options of {@link connectSsh}. */
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
 * An SSH channel could not be opened. `reason` is the RFC 4254 code
 * (1 prohibited, 2 connect failed, 3 unknown type, 4 resource shortage).
 *
 * @example
 * ```ts
 * import { ChannelOpenError } from "./client.ts";
 * const e = new ChannelOpenError(1, "administratively prohibited");
 * console.log(e.reason, e.message);
 * ```
 */
export class ChannelOpenError extends Error {
  /** RFC 4254 reason code, or 0 when the session is gone. */
  readonly reason: number;
  /** Creates the error. */
  constructor(reason: number, description: string) {
    super(`channel open failed: ${description || "no reason given"}`);
    this.name = "ChannelOpenError";
    this.reason = reason;
  }
}

/**
 * The SSH session could not be set up: network, authentication or host key.
 *
 * @example
 * ```ts
 * import { SshConnectError } from "./client.ts";
 * console.log(new SshConnectError("authentication failed").name); // "SshConnectError"
 * ```
 */
export class SshConnectError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SshConnectError";
  }
}

/** A connection that arrived on a remote forward. */
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
 * import { connectSsh, readPrivateKeyFile } from "@alknet/core";
 * const identity = await readPrivateKeyFile("./id_alknet").catch(() => null);
 * if (identity) {
 *   const session = await connectSsh({
 *     host: "127.0.0.1", port: 2222, identity,
 *     hostKey: { knownHostsPath: "./known_hosts" },
 *   });
 *   const channel = await session.openDirect("example.com", 80);
 *   channel.end("GET / HTTP/1.0\r\nHost: example.com\r\n\r\n");
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

  /** Wraps a ready ssh2 client (use {@link connectSsh}). */
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

  /** Opens a `direct-tcpip` channel to `host:port` through the server. */
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
 * Connects, verifies the host key and authenticates with the key.
 *
 * @example
 * ```ts
 * import { connectSsh, readPrivateKeyFile } from "@alknet/core";
 * const identity = await readPrivateKeyFile("./id_alknet").catch(() => null);
 * if (identity) {
 *   const session = await connectSsh({
 *     host: "::1", port: 2222, identity, hostKey: { pinnedFingerprint: "SHA256:..." },
 *   }).catch((e) => console.error(e.message));
 *   session?.close();
 * }
 * ```
 */
export async function connectSsh(options: SshConnectOptions): Promise<SshSession> {
  let conn: ByteConn;
  try {
    conn = await (options.dial ?? dialTcp)(options.host, options.port);
  } catch (e) {
    throw new SshConnectError(
      `cannot reach ${fmt(options.host, options.port)}: ${(e as Error).message}`,
      { cause: e },
    );
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
            `${
              fmt(options.host, options.port)
            } refused key ${options.identity.fingerprint} (not in its authorized keys?)`,
          ),
        );
      }
      fail(
        new SshConnectError(
          `SSH connection to ${fmt(options.host, options.port)} failed: ${e.message}`,
        ),
      );
    });
    client.on(
      "close",
      () => fail(new SshConnectError(`${fmt(options.host, options.port)} closed the connection`)),
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

function fmt(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
