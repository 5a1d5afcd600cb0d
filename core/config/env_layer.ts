/**
 * `ALKNET_*` environment variables as a configuration layer.
 *
 * @module
 */

import type { ConfigLayer, IssueReporter } from "./schema.ts";
import { layerFromToml } from "./toml_layer.ts";

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
