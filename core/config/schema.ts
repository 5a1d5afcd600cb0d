/**
 * The alknet configuration: its shape, defaults and validation of the
 * TOML file, `ALKNET_*` environment variables and CLI flag values.
 *
 * @module
 */

import { ApiKeyError, type ApiKeyRecord, validateApiKeyRecord } from "../auth/api_keys.ts";
import { CoreError } from "../util/errors.ts";
import { DEFAULT_LIMITS, type LimitSettings } from "../transport/limits.ts";
import { type PolicyRule, PolicyRuleError, RulePolicy } from "../auth/policy.ts";
import { sshBannerIdent } from "../ssh/server_ext_info.ts";

/**
 * The complete, validated configuration.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "@alknet/core/config";
 * const c = defaultConfig();
 * console.log(c.forwarding.default, c.limits.preauthTimeoutS); // allow 30
 * ```
 */
export interface AlknetConfig {
  /** Static part: changing it needs a restart. */
  server: ServerConfig;
  /** Dynamic: who may connect. */
  auth: AuthConfig;
  /** Dynamic: where they may go. */
  forwarding: ForwardingConfig;
  /** Dynamic: connection limits. */
  limits: LimitSettings;
  /** Static: `[ssh]`, present when a source set it. */
  ssh?: SshConfig;
  /** Static: `[storage]`, present when a source set it. */
  storage?: StorageConfig;
}

/**
 * `[storage]`: the node's database (static).
 *
 * @example
 * ```ts
 * import type { StorageConfig } from "@alknet/core/config";
 * const s: StorageConfig = { db: "postgres://alknet@db.internal/alknet" };
 * ```
 */
export interface StorageConfig {
  /** A SQLite path, `sqlite:PATH` or `postgres://...` URL (`db`; `ALKNET_DB`). */
  db?: string;
}

/**
 * `[ssh]`: the SSH server's identification (static).
 *
 * @example
 * ```ts
 * import type { SshConfig } from "@alknet/core/config";
 * const s: SshConfig = { banner: "OpenSSH_9.9" };
 * ```
 */
export interface SshConfig {
  /** What follows `SSH-2.0-` in the identification line (`banner`; default `alknet`). */
  banner?: string;
}

/**
 * `[server]`: listen addresses, host key, log format (static).
 *
 * @example
 * ```ts
 * import type { ServerConfig } from "@alknet/core/config";
 * const s: ServerConfig = { listen: ["0.0.0.0:2222"], logFormat: "text", allowRemoteBind: false };
 * ```
 */
export interface ServerConfig {
  /** Listener URLs or `HOST:PORT` (`listen`). */
  listen: string[];
  /** OpenSSH private host key file (`host_key`). */
  hostKey?: string;
  /** `text` or `json` (`log_format`). */
  logFormat: "text" | "json";
  /** Let remote forwards bind non-loopback addresses (`allow_remote_bind`). */
  allowRemoteBind: boolean;
  /** Answer like nginx unless a client proves itself (`stealth`). */
  stealth?: boolean;
  /** Serve the stealth site from this directory (`decoy_dir`). */
  decoyDir?: string;
  /** Relay clients that do not prove themselves to this web server, `http://HOST:PORT` (`decoy_upstream`). */
  decoyUpstream?: string;
}

/**
 * `[auth]`: authorized keys file and API keys (dynamic).
 *
 * @example
 * ```ts
 * import type { AuthConfig } from "@alknet/core/config";
 * const a: AuthConfig = { authorizedKeys: "/etc/alknet/authorized_keys", apiKeys: [] };
 * ```
 */
export interface AuthConfig {
  /** OpenSSH `authorized_keys` file (`authorized_keys`). */
  authorizedKeys?: string;
  /** `[[auth.api_keys]]` entries. */
  apiKeys: ApiKeyRecord[];
}

/**
 * `[forwarding]`: default decision and ordered rules (dynamic).
 *
 * @example
 * ```ts
 * import type { ForwardingConfig } from "@alknet/core/config";
 * const f: ForwardingConfig = { default: "deny", rules: [{ action: "allow", target: "*:443" }] };
 * ```
 */
export interface ForwardingConfig {
  /** Decision when no rule matches. */
  default: "allow" | "deny";
  /** `[[forwarding.rules]]`, first match wins. */
  rules: PolicyRule[];
}

/**
 * The default configuration: listen on `127.0.0.1:2222`, text logs,
 * forwarding allowed, {@link DEFAULT_LIMITS}.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "@alknet/core/config";
 * console.log(defaultConfig().server.listen); // [ "127.0.0.1:2222" ]
 * ```
 */
export function defaultConfig(): AlknetConfig {
  return {
    server: { listen: ["127.0.0.1:2222"], logFormat: "text", allowRemoteBind: false },
    auth: { apiKeys: [] },
    forwarding: { default: "allow", rules: [] },
    limits: { ...DEFAULT_LIMITS },
  };
}

/**
 * One problem found in the configuration. `key` is the TOML path
 * (`limits.penalty_seconds`, `forwarding.rules[1].target`), the environment
 * variable or the flag.
 *
 * @example
 * ```ts
 * import type { ConfigIssue } from "@alknet/core/config";
 * const i: ConfigIssue = { source: "alknet.toml", line: 3, key: "limits.x", message: "unknown key" };
 * ```
 */
export interface ConfigIssue {
  /** File name, `env` or `flags`. */
  source: string;
  /** 1-based line in the file, when known. */
  line?: number;
  /** The key, variable or flag concerned. */
  key: string;
  /** What is wrong. */
  message: string;
}

/**
 * Format an issue as `source:line: key: message`.
 *
 * @example
 * ```ts
 * import { formatIssue } from "@alknet/core/config";
 * console.log(formatIssue({ source: "a.toml", line: 2, key: "server.listen", message: "must be a list" }));
 * // a.toml:2: server.listen: must be a list
 * ```
 */
export function formatIssue(i: ConfigIssue): string {
  return `${i.source}${i.line !== undefined ? `:${i.line}` : ""}: ${i.key}: ${i.message}`;
}

/**
 * The configuration is invalid; `issues` lists every problem found.
 *
 * @example
 * ```ts
 * import { ConfigError } from "@alknet/core/config";
 * const e = new ConfigError([{ source: "env", key: "ALKNET_LOG_FORMAT", message: "must be text or json" }]);
 * console.log(e.message); // invalid configuration: env: ALKNET_LOG_FORMAT: must be text or json
 * ```
 */
export class ConfigError extends CoreError {
  /** Every problem, in file order. */
  readonly issues: ConfigIssue[];
  /** Creates the error from at least one issue. */
  constructor(issues: ConfigIssue[], options?: ErrorOptions) {
    const lines = issues.map(formatIssue);
    super(
      "config",
      `invalid configuration: ${lines.length === 1 ? lines[0] : "\n  " + lines.join("\n  ")}`,
      options,
    );
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/**
 * A partial configuration as produced from one source (file, env, flags).
 *
 * @example
 * ```ts
 * import type { ConfigLayer } from "@alknet/core/config";
 * const fromFlags: ConfigLayer = { server: { listen: ["127.0.0.1:2222"] }, limits: { maxAuthFailures: 3 } };
 * ```
 */
export interface ConfigLayer {
  /** `[server]` values set by this source. */
  server?: Partial<ServerConfig>;
  /** `[auth]` values set by this source. */
  auth?: Partial<AuthConfig>;
  /** `[forwarding]` values set by this source. */
  forwarding?: Partial<ForwardingConfig>;
  /** `[limits]` values set by this source. */
  limits?: Partial<LimitSettings>;
  /** `[ssh]` values set by this source. */
  ssh?: SshConfig;
  /** `[storage]` values set by this source. */
  storage?: StorageConfig;
}

/**
 * Receives one validation problem: the key (TOML path or variable) and what
 * is wrong with it.
 *
 * @example
 * ```ts
 * import type { IssueReporter } from "@alknet/core/config";
 * const problems: string[] = [];
 * const report: IssueReporter = (key, message) => problems.push(`${key}: ${message}`);
 * ```
 */
export type IssueReporter = (key: string, message: string) => void;

type Report = IssueReporter;

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

/** Limits that must be at least 1 (deadlines). */
const LIMITS_AT_LEAST_ONE = ["preauthTimeoutS", "tlsHandshakeTimeoutS", "httpHeaderTimeoutS"];

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v instanceof Date) return "a date";
  if (v === null) return "null";
  if (typeof v === "object") return "a table";
  return `a ${typeof v}`;
}

function str(v: unknown, key: string, report: Report): string | undefined {
  if (typeof v === "string" && v !== "") return v;
  report(key, `must be a non-empty string, not ${typeName(v)}`);
  return undefined;
}

function strList(
  v: unknown,
  key: string,
  report: Report,
  allowEmpty = false,
): string[] | undefined {
  if (!Array.isArray(v)) {
    report(key, `must be an array of strings, not ${typeName(v)}`);
    return undefined;
  }
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== "string" || v[i] === "") {
      report(`${key}[${i}]`, `must be a non-empty string, not ${typeName(v[i])}`);
      return undefined;
    }
  }
  if (!allowEmpty && v.length === 0) {
    report(key, "must not be empty");
    return undefined;
  }
  return [...v] as string[];
}

function int(v: unknown, key: string, report: Report, min = 0): number | undefined {
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n === "number" && Number.isSafeInteger(n) && n >= min) return n;
  report(key, `must be an integer >= ${min}, not ${typeof v === "number" ? v : typeName(v)}`);
  return undefined;
}

function bool(v: unknown, key: string, report: Report): boolean | undefined {
  if (typeof v === "boolean") return v;
  report(key, `must be true or false, not ${typeName(v)}`);
  return undefined;
}

function oneOf<T extends string>(
  v: unknown,
  key: string,
  allowed: readonly T[],
  report: Report,
): T | undefined {
  if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
  report(
    key,
    `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, not ${
      JSON.stringify(v, (_k, x) => typeof x === "bigint" ? `${x}` : x) ?? typeName(v)
    }`,
  );
  return undefined;
}

function unknownKeys(
  t: Record<string, unknown>,
  allowed: string[],
  prefix: string,
  report: Report,
): void {
  for (const k of Object.keys(t)) {
    if (!allowed.includes(k)) {
      report(prefix ? `${prefix}.${k}` : k, `unknown key (allowed: ${allowed.join(", ")})`);
    }
  }
}

function expiry(v: unknown, key: string, report: Report): number | undefined {
  if (v instanceof Date) {
    const local = (v as Date & { isLocal?: () => boolean }).isLocal?.() ?? false;
    if (local || isNaN(v.getTime())) {
      report(key, "must be a date-time with an offset, e.g. 2027-01-01T00:00:00Z");
      return undefined;
    }
    return v.getTime();
  }
  if (
    typeof v === "string" &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(v)
  ) {
    const t = Date.parse(v);
    if (!isNaN(t)) return t;
  }
  report(key, `must be a date-time with an offset, e.g. 2027-01-01T00:00:00Z, not ${typeName(v)}`);
  return undefined;
}

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
    unknownKeys(
      server,
      [
        "listen",
        "host_key",
        "log_format",
        "allow_remote_bind",
        "stealth",
        "decoy_dir",
        "decoy_upstream",
      ],
      "server",
      report,
    );
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
    unknownKeys(auth, ["authorized_keys", "api_keys"], "auth", report);
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
          unknownKeys(entry, ["prefix", "hash", "scopes", "expires_at"], key, report);
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
    unknownKeys(fwd, ["default", "rules"], "forwarding", report);
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
          unknownKeys(entry, ["action", "target", "principals", "transports"], key, report);
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
    unknownKeys(limits, Object.keys(LIMIT_KEYS), "limits", report);
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
    unknownKeys(ssh, ["banner"], "ssh", report);
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
    unknownKeys(storage, ["db"], "storage", report);
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

/**
 * The environment variables read, with the configuration key each sets.
 * Lists are comma-separated; booleans are `true|false|1|0|yes|no`.
 *
 * @example
 * ```ts
 * import { ENV_VARS } from "@alknet/core/config";
 * console.log(ENV_VARS.ALKNET_LISTEN); // server.listen
 * ```
 */
export const ENV_VARS: Readonly<Record<string, string>> = Object.freeze({
  ALKNET_LISTEN: "server.listen",
  ALKNET_HOST_KEY: "server.host_key",
  ALKNET_LOG_FORMAT: "server.log_format",
  ALKNET_ALLOW_REMOTE_BIND: "server.allow_remote_bind",
  ALKNET_AUTHORIZED_KEYS: "auth.authorized_keys",
  ALKNET_FORWARDING_DEFAULT: "forwarding.default",
  ALKNET_MAX_CONNECTIONS_PER_IP: "limits.max_connections_per_ip",
  ALKNET_MAX_AUTH_FAILURES: "limits.max_auth_failures",
  ALKNET_PENALTY_SECONDS: "limits.penalty_seconds",
  ALKNET_PENALTY_AFTER_FAILURES: "limits.penalty_after_failures",
  ALKNET_PREAUTH_TIMEOUT_S: "limits.preauth_timeout_s",
  ALKNET_MAX_SESSIONS_PER_IDENTITY: "limits.max_sessions_per_identity",
  ALKNET_MAX_UNAUTHENTICATED_PER_IP: "limits.max_unauthenticated_per_ip",
  ALKNET_TLS_HANDSHAKE_TIMEOUT_S: "limits.tls_handshake_timeout_s",
  ALKNET_HTTP_HEADER_TIMEOUT_S: "limits.http_header_timeout_s",
  ALKNET_SSH_BANNER: "ssh.banner",
  ALKNET_DB: "storage.db",
});

/**
 * Builds a layer from `ALKNET_*` environment variables (see
 * {@link ENV_VARS}); other variables are ignored.
 *
 * @example
 * ```ts
 * import { layerFromEnv } from "@alknet/core/config";
 * const layer = layerFromEnv({ ALKNET_LISTEN: "0.0.0.0:22,[::]:22" }, () => {});
 * console.log(layer.server?.listen); // [ "0.0.0.0:22", "[::]:22" ]
 * ```
 */
export function layerFromEnv(
  env: Record<string, string | undefined>,
  report: IssueReporter,
): ConfigLayer {
  const doc: Record<string, Record<string, unknown>> = {};
  for (const [name, path] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined) continue;
    const [sec, key] = path.split(".");
    let value: unknown = raw;
    if (path === "server.listen") {
      value = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
    } else if (path === "server.allow_remote_bind") {
      const b = {
        true: true,
        "1": true,
        yes: true,
        false: false,
        "0": false,
        no: false,
      }[raw.toLowerCase()];
      if (b === undefined) {
        report(name, `must be true or false, not '${raw}'`);
        continue;
      }
      value = b;
    } else if (sec === "limits") {
      if (!/^[0-9]{1,15}$/.test(raw.trim())) {
        report(name, `must be a non-negative integer, not '${raw}'`);
        continue;
      }
      value = Number(raw.trim());
    }
    (doc[sec] ??= {})[key] = value;
  }
  // Re-use the TOML validation, but name the variable in reports.
  const byPath = new Map(Object.entries(ENV_VARS).map(([k, v]) => [v, k]));
  return layerFromToml(
    doc,
    (key, message) => report(byPath.get(key.replace(/\[\d+\]$/, "")) ?? key, message),
  );
}

/**
 * Merges layers over the defaults; later layers win key by key (lists are
 * replaced, not appended).
 *
 * @example
 * ```ts
 * import { mergeLayers } from "@alknet/core/config";
 * const c = mergeLayers([{ limits: { penaltySeconds: 5 } }, { limits: { penaltySeconds: 7 } }]);
 * console.log(c.limits.penaltySeconds); // 7
 * ```
 */
export function mergeLayers(layers: readonly ConfigLayer[]): AlknetConfig {
  const c = defaultConfig();
  const assign = <T extends object>(target: T, src: Partial<T> | undefined) => {
    if (!src) return;
    for (const [k, v] of Object.entries(src)) {
      if (v !== undefined) (target as Record<string, unknown>)[k] = v;
    }
  };
  for (const l of layers) {
    assign(c.server, l.server);
    assign(c.auth, l.auth);
    assign(c.forwarding, l.forwarding);
    assign(c.limits, l.limits);
    if (l.ssh) {
      c.ssh ??= {};
      assign(c.ssh, l.ssh);
    }
    if (l.storage) {
      c.storage ??= {};
      assign(c.storage, l.storage);
    }
  }
  return c;
}
