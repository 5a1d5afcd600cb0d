/**
 * The stealth listener's first look at a connection, before any TLS: the
 * first byte tells a TLS ClientHello from plain HTTP (nginx's rule: `0x16`,
 * or the SSLv2 high bit, is TLS), and the ClientHello is read and judged the
 * way nginx 1.22 with OpenSSL 3 would judge it (TLS 1.2–1.3, AEAD suites),
 * so that the refusals a prober provokes carry nginx's alerts: 70
 * protocol_version for TLS 1.0/1.1, 40 handshake_failure for no shared
 * suite, group or signature scheme, 120 no_application_protocol for
 * unknown ALPNs, 50 decode_error, 10 unexpected_message, 22
 * record_overflow. (Deno's TLS drops its own alerts on the floor, so a
 * ClientHello it would refuse must never reach it.)
 *
 * @module
 */

import { createPrivateKey } from "node:crypto";

/**
 * What a ClientHello offers (GREASE values removed).
 *
 * @example
 * ```ts
 * import type { ClientHelloInfo } from "@alknet/core/transport";
 * const h: ClientHelloInfo = { legacyVersion: 0x0303, versions: [0x0304], ciphers: [0x1301], groups: [0x1d], sigalgs: [0x0403] };
 * console.log(h.versions);
 * ```
 */
export interface ClientHelloInfo {
  /** `legacy_version` of the ClientHello. */
  legacyVersion: number;
  /** `supported_versions`, when sent. */
  versions?: number[];
  /** Cipher suites. */
  ciphers: number[];
  /** `supported_groups`, when sent. */
  groups?: number[];
  /** `signature_algorithms`, when sent. */
  sigalgs?: number[];
  /** ALPN protocol names, when sent. */
  alpn?: string[];
  /** SNI host name, when sent. */
  serverName?: string;
}

/**
 * Where reading a ClientHello stands: more bytes needed, a verdict to send
 * as an alert (or a silent close, alert `null`), or the parsed hello.
 *
 * @example
 * ```ts
 * import { type HelloScan, scanClientHello } from "@alknet/core/transport";
 * const s: HelloScan = scanClientHello(new Uint8Array([0x16, 0x03, 0x01]));
 * console.log(s.kind); // "more"
 * ```
 */
export type HelloScan =
  | { kind: "more" }
  | { kind: "refuse"; alert: number | null; recordVersion: number }
  | { kind: "hello"; hello: ClientHelloInfo };

const MAX_RECORD = 16384 + 2048;
const MAX_HELLO = 64 * 1024;

const isGrease = (v: number) => (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);

/**
 * Reads the TLS records at the start of `bytes` up to a whole ClientHello
 * (it may span records) and parses it, as OpenSSL 3's record and handshake
 * layers would: a bad record version closes silently, an oversized record
 * is `record_overflow`, another handshake message `unexpected_message`, a
 * malformed hello `decode_error`.
 *
 * @example
 * ```ts
 * import { scanClientHello } from "@alknet/core/transport";
 * const s = scanClientHello(new Uint8Array([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]));
 * console.log(s.kind === "refuse" && s.alert); // 10
 * ```
 */
export function scanClientHello(bytes: Uint8Array): HelloScan {
  const hs: number[] = [];
  let p = 0;
  while (true) {
    if (bytes.length - p < 5) return { kind: "more" };
    if (bytes[p] !== 0x16) return { kind: "refuse", alert: 10, recordVersion: 0x0303 };
    if (bytes[p + 1] !== 0x03) return { kind: "refuse", alert: null, recordVersion: 0x0303 };
    const len = (bytes[p + 3] << 8) | bytes[p + 4];
    if (len > MAX_RECORD) return { kind: "refuse", alert: 22, recordVersion: 0x0303 };
    if (bytes.length - p - 5 < len) return { kind: "more" };
    for (let i = 0; i < len; i++) hs.push(bytes[p + 5 + i]);
    p += 5 + len;
    if (hs.length >= 4) {
      if (hs[0] !== 1) return { kind: "refuse", alert: 10, recordVersion: 0x0303 };
      const need = (hs[1] << 16) | (hs[2] << 8) | hs[3];
      if (need > MAX_HELLO) return { kind: "refuse", alert: 47, recordVersion: 0x0303 };
      if (hs.length >= 4 + need) {
        const hello = parseHelloBody(new Uint8Array(hs.slice(4, 4 + need)));
        return hello
          ? { kind: "hello", hello }
          : { kind: "refuse", alert: 50, recordVersion: 0x0303 };
      }
    }
  }
}

/** Parses a ClientHello body; `null` when malformed. */
function parseHelloBody(b: Uint8Array): ClientHelloInfo | null {
  let p = 0;
  const u8 = () => (p < b.length ? b[p++] : -1);
  const u16 = () => {
    if (p + 2 > b.length) return -1;
    const v = (b[p] << 8) | b[p + 1];
    p += 2;
    return v;
  };
  const legacyVersion = u16();
  if (legacyVersion < 0 || p + 32 > b.length) return null;
  p += 32;
  const sid = u8();
  if (sid < 0 || sid > 32 || p + sid > b.length) return null;
  p += sid;
  const cl = u16();
  if (cl < 2 || cl % 2 !== 0 || p + cl > b.length) return null;
  const ciphers: number[] = [];
  for (let i = 0; i < cl; i += 2) ciphers.push((b[p + i] << 8) | b[p + i + 1]);
  p += cl;
  const comp = u8();
  if (comp < 1 || p + comp > b.length) return null;
  p += comp;
  const info: ClientHelloInfo = { legacyVersion, ciphers: ciphers.filter((c) => !isGrease(c)) };
  if (p === b.length) return info;
  const extLen = u16();
  if (extLen < 0 || p + extLen !== b.length) return null;
  const seen = new Set<number>();
  while (p < b.length) {
    const type = u16();
    const len = u16();
    if (type < 0 || len < 0 || p + len > b.length) return null;
    if (seen.has(type)) return null;
    seen.add(type);
    const data = b.subarray(p, p + len);
    p += len;
    if (!readExtension(type, data, info)) return null;
  }
  return info;
}

function list16(data: Uint8Array, lenBytes: 1 | 2): number[] | null {
  const n = lenBytes === 1 ? data[0] : (data[0] << 8) | data[1];
  if (data.length < lenBytes || n !== data.length - lenBytes || n % 2 !== 0 || n === 0) return null;
  const out: number[] = [];
  for (let i = lenBytes; i < data.length; i += 2) {
    const v = (data[i] << 8) | data[i + 1];
    if (!isGrease(v)) out.push(v);
  }
  return out;
}

function readExtension(type: number, data: Uint8Array, info: ClientHelloInfo): boolean {
  switch (type) {
    case 0: { // server_name
      if (data.length === 0) return true;
      if (data.length < 5 || ((data[0] << 8) | data[1]) !== data.length - 2) return false;
      const n = (data[3] << 8) | data[4];
      if (data[2] !== 0 || 5 + n > data.length) return false;
      info.serverName = new TextDecoder().decode(data.subarray(5, 5 + n));
      return true;
    }
    case 10: // supported_groups
      return (info.groups = list16(data, 2) ?? undefined) !== undefined;
    case 13: // signature_algorithms
      return (info.sigalgs = list16(data, 2) ?? undefined) !== undefined;
    case 43: // supported_versions
      return (info.versions = list16(data, 1) ?? undefined) !== undefined;
    case 16: { // application_layer_protocol_negotiation
      if (data.length < 2 || ((data[0] << 8) | data[1]) !== data.length - 2) return false;
      const names: string[] = [];
      for (let i = 2; i < data.length;) {
        const n = data[i];
        if (n === 0 || i + 1 + n > data.length) return false;
        names.push(String.fromCharCode(...data.subarray(i + 1, i + 1 + n)));
        i += 1 + n;
      }
      if (names.length === 0) return false;
      info.alpn = names;
      return true;
    }
  }
  return true;
}

/**
 * What the server can do: the key type of its certificate and the ALPNs it
 * offers. {@link serverKeyKind} reads the key type from a PEM key.
 *
 * @example
 * ```ts
 * import type { HelloPolicy } from "@alknet/core/transport";
 * const p: HelloPolicy = { key: "ec-p256", alpn: ["http/1.1"] };
 * console.log(p.key);
 * ```
 */
export interface HelloPolicy {
  /** The certificate key: `ec-p256`, `ec-p384`, `rsa` or `ed25519`. */
  key: "ec-p256" | "ec-p384" | "rsa" | "ed25519";
  /** The ALPNs the server offers. */
  alpn: readonly string[];
}

/**
 * The key type of a PEM private key, for {@link HelloPolicy}.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from "node:crypto";
 * import { serverKeyKind } from "@alknet/core/transport";
 * const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
 * console.log(serverKeyKind(privateKey.export({ type: "pkcs8", format: "pem" }) as string)); // "ec-p256"
 * ```
 */
export function serverKeyKind(pem: string): HelloPolicy["key"] {
  const k = createPrivateKey(pem);
  if (k.asymmetricKeyType === "rsa" || k.asymmetricKeyType === "rsa-pss") return "rsa";
  if (k.asymmetricKeyType === "ed25519") return "ed25519";
  const curve = k.asymmetricKeyDetails?.namedCurve;
  return curve === "secp384r1" || curve === "P-384" ? "ec-p384" : "ec-p256";
}

const TLS13_SUITES = [0x1301, 0x1302, 0x1303];
const TLS12_SUITES: Record<HelloPolicy["key"], number[]> = {
  "ec-p256": [0xc02b, 0xc02c, 0xcca9],
  "ec-p384": [0xc02b, 0xc02c, 0xcca9],
  ed25519: [0xc02b, 0xc02c, 0xcca9],
  rsa: [0xc02f, 0xc030, 0xcca8],
};
const GROUPS = [0x001d, 0x0017, 0x0018];
const SIGALGS: Record<HelloPolicy["key"], { tls13: number[]; tls12: number[] }> = {
  "ec-p256": { tls13: [0x0403], tls12: [0x0403] },
  "ec-p384": { tls13: [0x0503], tls12: [0x0503] },
  ed25519: { tls13: [0x0807], tls12: [0x0807] },
  rsa: {
    tls13: [0x0804, 0x0805, 0x0806],
    tls12: [0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601],
  },
};

const shares = (a: readonly number[] | undefined, b: readonly number[]) =>
  a !== undefined && a.some((x) => b.includes(x));

/**
 * Judges a ClientHello as nginx 1.22 (TLS 1.2–1.3, AEAD ECDHE suites)
 * would, in OpenSSL's order: version, then suites, groups and signature
 * schemes, then ALPN. `null` means go ahead with the handshake; otherwise
 * the alert to send and the record version to send it with.
 *
 * @example
 * ```ts
 * import { judgeClientHello } from "@alknet/core/transport";
 * const v = judgeClientHello({ legacyVersion: 0x0302, ciphers: [0xc02b] }, { key: "ec-p256", alpn: ["http/1.1"] });
 * console.log(v); // { alert: 70, recordVersion: 770 }
 * ```
 */
export function judgeClientHello(
  h: ClientHelloInfo,
  policy: HelloPolicy,
): { alert: number; recordVersion: number } | null {
  const fail = (alert: number, recordVersion = 0x0303) => ({ alert, recordVersion });
  let version: number;
  if (h.versions) {
    version = h.versions.includes(0x0304) ? 0x0304 : h.versions.includes(0x0303) ? 0x0303 : 0;
  } else version = h.legacyVersion >= 0x0303 ? 0x0303 : 0;
  if (version === 0) {
    // OpenSSL's answers: SSL 3.0 gets handshake_failure, anything older or
    // TLS 1.0/1.1 protocol_version, in a record of the client's version.
    if (h.legacyVersion === 0x0300) return fail(40, 0x0300);
    return fail(70, Math.min(h.legacyVersion, 0x0303));
  }
  const tls13 = version === 0x0304;
  if (!shares(h.ciphers, tls13 ? TLS13_SUITES : TLS12_SUITES[policy.key])) return fail(40);
  if (!shares(h.groups, GROUPS)) return fail(40);
  const schemes = SIGALGS[policy.key];
  if (!shares(h.sigalgs, tls13 ? schemes.tls13 : schemes.tls12)) return fail(40);
  if (h.alpn && !h.alpn.some((a) => policy.alpn.includes(a))) return fail(120);
  return null;
}

/**
 * The bytes of a fatal alert record.
 *
 * @example
 * ```ts
 * import { alertRecord } from "@alknet/core/transport";
 * console.log([...alertRecord(120, 0x0303)]); // [ 21, 3, 3, 0, 2, 2, 120 ]
 * ```
 */
export function alertRecord(alert: number, recordVersion: number): Uint8Array {
  return new Uint8Array([0x15, recordVersion >> 8, recordVersion & 0xff, 0, 2, 2, alert]);
}
