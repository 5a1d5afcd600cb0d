/**
 * `@alknet/core/config` — the node's configuration: the TOML file,
 * `ALKNET_*` environment variables and command-line values merged in that
 * order of precedence (flags > environment > file > defaults), validation
 * with file, line and key in every error, the split between static settings
 * (a restart) and dynamic ones (`reload`), and atomic reloads.
 *
 * @example Load a file, then reload it
 * ```ts
 * import { ConfigReloader } from "@alknet/core/config";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/alknet.toml`, `[forwarding]\ndefault = "deny"\n`);
 * const reloader = await ConfigReloader.create({ path: `${dir}/alknet.toml`, env: {} });
 * console.log(reloader.config.forwarding.default); // "deny"
 * await Deno.writeTextFile(`${dir}/alknet.toml`, `[forwarding]\ndefault = "allow"\n`);
 * console.log((await reloader.reload()).ok, reloader.config.forwarding.default); // true "allow"
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export {
  type AlknetConfig,
  type AuthConfig,
  ConfigError,
  type ConfigIssue,
  type ConfigLayer,
  defaultConfig,
  formatIssue,
  type ForwardingConfig,
  type IssueReporter,
  mergeLayers,
  type ServerConfig,
  type SshConfig,
  type StorageConfig,
} from "./schema.ts";
export { CONFIG_KEYS, layerFromToml } from "./toml_layer.ts";
export { ENV_VARS, layerFromEnv } from "./env_layer.ts";
export { loadConfig, type LoadConfigOptions, type LoadedConfig, parseConfigFile } from "./load.ts";
export {
  buildDynamic,
  type BuildOptions,
  ConfigReloader,
  type DynamicConfig,
  type ReloadResult,
} from "./reload.ts";
export { REDACTED, renderConfig } from "./render.ts";
export { TomlLineIndex } from "./locate.ts";
