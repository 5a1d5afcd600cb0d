/**
 * The client side of the native data path: SOCKS and `-L` connections ride
 * `alknet/tcp` (a QUIC stream or a TLS connection of their own, with a
 * signed token) instead of SSH channels, when the node offers it.
 *
 * @module
 */

import type { ByteConn } from "../transport/stream.ts";
import { mintToken } from "../auth/token.ts";
import type { DialOptions } from "../transport/dial.ts";
import { NativeTcpError } from "../transport/native_header.ts";
import {
  type NativeStreamOpener,
  nativeTcpOverIroh,
  nativeTcpOverQuic,
  nativeTcpOverStealthTls,
  NotNativeServiceError,
  openNativeTcp,
} from "./native_client.ts";
import type { Logger } from "../util/log.ts";
import type { IrohUrl } from "../transport/iroh_url.ts";
import { type StandbyPool, standbyPool } from "./native_pool.ts";

/**
 * `auto` uses the native path when the node offers it, `direct` insists, `ssh` never uses it.
 *
 * @example
 * ```ts
 * import type { DataPathMode } from "@alknet/core/ssh";
 * const mode: DataPathMode = "auto"; // the native path when the node has it, else SSH channels
 * console.log(mode); // "auto"
 * ```
 */
export type DataPathMode = "auto" | "ssh" | "direct";

/**
 * Options of {@link directDataPath}.
 *
 * @example
 * ```ts
 * import type { DirectDataPathOptions } from "@alknet/core/ssh";
 * const o: DirectDataPathOptions = {
 *   scheme: "tls",
 *   host: "node.example",
 *   port: 443,
 *   dial: { fingerprint: "SHA256:" + "0".repeat(64) },
 *   seed: new Uint8Array(32), // the identity key's Ed25519 seed
 *   mode: "auto",
 * };
 * console.log(o.scheme); // "tls"
 * ```
 */
export interface DirectDataPathOptions {
  /** `tls`, `quic` or `iroh` (other transports have no native path). */
  scheme: "tls" | "quic" | "iroh";
  /** The node. */
  host: string;
  /** The node's port. */
  port: number;
  /** TLS/QUIC options (CA, server name, pinning, proxy for TLS). */
  dial: DialOptions;
  /** The node's `iroh://` URL (scheme `iroh`; `host`/`port` are then ignored). */
  iroh?: IrohUrl;
  /** The client's Ed25519 seed, for the signed tokens the native path authenticates with. */
  seed: Uint8Array;
  /** `auto` or `direct`. */
  mode: "auto" | "direct";
  /** Told once when `auto` falls back to SSH. */
  logger?: Logger;
}

/**
 * A native data path opener for `connect({ direct })`.
 *
 * @example
 * ```ts
 * import type { DirectDataPath } from "@alknet/core/ssh";
 * const sshOnly: DirectDataPath = { open: () => Promise.resolve(null), close: () => {} };
 * console.log(await sshOnly.open("example.com", 443)); // null: use an SSH channel
 * ```
 */
export interface DirectDataPath {
  /** Opens a stream to `host:port`, or resolves to null to use SSH instead (auto mode). */
  open(host: string, port: number): Promise<ByteConn | null>;
  /** Closes the QUIC connection, if any. */
  close(): void;
}

const TOKEN_REUSE_S = 60;

/** The node's `alknet/tcp` service could not be reached (internal marker). */
class ServiceNotReached {
  constructor(readonly cause: unknown) {}
}

/**
 * Builds the opener. In `auto` mode the first failure to reach the node's
 * `alknet/tcp` service (not offered, handshake refused) switches to SSH for
 * good; answers from the service itself (forbidden, refused, unreachable)
 * are passed on as errors.
 *
 * @example
 * ```ts
 * import { directDataPath } from "@alknet/core/ssh";
 * const path = directDataPath({
 *   scheme: "quic", host: "127.0.0.1", port: 4433, dial: { insecure: true },
 *   seed: new Uint8Array(32), mode: "auto",
 * });
 * path.close();
 * ```
 */
export function directDataPath(options: DirectDataPathOptions): DirectDataPath {
  const seed = options.seed.slice();
  let token: { text: string; at: number } | undefined;
  const tokenNow = () => {
    const now = Math.floor(Date.now() / 1000);
    if (!token || now - token.at > TOKEN_REUSE_S) token = { text: mintToken(seed, now), at: now };
    return token.text;
  };
  let dialNode: NativeStreamOpener;
  let closeOpener = () => {};
  let pool: StandbyPool | undefined;
  if (options.scheme === "iroh") {
    const q = nativeTcpOverIroh(options.iroh ?? `iroh://${options.host}`);
    dialNode = q.open;
    closeOpener = () => q.close();
  } else if (options.scheme === "quic") {
    const q = nativeTcpOverQuic(options.host, options.port, options.dial);
    dialNode = q.open;
    closeOpener = () => q.close();
  } else {
    // As a stealth client (h2/http/1.1, the header first): works in stealth mode and out.
    dialNode = nativeTcpOverStealthTls(options.host, options.port, options.dial);
  }
  // Failing to get a stream to the node's alknet/tcp service at all (not
  // offered, handshake refused, unreachable) is told apart from the
  // service's own answers by where it happens, not by the message.
  const opener: NativeStreamOpener = async () => {
    try {
      return await dialNode();
    } catch (e) {
      throw new ServiceNotReached(e);
    }
  };
  // One TLS connection per forward: standby connections spare the
  // handshakes (QUIC and iroh open a stream on one connection anyway).
  if (options.scheme === "tls") pool = standbyPool(opener, tokenNow);
  let unavailable = false;
  return {
    async open(host, port) {
      if (unavailable) return null;
      try {
        if (pool) return await pool.open(tokenNow(), host, port);
        return await openNativeTcp(opener, tokenNow(), host, port);
      } catch (e) {
        const notOffered = e instanceof ServiceNotReached || e instanceof NotNativeServiceError ||
          !(e instanceof NativeTcpError);
        if (options.mode === "auto" && notOffered) {
          unavailable = true;
          options.logger?.event("data-path fallback", {
            to: "ssh",
            reason: "the node does not offer alknet/tcp",
          });
          return null;
        }
        throw e instanceof ServiceNotReached ? e.cause : e;
      }
    },
    close() {
      seed.fill(0);
      pool?.close();
      closeOpener();
    },
  };
}
