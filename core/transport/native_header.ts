/**
 * The wire format of the native data path (ALPN `alknet/tcp`): one
 * forwarded TCP connection per QUIC/iroh stream or per TLS connection,
 * without SSH in between. This module is the pure codec; the server handler
 * and the client openers live in `@alknet/core/ssh`. The format is written
 * down in `docs/reference/wire-formats.md`.
 *
 * Header (client → server), all integers big-endian:
 *
 * | field        | size            | value                                        |
 * |--------------|-----------------|----------------------------------------------|
 * | version      | 1               | `0x01`                                       |
 * | token length | 2               | 1..1024                                      |
 * | token        | token length    | ASCII: a signed token or an `alk_` API key   |
 * | host length  | 1               | 1..255                                       |
 * | host         | host length     | UTF-8 host name or IP literal (no brackets)  |
 * | port         | 2               | 1..65535                                     |
 *
 * Status (server → client), one byte: `0` ok, `1` forbidden (bad token or
 * policy), `2` unreachable, `3` refused, `4` malformed, `5` timeout. On any
 * non-zero status the server closes the stream.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
import { ALPN_TCP } from "./alpn.ts";

/**
 * The ALPN of the native data path (the same string as `ALPN_TCP`).
 *
 * @example
 * ```ts
 * import { NATIVE_TCP_ALPN } from "@alknet/core/transport";
 * console.log(NATIVE_TCP_ALPN); // "alknet/tcp"
 * ```
 */
export const NATIVE_TCP_ALPN: typeof ALPN_TCP = ALPN_TCP;

/**
 * Header version byte.
 *
 * @example
 * ```ts
 * import { NATIVE_TCP_VERSION } from "@alknet/core/transport";
 * console.log(NATIVE_TCP_VERSION); // 1
 * ```
 */
export const NATIVE_TCP_VERSION = 1;

/**
 * Longest token accepted in a header, in bytes.
 *
 * @example
 * ```ts
 * import { NATIVE_TCP_MAX_TOKEN } from "@alknet/core/transport";
 * console.log(NATIVE_TCP_MAX_TOKEN); // 1024
 * ```
 */
export const NATIVE_TCP_MAX_TOKEN = 1024;

/**
 * Longest possible header, in bytes (version, lengths, the longest token
 * and host, port).
 *
 * @example
 * ```ts
 * import { NATIVE_TCP_MAX_HEADER } from "@alknet/core/transport";
 * console.log(NATIVE_TCP_MAX_HEADER); // 1285
 * ```
 */
export const NATIVE_TCP_MAX_HEADER: number = 1 + 2 + NATIVE_TCP_MAX_TOKEN + 1 + 255 + 2;

/**
 * Status bytes of the native data path.
 *
 * @example
 * ```ts
 * import { NativeTcpStatus } from "@alknet/core/transport";
 * console.log(NativeTcpStatus.FORBIDDEN); // 1
 * ```
 */
export const NativeTcpStatus = {
  OK: 0,
  FORBIDDEN: 1,
  UNREACHABLE: 2,
  REFUSED: 3,
  MALFORMED: 4,
  TIMEOUT: 5,
} as const;

/**
 * A status name (every status but `ok`).
 *
 * @example
 * ```ts
 * import type { NativeTcpStatusName } from "@alknet/core/transport";
 * const s: NativeTcpStatusName = "refused";
 * console.log(s);
 * ```
 */
export type NativeTcpStatusName = "forbidden" | "unreachable" | "refused" | "malformed" | "timeout";

const STATUS_NAMES: Readonly<Record<number, NativeTcpStatusName>> = {
  [NativeTcpStatus.FORBIDDEN]: "forbidden",
  [NativeTcpStatus.UNREACHABLE]: "unreachable",
  [NativeTcpStatus.REFUSED]: "refused",
  [NativeTcpStatus.MALFORMED]: "malformed",
  [NativeTcpStatus.TIMEOUT]: "timeout",
};

const STATUS_BYTES: Readonly<Record<NativeTcpStatusName, number>> = {
  forbidden: NativeTcpStatus.FORBIDDEN,
  unreachable: NativeTcpStatus.UNREACHABLE,
  refused: NativeTcpStatus.REFUSED,
  malformed: NativeTcpStatus.MALFORMED,
  timeout: NativeTcpStatus.TIMEOUT,
};

/**
 * The name of a non-zero status byte (`malformed` for a byte the protocol
 * does not define), or `null` for `0` (ok).
 *
 * @example
 * ```ts
 * import { nativeTcpStatusName } from "@alknet/core/transport";
 * console.log(nativeTcpStatusName(3), nativeTcpStatusName(0), nativeTcpStatusName(99)); // refused null malformed
 * ```
 */
export function nativeTcpStatusName(byte: number): NativeTcpStatusName | null {
  if (byte === NativeTcpStatus.OK) return null;
  return STATUS_NAMES[byte] ?? "malformed";
}

/**
 * The status byte of a status name.
 *
 * @example
 * ```ts
 * import { nativeTcpStatusByte } from "@alknet/core/transport";
 * console.log(nativeTcpStatusByte("timeout")); // 5
 * ```
 */
export function nativeTcpStatusByte(name: NativeTcpStatusName): number {
  return STATUS_BYTES[name];
}

/**
 * The server refused a native forward, or a header was bad (code
 * `native-path`; `status` says why).
 *
 * @example
 * ```ts
 * import { NativeTcpError } from "@alknet/core/transport";
 * const e = new NativeTcpError("forbidden");
 * console.log(e.code, e.status, e.message); // "native-path" "forbidden" "alknet/tcp: forbidden"
 * ```
 */
export class NativeTcpError extends CoreError {
  /** Why. */
  readonly status: NativeTcpStatusName;
  /** Creates the error. */
  constructor(status: NativeTcpStatusName, detail?: string) {
    super("native-path", `alknet/tcp: ${status}${detail ? ` (${detail})` : ""}`);
    this.name = "NativeTcpError";
    this.status = status;
  }
}

/**
 * A parsed header.
 *
 * @example
 * ```ts
 * import { encodeNativeTcpHeader, type NativeTcpHeader } from "@alknet/core/transport";
 * const h: NativeTcpHeader = { token: "t", host: "db.internal", port: 5432 };
 * console.log(encodeNativeTcpHeader(h)[0]); // 1
 * ```
 */
export interface NativeTcpHeader {
  /** The token text. */
  token: string;
  /** Target host. */
  host: string;
  /** Target port. */
  port: number;
}

// Control characters and space; hosts also exclude '/'.
const BAD_TOKEN = /[\0-\x20\x7f]/;
const BAD_HOST = /[\0-\x20\x7f/]/;

/**
 * Encodes a header. The same checks as {@link decodeNativeTcpHeader} apply,
 * so what encodes also decodes.
 *
 * @throws {NativeTcpError} (`malformed`) when a field is out of range
 * @example
 * ```ts
 * import { encodeNativeTcpHeader } from "@alknet/core/transport";
 * console.log(encodeNativeTcpHeader({ token: "t", host: "db", port: 5432 }).length); // 9
 * ```
 */
export function encodeNativeTcpHeader(h: NativeTcpHeader): Uint8Array {
  const token = new TextEncoder().encode(h.token);
  const host = new TextEncoder().encode(h.host);
  if (token.length < 1 || token.length > NATIVE_TCP_MAX_TOKEN) {
    throw new NativeTcpError("malformed", `token must be 1..${NATIVE_TCP_MAX_TOKEN} bytes`);
  }
  if (host.length < 1 || host.length > 255) {
    throw new NativeTcpError("malformed", "host must be 1..255 bytes");
  }
  if (!Number.isInteger(h.port) || h.port < 1 || h.port > 65535) {
    throw new NativeTcpError("malformed", "port must be 1..65535");
  }
  if (BAD_TOKEN.test(h.token)) throw new NativeTcpError("malformed", "bad token characters");
  if (BAD_HOST.test(h.host)) throw new NativeTcpError("malformed", "bad host characters");
  const out = new Uint8Array(1 + 2 + token.length + 1 + host.length + 2);
  const dv = new DataView(out.buffer);
  out[0] = NATIVE_TCP_VERSION;
  dv.setUint16(1, token.length);
  out.set(token, 3);
  out[3 + token.length] = host.length;
  out.set(host, 4 + token.length);
  dv.setUint16(4 + token.length + host.length, h.port);
  return out;
}

/**
 * Tries to decode a header from the start of `buf`: the header and the
 * number of bytes it used, `null` when more bytes are needed.
 *
 * @throws {NativeTcpError} (`malformed`) on a bad version, length, port or character
 * @example
 * ```ts
 * import { decodeNativeTcpHeader, encodeNativeTcpHeader } from "@alknet/core/transport";
 * const bytes = encodeNativeTcpHeader({ token: "t", host: "db", port: 5432 });
 * console.log(decodeNativeTcpHeader(bytes)?.header.port); // 5432
 * console.log(decodeNativeTcpHeader(bytes.subarray(0, 4))); // null
 * ```
 */
export function decodeNativeTcpHeader(
  buf: Uint8Array,
): { header: NativeTcpHeader; used: number } | null {
  if (buf.length < 1) return null;
  if (buf[0] !== NATIVE_TCP_VERSION) {
    throw new NativeTcpError("malformed", `unsupported version ${buf[0]}`);
  }
  if (buf.length < 3) return null;
  const tokenLen = (buf[1] << 8) | buf[2];
  if (tokenLen < 1 || tokenLen > NATIVE_TCP_MAX_TOKEN) {
    throw new NativeTcpError("malformed", "bad token length");
  }
  if (buf.length < 4 + tokenLen) return null;
  const hostLen = buf[3 + tokenLen];
  if (hostLen < 1) throw new NativeTcpError("malformed", "empty host");
  const end = 4 + tokenLen + hostLen + 2;
  if (buf.length < end) return null;
  const port = (buf[end - 2] << 8) | buf[end - 1];
  if (port < 1) throw new NativeTcpError("malformed", "port 0");
  let token: string;
  let host: string;
  try {
    const dec = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    token = dec.decode(buf.subarray(3, 3 + tokenLen));
    host = dec.decode(buf.subarray(4 + tokenLen, 4 + tokenLen + hostLen));
  } catch {
    throw new NativeTcpError("malformed", "token or host is not UTF-8");
  }
  if (BAD_TOKEN.test(token)) throw new NativeTcpError("malformed", "bad token characters");
  if (BAD_HOST.test(host)) throw new NativeTcpError("malformed", "bad host characters");
  return { header: { token, host, port }, used: end };
}
