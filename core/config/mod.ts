/**
 * alknet configuration: TOML file, `ALKNET_*` environment and CLI flags
 * (flags > env > file > defaults), validation with file/line/key errors,
 * the static/dynamic split and atomic reloads.
 *
 * @example
 * ```ts
 * import { ConfigReloader } from "./mod.ts";
 * const reloader = await ConfigReloader.create({ env: {} });
 * console.log(reloader.config.forwarding.default); // allow
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
  ENV_VARS,
  formatIssue,
  type ForwardingConfig,
  type IssueReporter,
  layerFromEnv,
  layerFromToml,
  mergeLayers,
  type ServerConfig,
  type SshConfig,
  type StorageConfig,
} from "./schema.ts";
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
