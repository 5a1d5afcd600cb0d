/**
 * OpenSSH user certificates (`*-cert-v01@openssh.com`, PROTOCOL.certkeys):
 * parse the blob, verify the CA signature and check validity window,
 * principals and critical options.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
import { cidrContains, parseCidr } from "../transport/addr.ts";
import { parsePublicKeyBlob, PublicKeyError, readKeyBody, type SshPublicKey } from "./keys.ts";
import { SshReader, SshWireError, SshWriter } from "./ssh_wire.ts";
import { fingerprint as fingerprintOf } from "./ssh_keys.ts";

const CERT_SUFFIX = "-cert-v01@openssh.com";

/**
 * Certificate types (`ssh-ed25519-cert-v01@openssh.com`, ...) this module reads.
 *
 * @example
 * ```ts
 * import { SUPPORTED_CERT_TYPES } from "@alknet/core/auth";
 * console.log(SUPPORTED_CERT_TYPES.includes("ssh-ed25519-cert-v01@openssh.com")); // true
 * ```
 */
export const SUPPORTED_CERT_TYPES: readonly string[] = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
].map((t) => t + CERT_SUFFIX);

/**
 * OpenSSH certificate type code for user certificates.
 *
 * @example
 * ```ts
 * import { SSH_CERT_TYPE_HOST, SSH_CERT_TYPE_USER } from "@alknet/core/auth";
 * console.log(SSH_CERT_TYPE_USER, SSH_CERT_TYPE_HOST); // 1 2
 * ```
 */
export const SSH_CERT_TYPE_USER = 1;

/**
 * OpenSSH certificate type code for host certificates.
 *
 * @example
 * ```ts
 * import { SSH_CERT_TYPE_HOST } from "@alknet/core/auth";
 * console.log(SSH_CERT_TYPE_HOST); // 2
 * ```
 */
export const SSH_CERT_TYPE_HOST = 2;

/**
 * Thrown when a certificate blob cannot be parsed, or (by
 * {@link checkCertificate}) when it is not acceptable; `code` says why.
 *
 * @example
 * ```ts
 * import { CertificateError, parseCertificate } from "@alknet/core/auth";
 * try {
 *   parseCertificate(new Uint8Array(4));
 * } catch (e) {
 *   console.log(e instanceof CertificateError && e.code); // malformed
 * }
 * ```
 */
export class CertificateError extends CoreError {
  /** Which check failed (the error's `code` is `certificate`). */
  readonly reason: CertificateErrorCode;
  /** Creates the error. */
  constructor(reason: CertificateErrorCode, message: string) {
    super("certificate", message);
    this.name = "CertificateError";
    this.reason = reason;
  }
}

/**
 * Why a certificate was refused.
 *
 * @example
 * ```ts
 * import {
 *   CertificateError,
 *   type CertificateErrorCode,
 *   parseCertificate,
 * } from "@alknet/core/auth";
 * let reason: CertificateErrorCode | undefined;
 * try {
 *   parseCertificate(new Uint8Array(4));
 * } catch (e) {
 *   if (e instanceof CertificateError) reason = e.reason;
 * }
 * console.log(reason); // "malformed"
 * ```
 */
export type CertificateErrorCode =
  | "malformed"
  | "unsupported"
  | "bad-signature"
  | "not-user-cert"
  | "not-yet-valid"
  | "expired"
  | "principal"
  | "source-address"
  | "critical-option";

/**
 * A parsed OpenSSH certificate. Times are Unix seconds as bigint
 * (`0xffffffffffffffff` = forever).
 *
 * @example
 * ```ts
 * import type { SshCertificate } from "@alknet/core/auth";
 * function describe(c: SshCertificate): string {
 *   return `${c.keyId} for ${c.principals.join(",")} signed by ${c.caKey.fingerprint}`;
 * }
 * ```
 */
export interface SshCertificate {
  /** Certificate type name, e.g. `ssh-ed25519-cert-v01@openssh.com`. */
  type: string;
  /** The certified public key. */
  key: SshPublicKey;
  /** Serial number. */
  serial: bigint;
  /** 1 = user, 2 = host. */
  certType: number;
  /** Free-form key id chosen by the CA (logged). */
  keyId: string;
  /** Principals the certificate is valid for; empty means any. */
  principals: string[];
  /** Start of validity, Unix seconds. */
  validAfter: bigint;
  /** End of validity (exclusive), Unix seconds. */
  validBefore: bigint;
  /** Critical options by name (value decoded as a string, `""` for flags). */
  criticalOptions: Map<string, string>;
  /** Extensions by name (value decoded as a string, `""` for flags). */
  extensions: Map<string, string>;
  /** The CA public key. */
  caKey: SshPublicKey;
  /** The bytes the CA signed. */
  signedData: Uint8Array;
  /** The CA signature blob (`string algo, string sig`). */
  signature: Uint8Array;
}

function readOptions(blob: Uint8Array, what: string): Map<string, string> {
  const out = new Map<string, string>();
  const r = new SshReader(blob);
  let last = "";
  while (!r.atEnd()) {
    const name = r.readStringUtf8();
    if (out.has(name)) throw new CertificateError("malformed", `${what} '${name}' appears twice`);
    if (name < last) throw new CertificateError("malformed", `${what} are not sorted`);
    last = name;
    const data = r.readString();
    let value = "";
    if (data.length > 0) {
      const inner = new SshReader(data);
      value = inner.readStringUtf8();
      if (!inner.atEnd()) {
        throw new CertificateError("malformed", `${what} '${name}' has trailing data`);
      }
    }
    out.set(name, value);
  }
  return out;
}

/**
 * Parses a certificate blob (wire format). Does not verify anything.
 *
 * @throws {CertificateError} `malformed` or `unsupported`.
 * @example
 * ```ts
 * import { parseCertificate } from "@alknet/core/auth";
 * try {
 *   parseCertificate(new TextEncoder().encode("not a certificate"));
 * } catch (e) {
 *   console.log((e as Error).name); // CertificateError
 * }
 * ```
 */
export function parseCertificate(blob: Uint8Array): SshCertificate {
  try {
    const r = new SshReader(blob);
    const type = r.readStringUtf8();
    if (!type.endsWith(CERT_SUFFIX)) {
      throw new CertificateError("malformed", `'${type.slice(0, 60)}' is not a certificate type`);
    }
    if (!SUPPORTED_CERT_TYPES.includes(type)) {
      throw new CertificateError(
        "unsupported",
        `unsupported certificate type '${type.slice(0, 60)}'`,
      );
    }
    const plainType = type.slice(0, -CERT_SUFFIX.length);
    r.readString(); // nonce
    const keyStart = r.offset;
    readKeyBody(plainType, r);
    const keyFields = blob.subarray(keyStart, r.offset);
    const plainBlob = new SshWriter().writeString(plainType).writeBytes(keyFields).toBytes();
    const key = parsePublicKeyBlob(plainBlob);
    const serial = r.readUint64();
    const certType = r.readUint32();
    const keyId = r.readStringUtf8();
    const principalsBlob = new SshReader(r.readString());
    const principals: string[] = [];
    while (!principalsBlob.atEnd()) principals.push(principalsBlob.readStringUtf8());
    const validAfter = r.readUint64();
    const validBefore = r.readUint64();
    const criticalOptions = readOptions(r.readString(), "critical options");
    const extensions = readOptions(r.readString(), "extensions");
    r.readString(); // reserved
    const caBlob = r.readString();
    const caKey = parsePublicKeyBlob(caBlob);
    const signedEnd = r.offset;
    const signature = r.readString().slice();
    if (!r.atEnd()) throw new CertificateError("malformed", "trailing bytes after the signature");
    return {
      type,
      key,
      serial,
      certType,
      keyId,
      principals,
      validAfter,
      validBefore,
      criticalOptions,
      extensions,
      caKey,
      signedData: blob.slice(0, signedEnd),
      signature,
    };
  } catch (e) {
    if (e instanceof CertificateError) throw e;
    if (e instanceof SshWireError || e instanceof PublicKeyError) {
      throw new CertificateError("malformed", `malformed certificate: ${e.message}`);
    }
    throw new CertificateError("malformed", `malformed certificate: ${String(e)}`);
  }
}

/**
 * What {@link checkCertificate} checks a certificate against.
 *
 * @example
 * ```ts
 * import type { CertificateCheck } from "@alknet/core/auth";
 * const c: CertificateCheck = { nowSeconds: 1_800_000_000, remoteAddress: "127.0.0.1", principals: ["alice"] };
 * ```
 */
export interface CertificateCheck {
  /** Current Unix time in seconds. */
  nowSeconds: number;
  /** The client's IP address, for `source-address`. */
  remoteAddress: string;
  /**
   * Principals of which the certificate must list at least one. When
   * omitted, any principal will do (the certificate's list still must not
   * be empty unless `allowEmptyPrincipals`).
   */
  principals?: readonly string[];
  /** Accept a certificate that lists no principals (valid for anyone). Default true, as OpenSSH. */
  allowEmptyPrincipals?: boolean;
}

/**
 * What a valid user certificate permits.
 *
 * @example
 * ```ts
 * import type { CertificateGrant } from "@alknet/core/auth";
 * const g: CertificateGrant = { portForwarding: false, forceCommand: "/bin/true" };
 * ```
 */
export interface CertificateGrant {
  /** `permit-port-forwarding` present and no `force-command`. */
  portForwarding: boolean;
  /** The `force-command` critical option, when present (alknet runs no commands, so no tunnel). */
  forceCommand?: string;
}

const KNOWN_CRITICAL = new Set(["force-command", "source-address"]);

/**
 * Verifies the CA signature and checks the certificate: user type, validity
 * window, principals, critical options (`source-address` enforced,
 * `force-command` disables tunnels, any other critical option refuses).
 *
 * @throws {CertificateError} naming the failed check.
 * @example
 * ```ts
 * import { checkCertificate, parseCertificate } from "@alknet/core/auth";
 * export function accept(blob: Uint8Array): boolean {
 *   try {
 *     checkCertificate(parseCertificate(blob), { nowSeconds: Date.now() / 1000, remoteAddress: "127.0.0.1" });
 *     return true;
 *   } catch {
 *     return false;
 *   }
 * }
 * ```
 */
export function checkCertificate(cert: SshCertificate, check: CertificateCheck): CertificateGrant {
  if (!cert.caKey.verify(cert.signedData, cert.signature)) {
    throw new CertificateError(
      "bad-signature",
      `certificate '${cert.keyId}': CA signature does not verify`,
    );
  }
  if (cert.certType !== SSH_CERT_TYPE_USER) {
    throw new CertificateError(
      "not-user-cert",
      `certificate '${cert.keyId}' is not a user certificate`,
    );
  }
  const now = BigInt(Math.floor(check.nowSeconds));
  if (now < cert.validAfter) {
    throw new CertificateError("not-yet-valid", `certificate '${cert.keyId}' is not valid yet`);
  }
  if (now >= cert.validBefore) {
    throw new CertificateError("expired", `certificate '${cert.keyId}' has expired`);
  }
  if (cert.principals.length === 0) {
    if (check.allowEmptyPrincipals === false) {
      throw new CertificateError("principal", `certificate '${cert.keyId}' lists no principals`);
    }
  } else if (check.principals) {
    const wanted = new Set(check.principals);
    if (!cert.principals.some((p) => wanted.has(p))) {
      throw new CertificateError(
        "principal",
        `certificate '${cert.keyId}' principals [${
          cert.principals.join(",")
        }] do not include an allowed one`,
      );
    }
  }
  for (const name of cert.criticalOptions.keys()) {
    if (!KNOWN_CRITICAL.has(name)) {
      throw new CertificateError(
        "critical-option",
        `certificate '${cert.keyId}' has unsupported critical option '${name}'`,
      );
    }
  }
  const source = cert.criticalOptions.get("source-address");
  if (source !== undefined) {
    let ok = false;
    for (const raw of source.split(",")) {
      const item = raw.trim();
      try {
        const cidr = parseCidr(
          item.includes("/") ? item : `${item}/${item.includes(":") ? 128 : 32}`,
        );
        if (cidrContains(cidr, check.remoteAddress)) ok = true;
      } catch {
        throw new CertificateError(
          "source-address",
          `certificate '${cert.keyId}' has a bad source-address '${item}'`,
        );
      }
    }
    if (!ok) {
      throw new CertificateError(
        "source-address",
        `certificate '${cert.keyId}' source-address does not allow ${check.remoteAddress}`,
      );
    }
  }
  const forceCommand = cert.criticalOptions.get("force-command");
  const grant: CertificateGrant = {
    portForwarding: cert.extensions.has("permit-port-forwarding") && forceCommand === undefined,
  };
  if (forceCommand !== undefined) grant.forceCommand = forceCommand;
  return grant;
}

/**
 * The `SHA256:` fingerprint of the key a certificate certifies.
 *
 * @example
 * ```ts
 * import type { SshCertificate } from "@alknet/core/auth";
 * import { certifiedKeyFingerprint } from "@alknet/core/auth";
 * export const fp = (c: SshCertificate): string => certifiedKeyFingerprint(c);
 * ```
 */
export function certifiedKeyFingerprint(cert: SshCertificate): string {
  return fingerprintOf(cert.key.blob);
}
