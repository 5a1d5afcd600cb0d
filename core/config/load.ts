/**
 * Loads the configuration: defaults, then the TOML file, then `ALKNET_*`
 * environment variables, then CLI flags (later wins).
 *
 * @module
 */

import { parse as parseToml, TomlError } from "smol-toml";
import { dirname, isAbsolute, resolve } from "node:path";
import { TomlLineIndex } from "./locate.ts";
import { fsErrorReason } from "../util/fs_errors.ts";
import {
  type AlknetConfig,
  ConfigError,
  type ConfigIssue,
  type ConfigLayer,
  mergeLayers,
} from "./schema.ts";
import { layerFromToml } from "./toml_layer.ts";
import { layerFromEnv } from "./env_layer.ts";

/**
 * Where to load from.
 *
 * @example
 * ```ts
 * import type { LoadConfigOptions } from "@alknet/core/config";
 * const o: LoadConfigOptions = { path: "/etc/alknet/alknet.toml", flags: { server: { logFormat: "json" } } };
 * ```
 */
export interface LoadConfigOptions {
  /** TOML file (`--config`); when absent, `ALKNET_CONFIG` from `env`; when both absent, no file. */
  path?: string;
  /** Environment (default: the process environment, or none without `--allow-env`). */
  env?: Record<string, string | undefined>;
  /** Values from CLI flags (highest precedence). */
  flags?: ConfigLayer;
}

/**
 * A loaded configuration.
 *
 * @example
 * ```ts
 * import { loadConfig } from "@alknet/core/config";
 * const { config, path } = await loadConfig({ env: {} });
 * console.log(path, config.server.listen); // undefined [ "127.0.0.1:2222" ]
 * ```
 */
export interface LoadedConfig {
  /** The effective configuration. */
  config: AlknetConfig;
  /** The file read, if any. */
  path?: string;
}

/** The process environment, or `{}` when env access is not permitted. */
export function processEnv(): Record<string, string> {
  try {
    return Deno.env.toObject();
  } catch {
    return {};
  }
}

function resolveFrom(base: string, p: string | undefined): string | undefined {
  if (p === undefined || isAbsolute(p)) return p;
  return resolve(dirname(base), p);
}

/**
 * Validates TOML text as an alknet configuration file and returns its layer.
 * Relative `host_key` and `authorized_keys` paths are resolved against the
 * file's directory.
 *
 * @throws {ConfigError} naming file, line and key for every problem.
 * @example
 * ```ts
 * import { parseConfigFile } from "@alknet/core/config";
 * const layer = parseConfigFile('[server]\nlisten = ["0.0.0.0:22"]\n', "/etc/alknet.toml");
 * console.log(layer.server?.listen); // [ "0.0.0.0:22" ]
 * ```
 */
export function parseConfigFile(text: string, path: string): ConfigLayer {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
      throw new ConfigError([{
        source: path,
        line: e.line,
        key: "(syntax)",
        message: `${first} (column ${e.column})`,
      }], { cause: e });
    }
    throw new ConfigError([{ source: path, key: "(syntax)", message: String(e) }], { cause: e });
  }
  const index = new TomlLineIndex(text);
  const issues: ConfigIssue[] = [];
  const layer = layerFromToml(doc, (key, message) => {
    issues.push({ source: path, line: index.lineOf(key), key, message });
  });
  if (issues.length) {
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new ConfigError(issues);
  }
  if (layer.server?.hostKey) layer.server.hostKey = resolveFrom(path, layer.server.hostKey);
  if (layer.auth?.authorizedKeys) {
    layer.auth.authorizedKeys = resolveFrom(path, layer.auth.authorizedKeys);
  }
  // A plain SQLite path (no scheme) is relative to the file too.
  const db = layer.storage?.db;
  if (db !== undefined && db !== ":memory:" && !/^[a-z][a-z0-9+.-]*:/i.test(db)) {
    layer.storage!.db = resolveFrom(path, db);
  }
  return layer;
}

/**
 * Loads and validates the configuration (defaults < file < env < flags).
 *
 * @throws {ConfigError} naming file, line and key (or variable) for every problem.
 * @example
 * ```ts
 * import { loadConfig } from "@alknet/core/config";
 * const { config } = await loadConfig({ env: { ALKNET_PENALTY_SECONDS: "90" } });
 * console.log(config.limits.penaltySeconds); // 90
 * ```
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? processEnv();
  const path = options.path ?? (env.ALKNET_CONFIG || undefined);
  const layers: ConfigLayer[] = [];
  if (path !== undefined) {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      const why = fsErrorReason(e);
      throw new ConfigError([{ source: path, key: "(file)", message: `cannot read: ${why}` }], {
        cause: e,
      });
    }
    layers.push(parseConfigFile(text, path));
  }
  const issues: ConfigIssue[] = [];
  layers.push(layerFromEnv(env, (key, message) => issues.push({ source: "env", key, message })));
  if (options.flags) layers.push(options.flags);
  if (issues.length) throw new ConfigError(issues);
  const config = mergeLayers(layers);
  if (config.server.listen.length === 0) {
    throw new ConfigError([{
      source: "config",
      key: "server.listen",
      message: "must not be empty",
    }]);
  }
  return path !== undefined ? { config, path } : { config };
}
