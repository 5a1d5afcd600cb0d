/**
 * The client side of each carrier, on the transport layer's dialers (one
 * transport stack for tunnels and calls): TCP, TLS and QUIC streams and
 * iroh streams with ALPN `alknet/call`, the `/alknet/call` WebSocket, and
 * the SSH `alknet-control` channel. Each gives the envelope transport a
 * `CallConnection` runs on; closing it closes everything it opened. Errors
 * of the transport layer become a {@link ConnectError} with a code.
 *
 * @module
 */

import {
  ALPN_CALL,
  type ByteConn,
  CoreError,
  dialIrohSession,
  type DialOptions,
  dialQuic,
  dialTcpVia,
  dialTls,
  openWebSocket,
  OptionError,
  PREAMBLE_CALL_HOST,
  STEALTH_CLIENT_ALPNS,
  WebSocketUpgradeError,
} from "@alknet/core/transport";
import { HostKeyError, openNativeTcp, openSshSession, SshConnectError } from "@alknet/core/ssh";
import { duplexFromConn } from "./byte_duplex.ts";
import type { CallTarget } from "./connect_target.ts";
import { ConnectError, type ConnectErrorCode } from "./errors.ts";
import { framedTransport } from "./framed.ts";
import type { EnvelopeTransport } from "./transport.ts";
import { type WebSocketLike, webSocketTransport } from "./ws_transport.ts";

/**
 * A parsed private key, with the shape `readPrivateKeyFile` and
 * `parsePrivateKey` of `@alknet/core/auth` return (declared here so this
 * package's types stand alone; core's keys fit as they are).
 *
 * @example
 * ```ts
 * import type { IdentityKey } from "@alknet/call";
 * import { generateEd25519Key, parsePrivateKey } from "@alknet/core/auth";
 * const key: IdentityKey = parsePrivateKey(generateEd25519Key("me").privateText, "generated");
 * console.log(key.type); // "ssh-ed25519"
 * ```
 */
export interface IdentityKey {
  /** Key algorithm, e.g. `ssh-ed25519`. */
  type: string;
  /** Public key blob in SSH wire format. */
  publicBlob: Uint8Array;
  /** `SHA256:` fingerprint of the public key. */
  fingerprint: string;
  /** The 32-byte Ed25519 seed, for `ssh-ed25519` keys (tokens are minted with it). */
  seed?: Uint8Array;
  /** The key in OpenSSH private key file format. */
  pem: string;
  /** The comment stored with the key. */
  comment: string;
}

/** What the carriers need to dial: the transport options and the credentials. */
export interface CarrierOptions {
  /** TLS trust, proxy and deadline for tcp, tls, quic, ws and wss. */
  dial: DialOptions;
  /**
   * The bearer token or API key (sent in the WebSocket upgrade, and on
   * `tls://` in the first bytes, so that a node in stealth mode lets the
   * connection through).
   */
  token?: string;
  /** SSH login. */
  ssh?: {
    identity: IdentityKey;
    hostKeyFingerprint?: string;
    knownHosts?: string;
    onHostKeyTrusted?: (message: string) => void;
    user?: string;
  };
}

/** A byte stream whose close also runs `also` (the session that carried it). */
function closing(conn: ByteConn, also: () => void): ByteConn {
  const close = conn.close.bind(conn);
  return {
    read: (b) => conn.read(b),
    write: (b) => conn.write(b),
    close: () => {
      try {
        close();
      } finally {
        also();
      }
    },
  };
}

/** The code for an error of the transport, SSH or iroh layer. */
function codeOf(e: unknown): ConnectErrorCode {
  if (e instanceof HostKeyError) return e.failure === "mismatch" ? "pin-mismatch" : "host-key";
  if (e instanceof SshConnectError && e.stage === "authentication") return "unauthorized";
  if (e instanceof WebSocketUpgradeError && (e.status === 401 || e.status === 403)) {
    return "unauthorized";
  }
  if (e instanceof CoreError) {
    if (e.code === "pin-mismatch") return "pin-mismatch";
    if (e.code === "options") return "options";
  }
  return "transport";
}

/** Wraps a failure of the layers below as a {@link ConnectError}. */
export function connectFailure(target: string, e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  if (e instanceof OptionError) {
    const prefix = `${e.option}: `;
    const why = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    return new ConnectError("options", target, why, { cause: e, option: optionName(e.option) });
  }
  const reason = e instanceof Error ? e.message : String(e);
  return new ConnectError(codeOf(e), target, reason, { cause: e });
}

/** `connectCall`'s name for an option of `openSshSession` (the same, but for `timeoutMs`). */
function optionName(option: string): string {
  return option === "timeoutMs" ? "connectTimeoutMs" : option;
}

/**
 * Opens the carrier for `target` and returns its envelope transport.
 *
 * @throws {ConnectError} when it cannot
 */
export async function openCarrier(
  target: CallTarget,
  options: CarrierOptions,
): Promise<EnvelopeTransport> {
  try {
    return await open(target, options);
  } catch (e) {
    throw connectFailure(target.url, e);
  }
}

async function open(target: CallTarget, options: CarrierOptions): Promise<EnvelopeTransport> {
  const dial: DialOptions = { ...options.dial, alpn: [ALPN_CALL] };
  const { host, port } = target;
  switch (target.scheme) {
    case "tcp":
      return framedTransport(duplexFromConn(await dialTcpVia(host, port, dial)));
    case "tls": {
      if (options.token === undefined) {
        return framedTransport(duplexFromConn(await dialTls(host, port, dial)));
      }
      // As a stealth client: h2/http/1.1, then the preamble naming alknet-control.
      const conn = await openNativeTcp(
        () => dialTls(host, port, { ...dial, alpn: [...STEALTH_CLIENT_ALPNS] }),
        options.token,
        PREAMBLE_CALL_HOST,
        80,
        dial.timeoutMs,
      );
      return framedTransport(duplexFromConn(conn));
    }
    case "quic": {
      const session = await dialQuic(host, port, dial);
      const stream = await session.openStream().catch((e) => {
        session.close();
        throw e;
      });
      return framedTransport(duplexFromConn(closing(stream, () => session.close())));
    }
    case "iroh": {
      const session = await dialIrohSession(target.iroh!, {
        alpn: ALPN_CALL,
        timeoutMs: dial.timeoutMs,
      });
      const stream = await session.openStream().catch((e) => {
        session.close();
        throw e;
      });
      return framedTransport(duplexFromConn(closing(stream, () => session.close())));
    }
    case "ws":
    case "wss": {
      const headers = options.token === undefined
        ? undefined
        : { authorization: `Bearer ${options.token}` };
      return await openWebSocket(
        { scheme: target.scheme, host, port, path: target.path },
        { ...dial, headers, wsPath: target.path },
        (socket) => webSocketTransport(socket as unknown as WebSocketLike),
      );
    }
    case "ssh": {
      const ssh = options.ssh!;
      const session = await openSshSession({ host, port }, {
        identity: ssh.identity,
        hostKeyFingerprint: ssh.hostKeyFingerprint,
        knownHosts: ssh.knownHosts,
        onHostKeyTrusted: ssh.onHostKeyTrusted,
        user: ssh.user,
        proxy: dial.proxy,
        timeoutMs: dial.timeoutMs,
      });
      const channel = await session.openChannel("alknet-control", 0).catch((e) => {
        session.close();
        throw e;
      });
      return framedTransport(duplexFromConn(closing(channel, () => session.close())));
    }
  }
}
