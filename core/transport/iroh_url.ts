/**
 * `iroh://` URLs:
 *
 * - dial: `iroh://NODEID` (found through iroh's relays and discovery), or
 *   `iroh://NODEID@HOST:PORT` (a direct address; relays and discovery are
 *   still used unless `?relay=off`);
 * - listen: `iroh://` (every interface, ephemeral UDP port) or
 *   `iroh://HOST:PORT` (bind address);
 * - `?relay=off` on either: no relay servers and no discovery (iroh's
 *   minimal preset), so only direct addresses work: LANs, loopback, tests.
 *
 * NODEID is the endpoint's public key as iroh prints it (hex or base32).
 *
 * @module
 */

import { TransportUrlError } from "./errors.ts";
import { ForwardSpecError, parseHostPort } from "./hostport.ts";

/**
 * A parsed `iroh://` URL.
 *
 * @example
 * ```ts
 * import type { IrohUrl } from "@alknet/core/transport";
 * const u: IrohUrl = { nodeId: "ab".repeat(32), host: "127.0.0.1", port: 4433, relay: false };
 * console.log(u.relay); // false
 * ```
 */
export interface IrohUrl {
  /** The peer's node id (dial); absent on a listen URL. */
  nodeId?: string;
  /** Direct address (dial) or bind address (listen). */
  host?: string;
  /** Port of `host`. */
  port?: number;
  /** Use iroh's relays and discovery (default true; `?relay=off` clears it). */
  relay: boolean;
}

const NODE_ID_RE = /^[0-9a-zA-Z]{52,64}$/;
const RELAY_VALUES = new Set(["off", "on", "false", "true", "0", "1"]);

/**
 * Parses `iroh://[NODEID][@][HOST:PORT][?relay=off]`.
 *
 * @throws {TransportUrlError} for a malformed URL
 * @example
 * ```ts
 * import { parseIrohUrl } from "@alknet/core/transport";
 * const id = "ab".repeat(32);
 * console.log(parseIrohUrl(`iroh://${id}@127.0.0.1:4433?relay=off`).port); // 4433
 * console.log(parseIrohUrl("iroh://").relay); // true
 * ```
 */
export function parseIrohUrl(text: string): IrohUrl {
  const m = /^iroh:\/\/([^/?]*)\/?(?:\?(.*))?$/i.exec(text);
  if (!m) throw new TransportUrlError(text, "not an iroh:// URL");
  const out: IrohUrl = { relay: true };
  for (const part of (m[2] ?? "").split("&").filter((p) => p !== "")) {
    const [k, v = ""] = part.split("=", 2);
    if (k !== "relay" || !RELAY_VALUES.has(v)) {
      throw new TransportUrlError(text, `unknown option '${part}' (only relay=off or relay=on)`);
    }
    out.relay = v === "on" || v === "true" || v === "1";
  }
  let authority = m[1];
  const at = authority.indexOf("@");
  if (at >= 0) {
    out.nodeId = authority.slice(0, at);
    authority = authority.slice(at + 1);
    if (!NODE_ID_RE.test(out.nodeId)) throw new TransportUrlError(text, "malformed node id");
    if (authority === "") throw new TransportUrlError(text, "address missing after '@'");
  } else if (NODE_ID_RE.test(authority)) {
    out.nodeId = authority;
    authority = "";
  }
  if (authority !== "") {
    try {
      const hp = parseHostPort(authority);
      out.host = hp.host;
      out.port = hp.port;
    } catch (e) {
      if (e instanceof ForwardSpecError) throw new TransportUrlError(text, e.message);
      throw e;
    }
  }
  return out;
}
