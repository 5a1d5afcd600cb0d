/**
 * Certificate authentication against `cert-authority` lines (filled in by the
 * certificate step; until then certificates are refused).
 *
 * @module
 */

import type { SshAuthDecision } from "../identity.ts";
import type { AuthorizedKeyEntry } from "./authorized_keys.ts";

/** Whether `type` names an OpenSSH certificate (`*-cert-v01@openssh.com`). */
export function isCertificateType(type: string): boolean {
  return type.endsWith("-cert-v01@openssh.com");
}

/** Authorizes a certificate blob against the trusted CAs. */
export function authorizeCertificate(
  _algo: string,
  _blob: Uint8Array,
  _remoteAddress: string,
  _cas: readonly AuthorizedKeyEntry[],
  _nowMs: number,
): SshAuthDecision {
  return { ok: false, reason: "certificates are not supported yet" };
}
