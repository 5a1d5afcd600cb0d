/**
 * `alknet serve`: run a node that accepts SSH tunnels on its `--listen`
 * addresses. Settings come from flags, `ALKNET_*` variables and a TOML file
 * (`--config`), in that order of precedence; SIGHUP re-reads the dynamic
 * part (keys, policy, limits).
 *
 * @module
 */

import {
  ConfigError,
  type ConfigLayer,
  ConfigReloader,
  Logger,
  type PrivateKey,
  readPrivateKeyFile,
  serve,
} from "@alknet/core";
import { parseFlags, runCommand, UsageError, waitForShutdownSignal } from "./args.ts";
import { vaultKey } from "./vault_keys.ts";

const USAGE = `usage: alknet serve --listen HOST:PORT (--host-key PATH | --vault KEYSTORE)
                    --authorized-keys PATH [--listen ...] [--config FILE]
                    [--log-format text|json] [--allow-remote-bind]

  --listen HOST:PORT        address to accept SSH on (repeatable; IPv6 as [::1]:2222)
  --host-key PATH           the server's OpenSSH private key (alknet keygen makes one)
  --vault KEYSTORE          derive the host key from the vault (m/74'/0'/1'/0'); the
                            passphrase comes from ALKNET_VAULT_PASSPHRASE or a prompt
  --authorized-keys PATH    OpenSSH authorized_keys file of the keys that may log in
  --config FILE             TOML configuration ([server], [auth], [forwarding], [limits]);
                            flags override ALKNET_* variables, which override the file
  --log-format text|json    log line format on stderr (default text)
  --allow-remote-bind       let -R forwards bind non-loopback addresses

SIGHUP re-reads the configuration: authorized keys, API keys, forwarding rules and
limits change without dropping sessions; a file that does not validate is ignored
(the old configuration stays) and the reason is logged.`;

/** What `serve` was asked to do, after flag parsing. */
export interface ServeFlags {
  /** Configuration file. */
  config?: string;
  /** Vault keystore to derive the host key from. */
  vault?: string;
  /** Settings given as flags (the highest-precedence configuration layer). */
  layer: ConfigLayer;
}

/**
 * Parses `alknet serve` flags.
 *
 * @example
 * ```ts
 * import { parseServeFlags } from "./serve.ts";
 * const f = parseServeFlags(["--listen", "127.0.0.1:2222", "--host-key", "k"]);
 * console.log(f !== "help" && f.layer.server?.listen); // [ "127.0.0.1:2222" ]
 * ```
 */
export function parseServeFlags(args: string[]): ServeFlags | "help" {
  const { values, positionals } = parseFlags(args, {
    listen: { type: "string", multiple: true },
    "host-key": { type: "string" },
    vault: { type: "string" },
    "authorized-keys": { type: "string" },
    config: { type: "string" },
    "log-format": { type: "string" },
    "allow-remote-bind": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return "help";
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const logFormat = values["log-format"];
  if (logFormat !== undefined && logFormat !== "text" && logFormat !== "json") {
    throw new UsageError(`--log-format must be text or json, not '${logFormat}'`);
  }
  if (values["host-key"] && values.vault) {
    throw new UsageError("--host-key and --vault cannot be used together");
  }
  const server: NonNullable<ConfigLayer["server"]> = {};
  if (values.listen?.length) server.listen = values.listen;
  if (values["host-key"]) server.hostKey = values["host-key"];
  if (logFormat) server.logFormat = logFormat;
  if (values["allow-remote-bind"]) server.allowRemoteBind = true;
  const layer: ConfigLayer = { server };
  if (values["authorized-keys"]) layer.auth = { authorizedKeys: values["authorized-keys"] };
  return { config: values.config, vault: values.vault, layer };
}

/**
 * Runs `alknet serve` until SIGINT/SIGTERM; then drains for 2 s and exits 0.
 *
 * @example
 * ```ts
 * import { main } from "./serve.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCommand("serve", USAGE, async () => {
    const flags = parseServeFlags(args);
    if (flags === "help") {
      console.log(USAGE);
      return 0;
    }
    // Warnings (bad authorized_keys lines, ...) are collected until the logger exists.
    const early: string[] = [];
    let warn: (m: string) => void = (m) => void early.push(m);
    let reloader: ConfigReloader;
    try {
      reloader = await ConfigReloader.create({
        path: flags.config,
        flags: flags.layer,
        warn: (m) => warn(m),
      });
    } catch (e) {
      if (e instanceof ConfigError) {
        console.error(`alknet serve: ${e.message}`);
        return 2;
      }
      throw e;
    }
    const config = reloader.config;
    const logger = new Logger(config.server.logFormat);
    warn = (m) => logger.warn(m);
    for (const m of early) logger.warn(m);
    if (!config.server.hostKey && !flags.vault) {
      throw new UsageError(
        "no host key: pass --host-key PATH or --vault KEYSTORE, or set host_key in [server] or ALKNET_HOST_KEY",
      );
    }
    const hostKeys: PrivateKey[] = [
      flags.vault
        ? await vaultKey(flags.vault, "host")
        : await readPrivateKeyFile(config.server.hostKey!),
    ];
    const loudIfNoKeys = () => {
      if (reloader.dynamic.authenticator.entries.length === 0) {
        logger.warn("no authorized keys are configured: EVERY LOGIN WILL BE REFUSED");
      }
    };
    loudIfNoKeys();
    const node = await serve({
      listen: config.server.listen,
      hostKeys,
      authenticator: reloader.authenticator,
      policy: reloader.policy,
      limiter: reloader.limiter,
      logger,
      allowRemoteBind: config.server.allowRemoteBind,
    });
    for (const a of node.addrs) {
      logger.event("listening", {
        addr: a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`,
        transport: "tcp",
        host_key: hostKeys[0].fingerprint,
      });
    }
    const stopReports = reloader.onReload((r) => {
      if (r.ok) {
        logger.event("config reloaded", {
          file: reloader.path,
          restart_needed: r.restartNeeded.join(",") || undefined,
        });
        loudIfNoKeys();
      } else {
        logger.event("config rejected", { file: reloader.path, reason: r.error.message });
      }
    });
    const stopWatching = reloader.watchSignal("SIGHUP");
    await waitForShutdownSignal();
    stopWatching();
    stopReports();
    logger.event("shutdown", { drain_s: 2 });
    await node.shutdown(2000);
    return 0;
  });
}
