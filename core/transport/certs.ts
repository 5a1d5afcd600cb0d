/**
 * TLS certificates for endpoints: PEM files, a self-signed certificate kept
 * in the data directory, and the `SHA256:` fingerprint clients pin.
 *
 * Fingerprint format: `SHA256:` followed by the lowercase hex SHA-256 of the
 * DER encoding of the leaf certificate (the first `CERTIFICATE` block of the
 * PEM). It is the same value as
 * `openssl x509 -noout -fingerprint -sha256` with the colons removed and the
 * letters lowercased.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { CertificateFileError } from "./errors.ts";
import { fromBase64, toBase64, toHex } from "../util/bytes.ts";

/**
 * A certificate chain and its private key, both PEM, with the leaf's fingerprint.
 *
 * @example
 * ```ts
 * import type { CertifiedKey } from "@alknet/core/transport";
 * const show = (ck: CertifiedKey) => console.log(ck.fingerprint);
 * console.log(typeof show); // "function"
 * ```
 */
export interface CertifiedKey {
  /** Certificate chain, PEM (leaf first). */
  cert: string;
  /** Private key, PEM. */
  key: string;
  /** `SHA256:<hex>` of the leaf certificate's DER. */
  fingerprint: string;
}

const CERT_RE = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/;
const KEY_RE = /-----BEGIN (?:EC |RSA |ENCRYPTED )?PRIVATE KEY-----/;

/**
 * The DER bytes of the first certificate in a PEM text.
 *
 * @throws {CertificateFileError} when there is no certificate block
 * @example
 * ```ts
 * import { pemToDer } from "@alknet/core/transport";
 * try { pemToDer("not a cert"); } catch (e) { console.log((e as Error).name); } // CertificateFileError
 * ```
 */
export function pemToDer(pem: string, source = "inline"): Uint8Array {
  const m = CERT_RE.exec(pem);
  if (!m) throw new CertificateFileError(source, "no CERTIFICATE block in PEM");
  const der = fromBase64(m[1].replace(/\s+/g, ""));
  if (!der) throw new CertificateFileError(source, "CERTIFICATE block is not valid base64");
  return der;
}

/**
 * Wraps DER certificate bytes as PEM.
 *
 * @example
 * ```ts
 * import { derToPem } from "@alknet/core/transport";
 * console.log(derToPem(new Uint8Array([48, 0])).startsWith("-----BEGIN CERTIFICATE-----")); // true
 * ```
 */
export function derToPem(der: Uint8Array): string {
  const b64 = toBase64(der);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/**
 * `SHA256:` + lowercase hex SHA-256 of DER certificate bytes.
 *
 * @example
 * ```ts
 * import { derFingerprint } from "@alknet/core/transport";
 * console.log(derFingerprint(new Uint8Array(0)).slice(0, 15)); // SHA256:e3b0c442
 * ```
 */
export function derFingerprint(der: Uint8Array): string {
  return `SHA256:${toHex(sha256(der))}`;
}

/**
 * The `SHA256:` fingerprint of the leaf (first) certificate of a PEM chain.
 *
 * @throws {CertificateFileError} when there is no certificate block
 * @example
 * ```ts
 * import { certificateFingerprint } from "@alknet/core/transport";
 * // const fp = certificateFingerprint(await Deno.readTextFile("cert.pem"));
 * console.log(typeof certificateFingerprint); // "function"
 * ```
 */
export function certificateFingerprint(pem: string): string {
  return derFingerprint(pemToDer(pem));
}

/**
 * Normalises a fingerprint a user typed: `SHA256:` prefix (any case), hex
 * with or without colons, any case. Returns the canonical form or throws.
 *
 * @throws {CertificateFileError} when it is not 32 bytes of hex
 * @example
 * ```ts
 * import { normalizeFingerprint } from "@alknet/core/transport";
 * console.log(normalizeFingerprint("sha256:" + "AB:".repeat(31) + "AB").length); // 71
 * ```
 */
export function normalizeFingerprint(text: string): string {
  const hex = text.replace(/^sha256:/i, "").replace(/:/g, "").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new CertificateFileError(
      "fingerprint",
      `'${text}' is not SHA256: followed by 64 hex digits`,
    );
  }
  return `SHA256:${hex}`;
}

/**
 * Checks a PEM certificate chain and private key pair (shape only; the TLS
 * stack checks that they belong together when it starts).
 *
 * @throws {CertificateFileError} naming what is missing
 * @example
 * ```ts
 * import { certifiedKey } from "@alknet/core/transport";
 * try { certifiedKey("x", "y"); } catch (e) { console.log((e as Error).message); }
 * ```
 */
export function certifiedKey(cert: string, key: string, source = "inline"): CertifiedKey {
  const fingerprint = derFingerprint(pemToDer(cert, source));
  if (!KEY_RE.test(key)) throw new CertificateFileError(source, "no PRIVATE KEY block in key PEM");
  if (/ENCRYPTED PRIVATE KEY/.test(key)) {
    throw new CertificateFileError(source, "the private key is encrypted; give an unencrypted key");
  }
  return { cert, key, fingerprint };
}

/**
 * Loads a PEM certificate chain and key from files.
 *
 * @throws {CertificateFileError} when a file cannot be read or is not PEM
 * @example
 * ```ts
 * import { loadCertificate } from "@alknet/core/transport";
 * const ck = await loadCertificate("cert.pem", "key.pem").catch((e) => e.message);
 * console.log(ck);
 * ```
 */
export async function loadCertificate(certFile: string, keyFile: string): Promise<CertifiedKey> {
  const read = async (path: string) => {
    try {
      return await Deno.readTextFile(path);
    } catch (e) {
      throw new CertificateFileError(path, `cannot read: ${(e as Error).message}`);
    }
  };
  const cert = await read(certFile);
  const key = await read(keyFile);
  certifiedKey(cert, "-----BEGIN PRIVATE KEY-----", certFile);
  return certifiedKey(cert, key, keyFile);
}

/**
 * Options of {@link selfSignedCertificate}.
 *
 * @example
 * ```ts
 * import type { SelfSignedOptions } from "@alknet/core/transport";
 * const o: SelfSignedOptions = { names: ["vpn.example.com", "203.0.113.7"], days: 825 };
 * console.log(o.names?.length); // 2
 * ```
 */
export interface SelfSignedOptions {
  /** DNS names and IP literals for subjectAltName (default `localhost`, `127.0.0.1`, `::1`). */
  names?: string[];
  /** Validity in days (default 3650). */
  days?: number;
  /** The `openssl` binary (default `openssl` on PATH). */
  openssl?: string;
}

/**
 * File names of the self-signed certificate inside the data directory.
 *
 * @example
 * ```ts
 * import { SELF_SIGNED_FILES } from "@alknet/core/transport";
 * console.log(SELF_SIGNED_FILES.cert); // "tls-selfsigned.crt"
 * ```
 */
export const SELF_SIGNED_FILES = { cert: "tls-selfsigned.crt", key: "tls-selfsigned.key" } as const;

const IP_RE = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/;

/**
 * Returns the node's self-signed certificate, creating it on first use in
 * `dataDir` (`tls-selfsigned.crt`, `tls-selfsigned.key`, mode 0600): an
 * ECDSA P-256 leaf with `basicConstraints=critical,CA:FALSE` (QUIC needs
 * that), `extendedKeyUsage=serverAuth`, subjectAltName from `names`, and a
 * neutral subject (CN = the first name). Generated with `openssl`. Clients
 * pin the returned `fingerprint`.
 *
 * @throws {CertificateFileError} when openssl fails or the files are unusable
 * @example
 * ```ts
 * import { selfSignedCertificate } from "@alknet/core/transport";
 * const dir = await Deno.makeTempDir();
 * const ck = await selfSignedCertificate(dir).catch((e) => e.message);
 * console.log(typeof ck === "string" ? ck : ck.fingerprint);
 * ```
 */
export async function selfSignedCertificate(
  dataDir: string,
  options: SelfSignedOptions = {},
): Promise<CertifiedKey> {
  const certPath = `${dataDir}/${SELF_SIGNED_FILES.cert}`;
  const keyPath = `${dataDir}/${SELF_SIGNED_FILES.key}`;
  const exists = await Deno.stat(certPath).then(() => true, () => false);
  if (exists) return await loadCertificate(certPath, keyPath);
  await Deno.mkdir(dataDir, { recursive: true });
  const names = options.names && options.names.length > 0
    ? options.names
    : ["localhost", "127.0.0.1", "::1"];
  for (const n of names) {
    if (!/^[A-Za-z0-9.:*-]+$/.test(n)) {
      throw new CertificateFileError(certPath, `name '${n}' is not a host name or IP literal`);
    }
  }
  const san = names.map((n) => IP_RE.test(n) ? `IP:${n}` : `DNS:${n}`).join(",");
  const cn = names.find((n) => !IP_RE.test(n)) ?? names[0];
  const tmpKey = `${keyPath}.tmp-${crypto.randomUUID()}`;
  const tmpCert = `${certPath}.tmp-${crypto.randomUUID()}`;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(options.openssl ?? "openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-sha256",
        "-days",
        String(options.days ?? 3650),
        "-subj",
        `/CN=${cn}`,
        "-keyout",
        tmpKey,
        "-out",
        tmpCert,
        "-addext",
        `subjectAltName=${san}`,
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "keyUsage=critical,digitalSignature",
        "-addext",
        "extendedKeyUsage=serverAuth",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    throw new CertificateFileError(
      certPath,
      `cannot run openssl to create a self-signed certificate (${
        (e as Error).message
      }); install openssl or give tls.cert and tls.key`,
    );
  }
  if (!out.success) {
    await Deno.remove(tmpKey).catch(() => {});
    await Deno.remove(tmpCert).catch(() => {});
    throw new CertificateFileError(
      certPath,
      `openssl failed: ${new TextDecoder().decode(out.stderr).trim().split("\n").pop()}`,
    );
  }
  await Deno.chmod(tmpKey, 0o600);
  await Deno.rename(tmpKey, keyPath);
  await Deno.rename(tmpCert, certPath);
  return await loadCertificate(certPath, keyPath);
}
