/**
 * `alknet serve`: turns flags, `ALKNET_*` variables and a TOML file
 * (`--config`, in that order of precedence) into `serve()` options, and
 * SIGHUP into `reload()`.
 *
 * @module
 */

import { Logger, serve } from "@alknet/core";
import { ConfigError, ConfigReloader } from "@alknet/core/config";
import { headCalls, WORKER_OF_FLAGS, WORKER_OF_OPTION_FLAGS, workerOfOptions } from "./mesh.ts";
import { dataDir, parseFlags, runCommand, UsageError, waitForShutdownSignal } from "./args.ts";
import { vaultKey } from "./vault_keys.ts";
import { VERSION } from "./version.ts";
import { SERVE_USAGE as USAGE } from "./serve_usage.ts";
import { TLS_FLAGS, tlsOptions } from "./serve_tls_flags.ts";
import { FLOW_FLAGS, FlowWiring } from "./flow.ts";
import { NodeStore, STORE_FLAGS } from "./store.ts";

/** The flag of each `serve()` option, for error messages. */
const OPTION_FLAGS: Record<string, string> = {
  listen: "--listen",
  hostKey: "--host-key",
  authorizedKeys: "--authorized-keys",
  tls: "--tls-cert/--tls-key, --tls-self-signed or --acme-domain",
  "tls.cert": "--tls-cert",
  "tls.key": "--tls-key",
  "tls.selfSigned": "--tls-self-signed",
  "tls.acme.domains": "--acme-domain",
  dataDir: "--data-dir",
  decoyDir: "--decoy-dir",
  decoyUpstream: "--decoy-upstream",
  egressProxy: "--egress-proxy",
  ...WORKER_OF_OPTION_FLAGS,
};

const FLAGS = {
  listen: { type: "string", multiple: true },
  "host-key": { type: "string" },
  vault: { type: "string" },
  "authorized-keys": { type: "string" },
  config: { type: "string" },
  "log-format": { type: "string" },
  "allow-remote-bind": { type: "boolean" },
  ...TLS_FLAGS,
  "data-dir": { type: "string" },
  stealth: { type: "boolean" },
  "decoy-dir": { type: "string" },
  "decoy-upstream": { type: "string" },
  "egress-proxy": { type: "string" },
  ...WORKER_OF_FLAGS,
  ...FLOW_FLAGS,
  ...STORE_FLAGS,
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Runs `alknet serve` until SIGINT/SIGTERM; then drains for 2 s and exits 0.
 */
export function main(args: string[]): Promise<number> {
  return runCommand("serve", USAGE, async () => {
    const { values: v, positionals } = parseFlags(args, FLAGS);
    if (v.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const logFormat = v["log-format"];
    if (logFormat !== undefined && logFormat !== "text" && logFormat !== "json") {
      throw new UsageError(`--log-format must be text or json, not '${logFormat}'`);
    }
    if (v["host-key"] && v.vault) {
      throw new UsageError("--host-key and --vault cannot be used together");
    }
    const tls = await tlsOptions(v);
    const workerOf = workerOfOptions(v);
    const flow = FlowWiring.fromFlags(v);
    // Warnings (bad authorized_keys lines, ...) are collected until the logger exists.
    const early: string[] = [];
    let warn: (m: string) => void = (m) => void early.push(m);
    let reloader: ConfigReloader;
    try {
      reloader = await ConfigReloader.create({
        path: v.config,
        flags: {
          server: {
            listen: v.listen?.length ? v.listen : undefined,
            hostKey: v["host-key"],
            logFormat,
            allowRemoteBind: v["allow-remote-bind"] || undefined,
          },
          auth: v["authorized-keys"] ? { authorizedKeys: v["authorized-keys"] } : undefined,
          storage: v.db ? { db: v.db } : undefined,
        },
        warn: (m) => warn(m),
      });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      console.error(`alknet serve: ${e.message}`);
      return 2;
    }
    const logger = new Logger(reloader.config.server.logFormat);
    warn = (m) => logger.warn(m);
    for (const m of early) logger.warn(m);
    const options = reloader.serveOptions();
    if (!options.hostKey && !v.vault) {
      throw new UsageError(
        "no host key: pass --host-key PATH or --vault KEYSTORE, or set host_key in [server] or ALKNET_HOST_KEY",
      );
    }
    const db = await NodeStore.open(reloader.config.storage?.db, logger);
    let restartNeeded: string[] = [];
    const node = await serve({
      ...options,
      ...db?.serveOptions(),
      hostKey: v.vault ? await vaultKey(v.vault, "host") : options.hostKey,
      tls,
      dataDir: v["data-dir"] ?? dataDir(),
      stealth: v.stealth ?? options.stealth,
      decoyDir: v["decoy-dir"] ?? options.decoyDir,
      decoyUpstream: v["decoy-upstream"] ?? options.decoyUpstream,
      egressProxy: v["egress-proxy"],
      calls: flow.wire(db ? db.wire(headCalls(logger)) : headCalls(logger)),
      workerOf,
      nodeOperations: { version: VERSION },
      logger,
      reloadOptions: async () => {
        const r = await reloader.reload();
        if (!r.ok) throw r.error;
        restartNeeded = r.restartNeeded;
        return reloader.serveOptions();
      },
    });
    const status = flow.start(node, {
      version: VERSION,
      resolveToken: (t) => reloader.identities.resolveToken(t),
      log: (event, fields) => logger.event(event, fields),
      store: db?.store,
    });
    const onHangup = async () => {
      const r = await node.reload();
      const file = reloader.path;
      if (!r.ok) return logger.event("config rejected", { file, reason: r.error.message });
      logger.event("config reloaded", {
        file,
        restart_needed: restartNeeded.join(",") || undefined,
      });
    };
    Deno.addSignalListener("SIGHUP", onHangup);
    await waitForShutdownSignal();
    Deno.removeSignalListener("SIGHUP", onHangup);
    logger.event("shutdown", { drain_s: 2 });
    await status?.close();
    await node.shutdown(2000);
    await db?.close();
    return 0;
  }, OPTION_FLAGS);
}
