/**
 * The TOML file's layout: `[server]`, `[auth]`, `[forwarding]`,
 * `[limits]`, `[ssh]` and `[storage]`, validated into a configuration
 * layer with every problem reported by key.
 *
 * @module
 */

import { ApiKeyError, type ApiKeyRecord, validateApiKeyRecord } from "../auth/api_keys.ts";
import type { LimitSettings } from "../transport/limits.ts";
import { type PolicyRule, PolicyRuleError, RulePolicy } from "../auth/policy.ts";
import { sshBannerIdent } from "../ssh/server_ext_info.ts";
import type {
  AuthConfig,
  ConfigLayer,
  ForwardingConfig,
  IssueReporter,
  ServerConfig,
  SshConfig,
  StorageConfig,
} from "./schema.ts";
import {
  bool,
  expiry,
  int,
  isTable,
  oneOf,
  str,
  strList,
  typeName,
  unknownKeys,
} from "./value_readers.ts";

/** TOML `[limits]` keys and the limit each sets. */
const LIMIT_KEYS: Record<string, keyof LimitSettings> = {
  max_connections_per_ip: "maxConnectionsPerIp",
  max_auth_failures: "maxAuthFailures",
  penalty_seconds: "penaltySeconds",
  penalty_after_failures: "penaltyAfterFailures",
  preauth_timeout_s: "preauthTimeoutS",
  max_sessions_per_identity: "maxSessionsPerIdentity",
  max_unauthenticated_per_ip: "maxUnauthenticatedPerIp",
  tls_handshake_timeout_s: "tlsHandshakeTimeoutS",
  http_header_timeout_s: "httpHeaderTimeoutS",
};

/** The keys of each table (and of each entry of an array of tables, `NAME[]`). */
const TABLE_KEYS = {
  server: [
    "listen",
    "host_key",
    "log_format",
    "allow_remote_bind",
    "stealth",
    "decoy_dir",
    "decoy_upstream",
  ],
  auth: ["authorized_keys", "api_keys"],
  "auth.api_keys[]": ["prefix", "hash", "scopes", "expires_at"],
  forwarding: ["default", "rules"],
  "forwarding.rules[]": ["action", "target", "principals", "transports"],
  limits: Object.keys(LIMIT_KEYS),
  ssh: ["banner"],
  storage: ["db"],
} as const;

/**
 * Every key a configuration file may set, as `table.key`; the keys of the
 * entries of `[[auth.api_keys]]` and `[[forwarding.rules]]` are written
 * `auth.api_keys[].prefix`. Each is documented in the repository's
 * `docs/reference/configuration.md` (a test checks that).
 *
 * @example
 * ```ts
 * import { CONFIG_KEYS } from "@alknet/core/config";
 * console.log(CONFIG_KEYS.includes("ssh.banner")); // true
 * console.log(CONFIG_KEYS.includes("forwarding.rules[].target")); // true
 * ```
 */
export const CONFIG_KEYS: readonly string[] = Object.freeze(
  Object.entries(TABLE_KEYS).flatMap(([table, keys]) => keys.map((k) => `${table}.${k}`)),
);

/** Limits that must be at least 1 (deadlines). */
const LIMITS_AT_LEAST_ONE = ["preauthTimeoutS", "tlsHandshakeTimeoutS", "httpHeaderTimeoutS"];

/**
 * Validates the parsed TOML document (a plain object) into a layer,
 * reporting unknown keys and type errors through `report(key, message)`.
 *
 * @example
 * ```ts
 * import { layerFromToml } from "@alknet/core/config";
 * const problems: string[] = [];
 * const layer = layerFromToml({ limits: { penalty_seconds: "x" } }, (k, m) => problems.push(`${k}: ${m}`));
 * console.log(problems[0]); // limits.penalty_seconds: must be an integer >= 0, not a string
 * ```
 */
export function layerFromToml(doc: Record<string, unknown>, report: IssueReporter): ConfigLayer {
  const layer: ConfigLayer = {};
  unknownKeys(doc, ["server", "auth", "forwarding", "limits", "ssh", "storage"], "", report);
  const section = (name: string): Record<string, unknown> | undefined => {
    const v = doc[name];
    if (v === undefined) return undefined;
    if (!isTable(v)) {
      report(name, `must be a table ([${name}]), not ${typeName(v)}`);
      return undefined;
    }
    return v;
  };
  const server = section("server");
  if (server) {
    unknownKeys(server, TABLE_KEYS.server, "server", report);
    const s: Partial<ServerConfig> = {};
    if ("listen" in server) s.listen = strList(server.listen, "server.listen", report);
    if ("host_key" in server) s.hostKey = str(server.host_key, "server.host_key", report);
    if ("log_format" in server) {
      s.logFormat = oneOf(
        server.log_format,
        "server.log_format",
        ["text", "json"] as const,
        report,
      );
    }
    if ("allow_remote_bind" in server) {
      s.allowRemoteBind = bool(server.allow_remote_bind, "server.allow_remote_bind", report);
    }
    if ("stealth" in server) s.stealth = bool(server.stealth, "server.stealth", report);
    if ("decoy_dir" in server) s.decoyDir = str(server.decoy_dir, "server.decoy_dir", report);
    if ("decoy_upstream" in server) {
      s.decoyUpstream = str(server.decoy_upstream, "server.decoy_upstream", report);
    }
    layer.server = s;
  }
  const auth = section("auth");
  if (auth) {
    unknownKeys(auth, TABLE_KEYS.auth, "auth", report);
    const a: Partial<AuthConfig> = {};
    if ("authorized_keys" in auth) {
      a.authorizedKeys = str(auth.authorized_keys, "auth.authorized_keys", report);
    }
    if ("api_keys" in auth) {
      const list = auth.api_keys;
      if (!Array.isArray(list)) {
        report(
          "auth.api_keys",
          `must be an array of tables ([[auth.api_keys]]), not ${typeName(list)}`,
        );
      } else {
        a.apiKeys = [];
        list.forEach((entry, i) => {
          const key = `auth.api_keys[${i}]`;
          if (!isTable(entry)) return report(key, `must be a table, not ${typeName(entry)}`);
          unknownKeys(entry, TABLE_KEYS["auth.api_keys[]"], key, report);
          const prefix = str(entry.prefix, `${key}.prefix`, report);
          const hash = str(entry.hash, `${key}.hash`, report);
          const scopes = "scopes" in entry
            ? strList(entry.scopes, `${key}.scopes`, report)
            : ["relay:connect"];
          const expiresAt = "expires_at" in entry
            ? expiry(entry.expires_at, `${key}.expires_at`, report)
            : undefined;
          if (prefix === undefined || hash === undefined || scopes === undefined) return;
          const record: ApiKeyRecord = { prefix, hash, scopes };
          if (expiresAt !== undefined) record.expiresAt = expiresAt;
          try {
            validateApiKeyRecord(record);
          } catch (e) {
            const f = e instanceof ApiKeyError ? e.field : undefined;
            const field = f === "expiresAt" ? "expires_at" : f ?? "prefix";
            return report(`${key}.${field}`, e instanceof ApiKeyError ? e.message : String(e));
          }
          if (a.apiKeys!.some((r) => r.prefix === prefix)) {
            return report(`${key}.prefix`, `prefix ${prefix} is listed twice`);
          }
          a.apiKeys!.push(record);
        });
      }
    }
    layer.auth = a;
  }
  const fwd = section("forwarding");
  if (fwd) {
    unknownKeys(fwd, TABLE_KEYS.forwarding, "forwarding", report);
    const f: Partial<ForwardingConfig> = {};
    if ("default" in fwd) {
      f.default = oneOf(fwd.default, "forwarding.default", ["allow", "deny"] as const, report);
    }
    if ("rules" in fwd) {
      const list = fwd.rules;
      if (!Array.isArray(list)) {
        report(
          "forwarding.rules",
          `must be an array of tables ([[forwarding.rules]]), not ${typeName(list)}`,
        );
      } else {
        const rules: PolicyRule[] = [];
        let bad = false;
        list.forEach((entry, i) => {
          const key = `forwarding.rules[${i}]`;
          if (!isTable(entry)) {
            bad = true;
            return report(key, `must be a table, not ${typeName(entry)}`);
          }
          unknownKeys(entry, TABLE_KEYS["forwarding.rules[]"], key, report);
          const action = oneOf(entry.action, `${key}.action`, ["allow", "deny"] as const, report);
          const target = str(entry.target, `${key}.target`, report);
          const rule: PolicyRule = { action: action ?? "deny", target: target ?? "*" };
          if ("principals" in entry) {
            const p = strList(entry.principals, `${key}.principals`, report);
            if (p) rule.principals = p;
            else bad = true;
          }
          if ("transports" in entry) {
            const t = strList(entry.transports, `${key}.transports`, report);
            if (t) rule.transports = t;
            else bad = true;
          }
          if (action === undefined || target === undefined) {
            bad = true;
            return;
          }
          try {
            new RulePolicy([rule]);
          } catch (e) {
            bad = true;
            const msg = e instanceof PolicyRuleError
              ? e.message.replace(/^rule 1: /, "")
              : String(e);
            return report(`${key}.target`, msg);
          }
          rules.push(rule);
        });
        if (!bad) f.rules = rules;
      }
    }
    layer.forwarding = f;
  }
  const limits = section("limits");
  if (limits) {
    unknownKeys(limits, TABLE_KEYS.limits, "limits", report);
    const l: Partial<LimitSettings> = {};
    for (const [k, camel] of Object.entries(LIMIT_KEYS)) {
      if (k in limits) {
        l[camel] = int(
          limits[k],
          `limits.${k}`,
          report,
          LIMITS_AT_LEAST_ONE.includes(camel) ? 1 : 0,
        );
      }
    }
    layer.limits = l;
  }
  const ssh = section("ssh");
  if (ssh) {
    unknownKeys(ssh, TABLE_KEYS.ssh, "ssh", report);
    const sc: SshConfig = {};
    if ("banner" in ssh) {
      const banner = str(ssh.banner, "ssh.banner", report);
      if (banner !== undefined) {
        try {
          sshBannerIdent(banner, "ssh.banner");
          sc.banner = banner;
        } catch (e) {
          report("ssh.banner", (e as Error).message.replace(/^ssh\.banner: /, ""));
        }
      }
    }
    layer.ssh = sc;
  }
  const storage = section("storage");
  if (storage) {
    unknownKeys(storage, TABLE_KEYS.storage, "storage", report);
    const st: StorageConfig = {};
    if ("db" in storage) {
      const db = str(storage.db, "storage.db", report);
      if (db === "") report("storage.db", "must not be empty");
      else if (db !== undefined) st.db = db;
    }
    layer.storage = st;
  }
  return layer;
}
