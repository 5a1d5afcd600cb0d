/**
 * `alknet serve`: run a node that accepts SSH tunnels on its `--listen`
 * addresses. Settings come from flags, `ALKNET_*` variables and a TOML file
 * (`--config`), in that order of precedence; SIGHUP re-reads the dynamic
 * part (keys, policy, limits).
 *
 * @module
 */

import {
  AcmeManager,
  ConfigError,
  type ConfigLayer,
  ConfigReloader,
  egressDialer,
  irohSecretKeyFile,
  loadCertificate,
  Logger,
  parseHostPort,
  parseListenAddress,
  type PrivateKey,
  readPrivateKeyFile,
  selfSignedCertificate,
  serve,
} from "@alknet/core";
import { CALL_WS_PATH } from "@alknet/call";
import { nodeCalls } from "./node_calls.ts";
import { dataDir, parseFlags, runCommand, UsageError, waitForShutdownSignal } from "./args.ts";
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

Transports (--listen takes URLs: HOST:PORT or tcp://, tls://, quic://, ws://, wss://,
  iroh://[HOST:PORT][?relay=off] (peer-to-peer: the log prints the node id to dial; its
  key is kept in the data dir; relay=off: no relays and no discovery, direct addresses only)):
  --tls-cert PEM --tls-key PEM   certificate for tls://, quic:// and wss://
  --tls-self-signed         generate a certificate once, keep it in the data dir, print its
                            fingerprint (clients pin it with --tls-fingerprint)
  --data-dir DIR            where generated state lives (default $XDG_DATA_HOME/alknet)
  --acme-domain NAME        get (and renew) a certificate from an ACME CA for NAME
                            (repeatable; HTTP-01 on port 80; kept in the data dir)
  --acme-email ADDR         contact address for the ACME account
  --acme-directory URL      ACME directory (default Let's Encrypt)
  --acme-http01 HOST:PORT   where the HTTP-01 responder listens (default 0.0.0.0:80)
  --acme-ca PEM             trust this CA for the ACME server itself (test CAs)
  --stealth                 answer everything that is not alknet like an ordinary web server
  --decoy-dir DIR           serve the stealth site from DIR instead of the built-in one
  --egress-proxy URL        send outbound tunnel traffic through socks5://[user:pass@]H:P or
                            http://H:P (host names are passed on unresolved)
On tls:// and quic:// the ALPN picks the protocol: alknet/ssh, alknet/call (the call
protocol; token in the first request), alknet/tcp (native data path), h2/http/1.1
(the /alknet/call and /alknet/ssh WebSockets, else the decoy site). The call protocol is
also served on the SSH channel to alknet-control with the SSH login's identity.

SIGHUP re-reads the configuration: authorized keys, API keys, forwarding rules and
limits change without dropping sessions; a file that does not validate is ignored
(the old configuration stays) and the reason is logged.`;

/** What `serve` was asked to do, after flag parsing. */
export interface ServeFlags {
  /** Configuration file. */
  config?: string;
  /** Vault keystore to derive the host key from. */
  vault?: string;
  /** `--tls-cert`/`--tls-key` files. */
  tlsCert?: string;
  /** Private key of `tlsCert`. */
  tlsKey?: string;
  /** Generate/keep a self-signed certificate. */
  tlsSelfSigned: boolean;
  /** Data directory. */
  dataDir: string;
  /** Stealth decoy on. */
  stealth: boolean;
  /** Decoy site directory. */
  decoyDir?: string;
  /** Egress proxy URL. */
  egressProxy?: string;
  /** ACME domains (empty: no ACME). */
  acmeDomains: string[];
  /** ACME account e-mail. */
  acmeEmail?: string;
  /** ACME directory URL. */
  acmeDirectory?: string;
  /** HTTP-01 responder address. */
  acmeHttp01?: { host: string; port: number };
  /** Extra CA file for the ACME server. */
  acmeCa?: string;
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
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "tls-self-signed": { type: "boolean" },
    "data-dir": { type: "string" },
    stealth: { type: "boolean" },
    "decoy-dir": { type: "string" },
    "egress-proxy": { type: "string" },
    "acme-domain": { type: "string", multiple: true },
    "acme-email": { type: "string" },
    "acme-directory": { type: "string" },
    "acme-http01": { type: "string" },
    "acme-ca": { type: "string" },
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
  if (!!values["tls-cert"] !== !!values["tls-key"]) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (values["tls-cert"] && values["tls-self-signed"]) {
    throw new UsageError("--tls-cert and --tls-self-signed cannot be used together");
  }
  if (values["decoy-dir"] && !values.stealth) throw new UsageError("--decoy-dir needs --stealth");
  const acmeDomains = values["acme-domain"] ?? [];
  const certSources = [values["tls-cert"], values["tls-self-signed"], acmeDomains.length > 0]
    .filter(Boolean).length;
  if (certSources > 1) {
    throw new UsageError("choose one of --tls-cert/--tls-key, --tls-self-signed and --acme-domain");
  }
  const acmeOnly = ["acme-email", "acme-directory", "acme-http01", "acme-ca"] as const;
  const stray = acmeOnly.find((f) => values[f] !== undefined);
  if (stray && acmeDomains.length === 0) throw new UsageError(`--${stray} needs --acme-domain`);
  let acmeHttp01: { host: string; port: number } | undefined;
  if (values["acme-http01"]) {
    try {
      acmeHttp01 = parseHostPort(values["acme-http01"]);
    } catch (e) {
      throw new UsageError(`--acme-http01: ${(e as Error).message}`);
    }
  }
  const server: NonNullable<ConfigLayer["server"]> = {};
  if (values.listen?.length) server.listen = values.listen;
  if (values["host-key"]) server.hostKey = values["host-key"];
  if (logFormat) server.logFormat = logFormat;
  if (values["allow-remote-bind"]) server.allowRemoteBind = true;
  const layer: ConfigLayer = { server };
  if (values["authorized-keys"]) layer.auth = { authorizedKeys: values["authorized-keys"] };
  return {
    config: values.config,
    vault: values.vault,
    tlsCert: values["tls-cert"],
    tlsKey: values["tls-key"],
    tlsSelfSigned: values["tls-self-signed"] ?? false,
    dataDir: values["data-dir"] ?? dataDir(),
    stealth: values.stealth ?? false,
    decoyDir: values["decoy-dir"],
    egressProxy: values["egress-proxy"],
    acmeDomains,
    acmeEmail: values["acme-email"],
    acmeDirectory: values["acme-directory"],
    acmeHttp01,
    acmeCa: values["acme-ca"],
    layer,
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
    let tls: { cert: string; key: string } | undefined;
    if (flags.tlsCert) {
      tls = await loadCertificate(flags.tlsCert, flags.tlsKey!);
    } else if (flags.tlsSelfSigned) {
      const names = config.server.listen.filter((l) => !/^iroh:\/\//i.test(l))
        .map((l) => parseListenAddress(l).host)
        .filter((h) => h !== "0.0.0.0" && h !== "::");
      const ck = await selfSignedCertificate(flags.dataDir, {
        names: [...new Set(["localhost", "127.0.0.1", "::1", ...names])],
      });
      tls = ck;
      logger.event("tls self-signed", { fingerprint: ck.fingerprint, dir: flags.dataDir });
    }
    let acme: AcmeManager | undefined;
    // Renewed certificates go to the listeners once they exist.
    const renewal: { apply?: (ck: { cert: string; key: string }) => void } = {};
    if (flags.acmeDomains.length > 0) {
      acme = new AcmeManager({
        domains: flags.acmeDomains,
        email: flags.acmeEmail,
        directoryUrl: flags.acmeDirectory,
        dataDir: flags.dataDir,
        http01: flags.acmeHttp01
          ? { hostname: flags.acmeHttp01.host, port: flags.acmeHttp01.port }
          : undefined,
        caCerts: flags.acmeCa ? [await Deno.readTextFile(flags.acmeCa)] : undefined,
        logger,
      }, (ck) => renewal.apply?.(ck));
      tls = await acme.start();
      logger.event("tls acme", { domains: flags.acmeDomains.join(","), dir: flags.dataDir });
    }
    const listeners: string[] = [];
    const calls = nodeCalls({
      fingerprint: hostKeys[0].fingerprint,
      listeners,
      identities: reloader.identities,
    });
    const iroh = config.server.listen.some((l) => /^iroh:\/\//i.test(l))
      ? { secretKey: await irohSecretKeyFile(`${flags.dataDir}/iroh-secret.key`) }
      : undefined;
    const node = await serve({
      listen: config.server.listen,
      iroh,
      hostKeys,
      authenticator: reloader.authenticator,
      policy: reloader.policy,
      limiter: reloader.limiter,
      logger,
      allowRemoteBind: config.server.allowRemoteBind,
      dial: flags.egressProxy ? egressDialer(flags.egressProxy) : undefined,
      reserved: { "alknet-control": calls.controlChannel },
      tls,
      stealth: flags.stealth,
      decoyDir: flags.decoyDir,
      call: (conn) => calls.stream(conn),
      http: (req) => new URL(req.url).pathname === CALL_WS_PATH ? calls.http(req) : null,
      nativeTcp: {
        resolveToken: (token, info) => {
          const r = reloader.dynamic.authenticator.authorizeToken(token, info.remoteAddress);
          return r.ok ? { identity: r.identity, restrictions: r.restrictions } : null;
        },
      },
    });
    renewal.apply = (ck) => {
      node.setCertificate(ck.cert, ck.key);
      logger.event("tls renewed", { domains: flags.acmeDomains.join(",") });
    };
    for (const l of node.listening) {
      const a = l.addr;
      const addr = a.hostname.includes(":")
        ? `[${a.hostname}]:${a.port}`
        : `${a.hostname}:${a.port}`;
      listeners.push(
        l.nodeId ? `iroh://${l.nodeId}` : l.transport === "tcp" ? addr : `${l.transport}://${addr}`,
      );
      logger.event("listening", {
        addr,
        transport: l.transport,
        node_id: l.nodeId,
        host_key: hostKeys[0].fingerprint,
        alpn: l.alpn?.length ? l.alpn.join(",") : undefined,
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
    acme?.close();
    logger.event("shutdown", { drain_s: 2 });
    await node.shutdown(2000);
    return 0;
  });
}
