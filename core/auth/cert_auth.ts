/**
 * Certificate authentication against `cert-authority` lines of
 * `authorized_keys`.
 *
 * @module
 */

import type { SshAuthDecision } from "./identity.ts";
import { type AuthorizedKeyEntry, matchFrom } from "./authorized_keys.ts";
import { CertificateError, checkCertificate, parseCertificate } from "./certificate.ts";
import { algoMatchesKeyType } from "./keys.ts";
import { fingerprint as fingerprintOf } from "./ssh_keys.ts";
import { timingSafeEqual } from "./ct.ts";

/**
 * Whether `type` names an OpenSSH certificate (`*-cert-v01@openssh.com`).
 *
 * @example
 * ```ts
 * import { isCertificateType } from "@alknet/core/auth";
 * console.log(isCertificateType("ssh-ed25519-cert-v01@openssh.com")); // true
 * ```
 */
export function isCertificateType(type: string): boolean {
  return type.endsWith("-cert-v01@openssh.com");
}

/** `rsa-sha2-512-cert-v01@openssh.com` → `rsa-sha2-512`, etc. */
function plainAlgo(algo: string): string {
  return isCertificateType(algo) ? algo.slice(0, -"-cert-v01@openssh.com".length) : algo;
}

/**
 * Authorizes a certificate blob against the `cert-authority` entries: the
 * CA must be listed, the line's `from=`/`expiry-time=` must allow the
 * client, the certificate must verify and be valid now, and name one of the
 * line's `principals=` (or, without `principals=`, the SSH user name, or no
 * principal at all, as OpenSSH does). Never throws.
 *
 * @example
 * ```ts
 * import { authorizeCertificate } from "@alknet/core/auth";
 * const d = authorizeCertificate("ssh-ed25519-cert-v01@openssh.com", new Uint8Array(8), "127.0.0.1", "me", [], Date.now());
 * console.log(d.ok); // false
 * ```
 */
export function authorizeCertificate(
  algo: string,
  blob: Uint8Array,
  remoteAddress: string,
  username: string,
  cas: readonly AuthorizedKeyEntry[],
  nowMs: number,
): SshAuthDecision {
  let cert;
  try {
    cert = parseCertificate(blob);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const fingerprint = fingerprintOf(cert.key.blob);
  if (!algoMatchesKeyType(plainAlgo(algo), cert.key.type) || !isCertificateType(algo)) {
    return {
      ok: false,
      reason: `algorithm '${algo}' does not fit certificate type '${cert.type}'`,
      fingerprint,
    };
  }
  let reason =
    `certificate '${cert.keyId}' is signed by CA ${cert.caKey.fingerprint}, which is not trusted`;
  for (const ca of cas) {
    if (!timingSafeEqual(ca.key.blob, cert.caKey.blob)) continue;
    if (ca.options.from && !matchFrom(ca.options.from, remoteAddress)) {
      reason = `from= does not allow ${remoteAddress} (${ca.source}:${ca.line})`;
      continue;
    }
    if (ca.options.expiresAt !== undefined && nowMs >= ca.options.expiresAt) {
      reason = `CA expired by expiry-time= (${ca.source}:${ca.line})`;
      continue;
    }
    let grant;
    try {
      grant = checkCertificate(cert, {
        nowSeconds: Math.floor(nowMs / 1000),
        remoteAddress,
        principals: ca.options.principals ?? [username],
      });
    } catch (e) {
      reason = e instanceof CertificateError ? e.message : String(e);
      continue;
    }
    const key = cert.key;
    const restrictions = {
      noPortForwarding: ca.options.noPortForwarding || !grant.portForwarding,
      ...(ca.options.permitOpen ? { permitOpen: [...ca.options.permitOpen] } : {}),
      ...(ca.options.permitListen ? { permitListen: [...ca.options.permitListen] } : {}),
    };
    return {
      ok: true,
      identity: { id: fingerprint, scopes: [...ca.options.scopes], resources: {} },
      fingerprint,
      method: "cert",
      restrictions,
      certKeyId: cert.keyId,
      verify: (data, signature, hashAlgo) => key.verify(data, signature, hashAlgo),
    };
  }
  return { ok: false, reason, fingerprint };
}
