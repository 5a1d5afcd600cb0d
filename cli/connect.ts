/**
 * `alknet connect`: connect to a node and serve a local SOCKS5 proxy and
 * OpenSSH-style `-L`/`-R` forwards through it, reconnecting on its own.
 *
 * @module
 */

import {
  connect,
  type DataPathMode,
  dialIroh,
  type DialOptions,
  directDataPath,
  type ForwardSpec,
  type IrohUrl,
  type LogFormat,
  Logger,
  parseForwardSpec,
  parseHostPort,
  parseIrohUrl,
  parseProxyUrl,
  parseTransportUrl,
  readPrivateKeyFile,
  transportDialer,
  type TransportScheme,
  type TransportUrl,
} from "@alknet/core";
import { vaultKey } from "./vault_keys.ts";
import { configDir, parseFlags, runCommand, UsageError, waitForShutdownSignal } from "./args.ts";

const USAGE = `usage: alknet connect TARGET --identity PATH [--socks5 HOST:PORT | --no-socks5]
                      [-L SPEC]... [-R SPEC]... [--known-hosts PATH]
                      [--host-key-fingerprint SHA256:...] [--log-format text|json]

  TARGET                    the node: HOST:PORT (SSH over TCP; a name, an IPv4 address or
                            [IPv6]:PORT) or tcp://, tls://, quic://, ws://, wss:// URLs,
                            or iroh://NODEID[@HOST:PORT][?relay=off] (peer-to-peer: the node
                            id serve prints, an optional direct address; relay=off: no relays
                            and no discovery, the direct address only)
  --identity PATH           your OpenSSH private key (or set ALKNET_IDENTITY)
  --vault KEYSTORE          use the vault's identity key (m/74'/0'/0'/0') instead
  --socks5 HOST:PORT        local SOCKS5 proxy address (default 127.0.0.1:1080)
  --no-socks5               no SOCKS5 proxy
  -L [bind:]port:host:hostport   forward a local port to host:hostport via the node
  -R [bind:]port:host:hostport   forward a port on the node to host:hostport from here
  --known-hosts PATH        known hosts file (default ${configDir()}/known_hosts)
  --host-key-fingerprint FP accept only this host key (SHA256:...)
  --user NAME               user name sent to the server (default: $USER or alknet)

Transports:
  --tls-ca PEM              trust this CA (tls://, quic://, wss://)
  --tls-server-name NAME    server name for SNI and verification (default: the host)
  --tls-fingerprint FP      accept only this certificate (SHA256:<hex>, as serve prints it)
  --insecure                accept any certificate (testing only)
  --proxy URL               reach the node through socks5://[user:pass@]HOST:PORT or
                            http://HOST:PORT (CONNECT); tcp, tls, ws and wss only
  --data-path auto|ssh|direct   on tls://, quic:// and iroh://, carry SOCKS and -L connections on
                            the native alknet/tcp path when the node offers it (auto, the
                            default), always (direct), or never (ssh)`;

/** What `connect` was asked to do, after flag parsing. */
export interface ConnectFlags {
  /** Transport scheme. */
  scheme: TransportScheme | "iroh";
  /** The parsed `iroh://` target (scheme `iroh`; `host` is then the node id, `port` 22). */
  iroh?: IrohUrl;
  /** WebSocket path, for ws:// and wss://. */
  path?: string;
  /** Server host. */
  host: string;
  /** Server port. */
  port: number;
  /** Identity key file. */
  identity?: string;
  /** Vault keystore to take the identity key from. */
  vault?: string;
  /** SOCKS5 listener or null. */
  socks5: { host: string; port: number } | null;
  /** -L forwards. */
  localForwards: ForwardSpec[];
  /** -R forwards. */
  remoteForwards: ForwardSpec[];
  /** Known hosts file. */
  knownHosts: string;
  /** Pinned host key fingerprint. */
  hostKeyFingerprint?: string;
  /** Log format. */
  logFormat: LogFormat;
  /** User name to send. */
  user: string;
  /** TLS, proxy and pinning options for the transport. */
  dial: DialOptions;
  /** Native data path mode. */
  dataPath: DataPathMode;
}

/**
 * Parses `alknet connect` flags (with `ALKNET_IDENTITY` standing in for
 * `--identity`).
 *
 * @example
 * ```ts
 * import { parseConnectFlags } from "./connect.ts";
 * const f = parseConnectFlags(["[::1]:2222", "--identity", "id", "-L", "8080:web:80"]);
 * console.log(f !== "help" && f.localForwards[0].host); // "web"
 * ```
 */
export function parseConnectFlags(args: string[]): ConnectFlags | "help" {
  const { values, positionals } = parseFlags(args, {
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
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return "help";
  if (positionals.length !== 1) {
    throw new UsageError("expected exactly one TARGET (HOST:PORT or URL)");
  }
  let target: Omit<TransportUrl, "scheme"> & { scheme: TransportScheme | "iroh" };
  let iroh: IrohUrl | undefined;
  try {
    if (/^iroh:\/\//i.test(positionals[0])) {
      iroh = parseIrohUrl(positionals[0]);
      if (!iroh.nodeId) throw new Error(`'${positionals[0]}': the node id is missing`);
      if (!iroh.relay && iroh.host === undefined) {
        throw new Error(`'${positionals[0]}': relay=off needs a direct address (NODEID@HOST:PORT)`);
      }
      // Host keys are remembered under the node id (port 22: no [brackets]).
      target = { scheme: "iroh", host: iroh.nodeId, port: 22 };
    } else target = parseTransportUrl(positionals[0]);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { host, port } = target;
  if (port === 0) throw new UsageError(`port 0 in '${positionals[0]}' is not a server port`);
  const identity = values.identity ?? (values.vault ? undefined : Deno.env.get("ALKNET_IDENTITY"));
  if (!identity && !values.vault) {
    throw new UsageError("--identity PATH (or ALKNET_IDENTITY) or --vault KEYSTORE is required");
  }
  if (identity && values.vault) {
    throw new UsageError("--identity and --vault cannot be used together");
  }
  if (values.socks5 && values["no-socks5"]) {
    throw new UsageError("--socks5 and --no-socks5 cannot be used together");
  }
  const socks5 = values["no-socks5"]
    ? null
    : values.socks5
    ? parseHostPort(values.socks5, "127.0.0.1")
    : { host: "127.0.0.1", port: 1080 };
  const fp = values["host-key-fingerprint"];
  if (fp !== undefined && !/^SHA256:[A-Za-z0-9+/]{43}$/.test(fp)) {
    throw new UsageError(
      `--host-key-fingerprint '${fp}' is not of the form SHA256:<43 base64 characters>`,
    );
  }
  const logFormat = values["log-format"] ?? "text";
  if (logFormat !== "text" && logFormat !== "json") {
    throw new UsageError(`--log-format must be text or json, not '${logFormat}'`);
  }
  const dataPath = values["data-path"] ?? "auto";
  if (dataPath !== "auto" && dataPath !== "ssh" && dataPath !== "direct") {
    throw new UsageError(`--data-path must be auto, ssh or direct, not '${dataPath}'`);
  }
  if (
    dataPath === "direct" && target.scheme !== "tls" && target.scheme !== "quic" &&
    target.scheme !== "iroh"
  ) {
    throw new UsageError("--data-path direct needs a tls://, quic:// or iroh:// target");
  }
  if (values.proxy) {
    try {
      parseProxyUrl(values.proxy);
    } catch (e) {
      throw new UsageError(`--proxy: ${(e as Error).message}`);
    }
    if (target.scheme === "quic" || target.scheme === "iroh") {
      throw new UsageError(`--proxy cannot carry ${target.scheme}:// (UDP)`);
    }
  }
  const tlsFlags = ["tls-ca", "tls-server-name", "tls-fingerprint", "insecure"] as const;
  const usedTls = tlsFlags.filter((f) => values[f] !== undefined);
  if (
    usedTls.length &&
    (target.scheme === "tcp" || target.scheme === "ws" || target.scheme === "iroh")
  ) {
    throw new UsageError(`--${usedTls[0]} applies to tls://, quic:// and wss:// targets only`);
  }
  const tlsFp = values["tls-fingerprint"];
  if (tlsFp !== undefined && !/^SHA256:[0-9a-fA-F:]{64,95}$/.test(tlsFp)) {
    throw new UsageError(`--tls-fingerprint '${tlsFp}' is not of the form SHA256:<64 hex digits>`);
  }
  const dial: DialOptions = {
    proxy: values.proxy,
    caFile: values["tls-ca"],
    serverName: values["tls-server-name"],
    fingerprint: tlsFp,
    insecure: values.insecure,
  };
  const wrap = (spec: string, flag: string, allowZero: boolean) => {
    try {
      return parseForwardSpec(spec, { allowZeroBindPort: allowZero });
    } catch (e) {
      throw new UsageError(`${flag}: ${(e as Error).message}`);
    }
  };
  return {
    scheme: target.scheme,
    iroh,
    path: target.path,
    dial,
    dataPath,
    host,
    port,
    identity,
    vault: values.vault,
    socks5,
    localForwards: (values.local ?? []).map((s) => wrap(s, "-L", false)),
    remoteForwards: (values.remote ?? []).map((s) => wrap(s, "-R", true)),
    knownHosts: values["known-hosts"] ?? `${configDir()}/known_hosts`,
    hostKeyFingerprint: fp,
    logFormat,
    user: values.user ?? Deno.env.get("USER") ?? "alknet",
  };
}

function addr(a: { hostname: string; port: number }): string {
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}

/**
 * Runs `alknet connect` until SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { main } from "./connect.ts";
 * console.log(await main(["--help"])); // 0
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCommand("connect", USAGE, async () => {
    const flags = parseConnectFlags(args);
    if (flags === "help") {
      console.log(USAGE);
      return 0;
    }
    const logger = new Logger(flags.logFormat);
    const identity = flags.vault
      ? await vaultKey(flags.vault, "identity")
      : await readPrivateKeyFile(flags.identity!);
    const direct = flags.dataPath !== "ssh" && identity.seed &&
        (flags.scheme === "tls" || flags.scheme === "quic" || flags.scheme === "iroh")
      ? directDataPath({
        scheme: flags.scheme,
        iroh: flags.iroh,
        host: flags.host,
        port: flags.port,
        dial: flags.dial,
        seed: identity.seed,
        mode: flags.dataPath === "direct" ? "direct" : "auto",
        logger,
      })
      : undefined;
    if (flags.dataPath === "direct" && !direct) {
      throw new UsageError("--data-path direct needs an Ed25519 identity (tokens are Ed25519)");
    }
    const tunnel = await connect({
      host: flags.host,
      port: flags.port,
      dial: flags.scheme === "iroh"
        ? () => dialIroh(flags.iroh!, { alpn: "alknet/ssh", timeoutMs: 10_000 })
        : transportDialer(flags.scheme, {
          ...flags.dial,
          alpn: ["alknet/ssh"],
          wsPath: flags.path,
        }),
      direct: direct ? (h, p) => direct.open(h, p) : undefined,
      identity,
      username: flags.user,
      hostKey: {
        pinnedFingerprint: flags.hostKeyFingerprint,
        knownHostsPath: flags.knownHosts,
        onTrusted: (msg) => logger.notice(msg),
      },
      socks5: flags.socks5,
      localForwards: flags.localForwards,
      remoteForwards: flags.remoteForwards,
      logger,
    });
    if (tunnel.socksAddr) logger.event("socks5 listening", { addr: addr(tunnel.socksAddr) });
    tunnel.localAddrs.forEach((a) =>
      logger.event("forward listening", { kind: "local", addr: addr(a) })
    );
    await waitForShutdownSignal();
    await tunnel.close();
    direct?.close();
    return 0;
  });
}
