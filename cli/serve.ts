/**
 * `alknet serve`: run a node that accepts SSH tunnels on its `--listen`
 * addresses.
 *
 * @module
 */

import {
  AuthorizedKeysAuthenticator,
  type LogFormat,
  Logger,
  type PrivateKey,
  readPrivateKeyFile,
  serve,
  type SshAuthenticator,
} from "@alknet/core";
import { parseFlags, runCommand, UsageError, waitForShutdownSignal } from "./args.ts";
import { vaultKey } from "./vault_keys.ts";

const USAGE = `usage: alknet serve --listen HOST:PORT (--host-key PATH | --vault KEYSTORE)
                    --authorized-keys PATH [--listen ...] [--log-format text|json]
                    [--allow-remote-bind]

  --listen HOST:PORT        address to accept SSH on (repeatable; IPv6 as [::1]:2222)
  --host-key PATH           the server's OpenSSH private key (alknet keygen makes one)
  --vault KEYSTORE          derive the host key from the vault (m/74'/0'/1'/0'); the
                            passphrase comes from ALKNET_VAULT_PASSPHRASE or a prompt
  --authorized-keys PATH    OpenSSH authorized_keys file of the keys that may log in
  --log-format text|json    log line format on stderr (default text)
  --allow-remote-bind       let -R forwards bind non-loopback addresses`;

/** What `serve` was asked to do, after flag parsing. */
export interface ServeFlags {
  /** Listen addresses. */
  listen: string[];
  /** Host key file. */
  hostKey?: string;
  /** Vault keystore to derive the host key from. */
  vault?: string;
  /** authorized_keys file. */
  authorizedKeys?: string;
  /** Log format. */
  logFormat: LogFormat;
  /** Allow non-loopback remote binds. */
  allowRemoteBind: boolean;
}

/**
 * Parses `alknet serve` flags.
 *
 * @example
 * ```ts
 * import { parseServeFlags } from "./serve.ts";
 * console.log(parseServeFlags(["--listen", "127.0.0.1:2222", "--host-key", "k"]).listen);
 * ```
 */
export function parseServeFlags(args: string[]): ServeFlags | "help" {
  const { values, positionals } = parseFlags(args, {
    listen: { type: "string", multiple: true },
    "host-key": { type: "string" },
    vault: { type: "string" },
    "authorized-keys": { type: "string" },
    "log-format": { type: "string" },
    "allow-remote-bind": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return "help";
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const logFormat = values["log-format"] ?? "text";
  if (logFormat !== "text" && logFormat !== "json") {
    throw new UsageError(`--log-format must be text or json, not '${logFormat}'`);
  }
  const listen = values.listen ?? [];
  if (listen.length === 0) throw new UsageError("at least one --listen HOST:PORT is required");
  if (!values["host-key"] && !values.vault) {
    throw new UsageError("--host-key PATH or --vault KEYSTORE is required");
  }
  if (values["host-key"] && values.vault) {
    throw new UsageError("--host-key and --vault cannot be used together");
  }
  return {
    listen,
    hostKey: values["host-key"],
    vault: values.vault,
    authorizedKeys: values["authorized-keys"],
    logFormat,
    allowRemoteBind: values["allow-remote-bind"] ?? false,
  };
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
    const logger = new Logger(flags.logFormat);
    const hostKeys: PrivateKey[] = [
      flags.vault ? await vaultKey(flags.vault, "host") : await readPrivateKeyFile(flags.hostKey!),
    ];
    let authenticator: SshAuthenticator;
    if (flags.authorizedKeys) {
      const auth = await AuthorizedKeysAuthenticator.fromFile(
        flags.authorizedKeys,
        (msg) => logger.warn(msg),
      );
      if (auth.entries.length === 0) {
        logger.warn(`${flags.authorizedKeys} holds no usable keys: EVERY LOGIN WILL BE REFUSED`);
      }
      authenticator = auth;
    } else {
      logger.warn("no --authorized-keys given: EVERY LOGIN WILL BE REFUSED");
      authenticator = { authorize: () => ({ ok: false, reason: "no-keys-configured" }) };
    }
    const node = await serve({
      listen: flags.listen,
      hostKeys,
      authenticator,
      logger,
      allowRemoteBind: flags.allowRemoteBind,
    });
    for (const a of node.addrs) {
      logger.event("listening", {
        addr: a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`,
        transport: "tcp",
        host_key: hostKeys[0].fingerprint,
      });
    }
    await waitForShutdownSignal();
    logger.event("shutdown", { drain_s: 2 });
    await node.shutdown(2000);
    return 0;
  });
}
