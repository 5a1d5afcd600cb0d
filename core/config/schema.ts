/**
 * The alknet configuration: its shape, defaults, the error that lists
 * every problem, and the merge of layers. The layers come from the TOML
 * file (`toml_layer.ts`), `ALKNET_*` environment variables
 * (`env_layer.ts`) and CLI flag values.
 *
 * @module
 */

import type { ApiKeyRecord } from "../auth/api_keys.ts";
import { CoreError } from "../util/errors.ts";
import { DEFAULT_LIMITS, type LimitSettings } from "../transport/limits.ts";
import type { PolicyRule } from "../auth/policy.ts";

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
