/**
 * Renders an effective configuration as TOML with secrets redacted.
 *
 * @module
 */

import { stringify } from "smol-toml";
import type { AlknetConfig } from "./schema.ts";

/**
 * Placeholder printed instead of secret material.
 *
 * @example
 * ```ts
 * import { REDACTED } from "@alknet/core/config";
 * console.log(REDACTED); // "<redacted>"
 * ```
 */
export const REDACTED = "<redacted>";

/**
 * The configuration as a snake_case TOML document. API key hashes are
 * replaced by {@link REDACTED}; unset optional values are left out.
 *
 * @example
 * ```ts
 * import { defaultConfig, renderConfig } from "@alknet/core/config";
 * console.log(renderConfig(defaultConfig()).includes('log_format = "text"')); // true
 * ```
 */
export function renderConfig(config: AlknetConfig): string {
  const server: Record<string, unknown> = {
    listen: config.server.listen,
    log_format: config.server.logFormat,
    allow_remote_bind: config.server.allowRemoteBind,
  };
  if (config.server.hostKey) server.host_key = config.server.hostKey;
  if (config.server.stealth !== undefined) server.stealth = config.server.stealth;
  if (config.server.decoyDir) server.decoy_dir = config.server.decoyDir;
  if (config.server.decoyUpstream) server.decoy_upstream = config.server.decoyUpstream;
  const auth: Record<string, unknown> = {};
  if (config.auth.authorizedKeys) auth.authorized_keys = config.auth.authorizedKeys;
  if (config.auth.apiKeys.length) {
    auth.api_keys = config.auth.apiKeys.map((k) => {
      const o: Record<string, unknown> = { prefix: k.prefix, hash: REDACTED, scopes: k.scopes };
      if (k.expiresAt !== undefined) o.expires_at = new Date(k.expiresAt);
      return o;
    });
  }
  const forwarding: Record<string, unknown> = { default: config.forwarding.default };
  if (config.forwarding.rules.length) {
    forwarding.rules = config.forwarding.rules.map((r) => {
      const o: Record<string, unknown> = { action: r.action, target: r.target };
      if (r.principals) o.principals = r.principals;
      if (r.transports) o.transports = r.transports;
      return o;
    });
  }
  const l = config.limits;
  const limits = {
    max_connections_per_ip: l.maxConnectionsPerIp,
    max_auth_failures: l.maxAuthFailures,
    penalty_seconds: l.penaltySeconds,
    penalty_after_failures: l.penaltyAfterFailures,
    preauth_timeout_s: l.preauthTimeoutS,
    max_sessions_per_identity: l.maxSessionsPerIdentity,
  } as Record<string, unknown>;
  if (l.maxUnauthenticatedPerIp !== undefined) {
    limits.max_unauthenticated_per_ip = l.maxUnauthenticatedPerIp;
  }
  if (l.tlsHandshakeTimeoutS !== undefined) limits.tls_handshake_timeout_s = l.tlsHandshakeTimeoutS;
  if (l.httpHeaderTimeoutS !== undefined) limits.http_header_timeout_s = l.httpHeaderTimeoutS;
  const doc: Record<string, unknown> = { server, auth, forwarding, limits };
  if (config.ssh) {
    const ssh: Record<string, unknown> = {};
    if (config.ssh.banner !== undefined) ssh.banner = config.ssh.banner;
    doc.ssh = ssh;
  }
  if (config.storage?.db !== undefined) {
    // A PostgreSQL URL may carry a password.
    doc.storage = {
      db: config.storage.db.replace(/^([a-z]+:\/\/[^:@/]*:)[^@/]*@/i, `$1${REDACTED}@`),
    };
  }
  return stringify(doc);
}
