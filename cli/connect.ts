/**
 * `alknet connect`: flags and environment to `connect()` options; the
 * library does the rest (transport, data path, reconnecting, listeners).
 *
 * @module
 */

import { connect, type ConnectOptions, OptionError, readPrivateKeyFile } from "@alknet/core";
import { parseSshTarget } from "@alknet/core/ssh";
import { hostPort, Logger } from "@alknet/core/transport";
import { vaultKey } from "./vault_keys.ts";
import { workerCalls } from "./mesh.ts";
import { openWorkerStore } from "./store.ts";
import { CONNECT_USAGE as USAGE } from "./connect_usage.ts";
import {
  configDir,
  flagMessage,
  parseFlags,
  runCommand,
  UsageError,
  waitForShutdownSignal,
} from "./args.ts";

/** The flag for each `connect()` option, for error messages. */
const FLAG_OF: Record<string, string> = {
  identity: "--identity",
  hostKeyFingerprint: "--host-key-fingerprint",
  knownHosts: "--known-hosts",
  user: "--user",
  socks: "--socks5",
  localForwards: "-L",
  remoteForwards: "-R",
  tlsFingerprint: "--tls-fingerprint",
  tlsCa: "--tls-ca",
  tlsServerName: "--tls-server-name",
  insecure: "--insecure",
  proxy: "--proxy",
  dataPath: "--data-path",
  "worker.name": "--worker",
};

/** What `alknet connect` was asked: the target, the options, and how to log. */
export interface ConnectCommand {
  /** The node's address or URL. */
  target: string;
  /** Options for `connect()`, with the identity still a path (or a vault keystore). */
  options: Omit<ConnectOptions, "identity" | "logger">;
  /** Identity key file. */
  identity?: string;
  /** Vault keystore to take the identity key from. */
  vault?: string;
  /** Log format. */
  logFormat: "text" | "json";
  /** `--worker NAME`: serve this client's operations to the node under NAME. */
  worker?: string;
  /** `--db LOCATION`: a worker also serves this database's operations. */
  db?: string;
}

/**
 * Turns `alknet connect` flags (and `ALKNET_IDENTITY`) into `connect()`
 * options. Values are checked by the library.
 */
export function parseConnectFlags(args: string[]): ConnectCommand | "help" {
  const { values: v, positionals } = parseFlags(args, {
    identity: { type: "string", short: "i" },
    vault: { type: "string" },
    socks5: { type: "string" },
    "no-socks5": { type: "boolean" },
    local: { type: "string", short: "L", multiple: true },
    remote: { type: "string", short: "R", multiple: true },
    "known-hosts": { type: "string" },
    "host-key-fingerprint": { type: "string" },
    "log-format": { type: "string" },
    user: { type: "string" },
    "tls-ca": { type: "string" },
    "tls-server-name": { type: "string" },
    "tls-fingerprint": { type: "string" },
    insecure: { type: "boolean" },
    proxy: { type: "string" },
    "data-path": { type: "string" },
    worker: { type: "string" },
    db: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (v.db !== undefined && v.worker === undefined) {
    throw new UsageError("--db needs --worker NAME");
  }
  if (v.help) return "help";
  if (positionals.length !== 1) {
    throw new UsageError("expected exactly one TARGET (HOST:PORT or URL)");
  }
  try {
    parseSshTarget(positionals[0]);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const identity = v.identity ?? (v.vault ? undefined : Deno.env.get("ALKNET_IDENTITY"));
  if (!identity && !v.vault) {
    throw new UsageError("--identity PATH (or ALKNET_IDENTITY) or --vault KEYSTORE is required");
  }
  if (identity && v.vault) throw new UsageError("--identity and --vault cannot be used together");
  if (v.socks5 && v["no-socks5"]) {
    throw new UsageError("--socks5 and --no-socks5 cannot be used together");
  }
  const logFormat = v["log-format"] ?? "text";
  if (logFormat !== "text" && logFormat !== "json") {
    throw new UsageError(`--log-format must be text or json, not '${logFormat}'`);
  }
  return {
    target: positionals[0],
    identity,
    vault: v.vault,
    logFormat,
    worker: v.worker,
    db: v.db,
    options: {
      // A worker runs no SOCKS5 proxy unless asked (workers usually share a host).
      socks: v["no-socks5"] ? undefined : v.socks5 ?? (v.worker ? undefined : "127.0.0.1:1080"),
      localForwards: v.local ?? [],
      remoteForwards: v.remote ?? [],
      knownHosts: v["known-hosts"] ?? `${configDir()}/known_hosts`,
      hostKeyFingerprint: v["host-key-fingerprint"],
      user: v.user ?? Deno.env.get("USER") ?? "alknet",
      tlsCa: v["tls-ca"],
      tlsServerName: v["tls-server-name"],
      tlsFingerprint: v["tls-fingerprint"],
      insecure: v.insecure,
      proxy: v.proxy,
      dataPath: v["data-path"] as ConnectOptions["dataPath"],
    },
  };
}

/** A library error about an option is a usage error, named by its flag. */
function asUsage(e: unknown): unknown {
  return e instanceof OptionError ? new UsageError(flagMessage(e, FLAG_OF)) : e;
}

/**
 * Runs `alknet connect` until SIGINT/SIGTERM.
 */
export function main(args: string[]): Promise<number> {
  return runCommand("connect", USAGE, async () => {
    const cmd = parseConnectFlags(args);
    if (cmd === "help") {
      console.log(USAGE);
      return 0;
    }
    const logger = new Logger(cmd.logFormat);
    const identity = cmd.vault ? await vaultKey(cmd.vault, "identity") : cmd.identity!;
    // A worker reads its key here: node/info reports its fingerprint.
    const key = cmd.worker !== undefined && typeof identity === "string"
      ? await readPrivateKeyFile(identity)
      : identity;
    const store = cmd.db === undefined ? undefined : await openWorkerStore(cmd.db);
    const worker = cmd.worker === undefined ? undefined : {
      name: cmd.worker,
      calls: await workerCalls({
        fingerprint: typeof key === "string" ? undefined : key.fingerprint,
      }),
    };
    const tunnel = await connect(cmd.target, { ...cmd.options, identity: key, logger, worker })
      .catch((e) => {
        throw asUsage(e);
      });
    const show = (a: Deno.NetAddr) => hostPort(a.hostname, a.port);
    if (tunnel.socksAddr) logger.event("socks5 listening", { addr: show(tunnel.socksAddr) });
    for (const a of tunnel.localAddrs) {
      logger.event("forward listening", { kind: "local", addr: show(a) });
    }
    await waitForShutdownSignal();
    await tunnel.close();
    await store?.close();
    return 0;
  });
}
