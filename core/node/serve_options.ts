/**
 * The options of `serve()` and their normalisation: listen URLs, host keys
 * from paths, PEM text or parsed values, and the checks that name the
 * option at fault ({@link OptionError}), never a command-line flag.
 *
 * @module
 */

import type {
  ForwardingPolicy,
  Identity,
  IdentityProvider,
  SshAuthenticator,
} from "../auth/identity.ts";
import type { AuthorizedKeysAuthenticator } from "../auth/authenticator.ts";
import type { AuthorizedKeyEntry } from "../auth/authorized_keys.ts";
import type { ApiKeyRecord } from "../auth/api_keys.ts";
import type { PolicyRule } from "../auth/policy.ts";
import { parsePrivateKey, type PrivateKey, readPrivateKeyFile } from "../auth/ssh_keys.ts";
import type { ConnectionLimiter, LimitSettings } from "../transport/limits.ts";
import type { Dialer } from "../transport/tcp.ts";
import type { ConnHandler, HttpHandler } from "../transport/endpoint.ts";
import { ForwardSpecError, parseHostPort } from "../transport/hostport.ts";
import type { ReservedChannelHandler } from "../ssh/server.ts";
import type { NativeTcpOptions } from "../ssh/native_server.ts";
import { sshBannerIdent } from "../ssh/server_ext_info.ts";
import { OptionError } from "../util/errors.ts";
import type { CallService } from "./call_service.ts";
import type { ServeWorkerOfOptions } from "./serve_mesh.ts";
import type { LoggerOption, NodeAuditEvent } from "./serve_log.ts";

/**
 * A key or certificate given as a file path (`string` or `file:` URL) or
 * as PEM text (a string containing `-----BEGIN`).
 *
 * @example
 * ```ts
 * import type { PemSource } from "@alknet/core";
 * const fromFile: PemSource = "/etc/alknet/tls.crt";
 * const fromUrl: PemSource = new URL("file:///etc/alknet/tls.key");
 * console.log(typeof fromFile, fromUrl.protocol); // string file:
 * ```
 */
export type PemSource = string | URL;

/**
 * `tls` of {@link ServeOptions}: where the certificate for `tls://`,
 * `quic://` and `wss://` listeners comes from (one of `cert`/`key`,
 * `selfSigned`, `acme`).
 *
 * @example
 * ```ts
 * import type { ServeTlsOptions } from "@alknet/core";
 * const pem: ServeTlsOptions = { cert: "/etc/alknet/tls.crt", key: "/etc/alknet/tls.key" };
 * const mine: ServeTlsOptions = { selfSigned: true };
 * const acme: ServeTlsOptions = { acme: { domains: ["node.example.org"], email: "ops@example.org" } };
 * console.log(Object.keys(pem), mine.selfSigned, acme.acme?.domains); // [ "cert", "key" ] true [ "node.example.org" ]
 * ```
 */
export interface ServeTlsOptions {
  /** Certificate chain: a PEM file path or PEM text (with `key`). */
  cert?: PemSource;
  /** Private key: a PEM file path or PEM text (with `cert`). */
  key?: PemSource;
  /**
   * Generate a self-signed certificate once and keep it in `dataDir`
   * (clients pin its fingerprint: the handle's `tlsFingerprint`). `names`
   * default to localhost, 127.0.0.1, ::1 and the listen hosts.
   */
  selfSigned?: boolean | { names?: string[]; days?: number };
  /** Get and renew a certificate from an ACME CA (HTTP-01); kept in `dataDir`. */
  acme?: ServeAcmeOptions;
}

/**
 * `tls.acme` of {@link ServeOptions}.
 *
 * @example
 * ```ts
 * import type { ServeAcmeOptions } from "@alknet/core";
 * const o: ServeAcmeOptions = { domains: ["node.example.org"], http01: { port: 80 } };
 * console.log(o.domains.length); // 1
 * ```
 */
export interface ServeAcmeOptions {
  /** Domain names of the certificate (the first is its subject). */
  domains: string[];
  /** Contact e-mail for the ACME account. */
  email?: string;
  /** ACME directory URL (default Let's Encrypt production). */
  directoryUrl?: string;
  /** Where the HTTP-01 responder listens (default 0.0.0.0:80). */
  http01?: { hostname?: string; port?: number };
  /** Extra CA certificates (PEM text) trusted for the ACME server itself (test CAs). */
  caCerts?: string[];
  /** Renew when fewer days than this are left (default 30). */
  renewBeforeDays?: number;
  /** How often to check for renewal (default every 12 hours). */
  checkEveryMs?: number;
}

/**
 * A forwarding policy: any {@link ForwardingPolicy}, or rules with a default
 * (first matching rule wins; the default is `allow`).
 *
 * @example
 * ```ts
 * import type { PolicyOption } from "@alknet/core";
 * const p: PolicyOption = { default: "deny", rules: [{ action: "allow", target: "*.internal:443" }] };
 * console.log(p);
 * ```
 */
export type PolicyOption = ForwardingPolicy | {
  /** Decision when no rule matches (default `allow`). */
  default?: "allow" | "deny";
  /** Ordered rules. */
  rules?: PolicyRule[];
};

/**
 * `authorizedKeys` of {@link ServeOptions}: an OpenSSH `authorized_keys`
 * file path (re-read by `reload()`), parsed entries, or an authenticator.
 *
 * @example
 * ```ts
 * import { parseAuthorizedKeys } from "@alknet/core/auth";
 * import type { AuthorizedKeysOption } from "@alknet/core";
 * const fromFile: AuthorizedKeysOption = "/etc/alknet/authorized_keys";
 * const parsed: AuthorizedKeysOption = parseAuthorizedKeys("", "inline");
 * console.log(typeof fromFile, parsed.length); // string 0
 * ```
 */
export type AuthorizedKeysOption =
  | string
  | URL
  | AuthorizedKeysAuthenticator
  | readonly AuthorizedKeyEntry[];

/**
 * How one identity's standing changed, as an identity provider that
 * follows a database reports it (`@alknet/storage`'s `PeerChange` fits).
 *
 * @example
 * ```ts
 * import type { IdentityChange } from "@alknet/core";
 * const disabled: IdentityChange = { peerId: "alice", identity: null, revokedFingerprints: [] };
 * console.log(disabled.identity === null ? "refused now" : "allowed"); // "refused now"
 * ```
 */
export interface IdentityChange {
  /** The identity id concerned. */
  peerId: string;
  /** What it resolves to now; null when it is refused (disabled or removed). */
  identity: Identity | null;
  /** Key fingerprints that no longer resolve to it. */
  revokedFingerprints?: readonly string[];
}

/**
 * An identity provider that also reports changes (`@alknet/storage`'s
 * `StoreIdentityProvider` is one): `serve()` subscribes and closes the
 * sessions of identities that become refused (`closeSessionsOnRevoke`).
 *
 * @example
 * ```ts
 * import type { IdentityChange, WatchedIdentityProvider } from "@alknet/core";
 * const listeners = new Set<(c: IdentityChange) => void>();
 * const provider: WatchedIdentityProvider = {
 *   resolveFingerprint: () => null,
 *   resolveToken: () => null,
 *   onChange: (l) => (listeners.add(l), () => void listeners.delete(l)),
 * };
 * console.log(typeof provider.onChange); // "function"
 * ```
 */
export interface WatchedIdentityProvider extends IdentityProvider {
  /** Calls `listener` with every change from now on; returns the unsubscribe. */
  onChange?(listener: (change: IdentityChange) => void): () => unknown;
}

/**
 * The part of {@link ServeOptions} that `reload()` can change without a
 * restart: who may log in, where they may go, and the limits.
 *
 * @example
 * ```ts
 * import type { ServeReloadOptions } from "@alknet/core";
 * const next: ServeReloadOptions = { policy: { default: "deny" }, limits: { maxAuthFailures: 3 } };
 * console.log(next.limits); // { maxAuthFailures: 3 }
 * ```
 */
export interface ServeReloadOptions {
  /** Keys (and `cert-authority` CAs) that may log in and sign tokens. */
  authorizedKeys?: AuthorizedKeysOption;
  /** API keys accepted as tokens on the call carriers. */
  apiKeys?: readonly ApiKeyRecord[];
  /**
   * Any identity provider (a store, say), asked after `authorizedKeys`:
   * SSH keys by fingerprint, tokens and API keys by value. When it has
   * `onChange` ({@link WatchedIdentityProvider}), identities it stops
   * resolving lose their open sessions (`closeSessionsOnRevoke`).
   */
  identity?: WatchedIdentityProvider;
  /** Where forwards may go (default: everything not reserved). */
  policy?: PolicyOption;
  /** Connection limits (default: `DEFAULT_LIMITS`). */
  limits?: Partial<LimitSettings>;
}

/**
 * Options of `serve()`.
 *
 * @example
 * ```ts
 * import type { ServeOptions } from "@alknet/core";
 * const options: ServeOptions = {
 *   listen: ["0.0.0.0:2222", "tls://0.0.0.0:443"],
 *   hostKey: "/etc/alknet/host_key",
 *   authorizedKeys: "/etc/alknet/authorized_keys",
 *   tls: { selfSigned: true },
 *   dataDir: "/var/lib/alknet",
 * };
 * console.log(options.listen.length); // 2
 * ```
 */
export interface ServeOptions extends ServeReloadOptions {
  /**
   * Listen URLs: `HOST:PORT` or `tcp://` (SSH), `tls://`, `quic://`, `ws://`,
   * `wss://`, `iroh://[HOST:PORT][?relay=off]`; at least one. IPv6 in brackets.
   */
  listen: string | string[];
  /** The host key: a path, OpenSSH private key text, or a parsed key (or several). */
  hostKey?: PemSource | PrivateKey | (PemSource | PrivateKey)[];
  /** Parsed host keys (the same as `hostKey` with parsed values). */
  hostKeys?: PrivateKey[];
  /**
   * A custom SSH authenticator, used instead of `authorizedKeys` and
   * `identity` for SSH logins (tokens still use them).
   */
  authenticator?: SshAuthenticator;
  /** The certificate of `tls://`, `quic://` and `wss://` listeners. */
  tls?: ServeTlsOptions;
  /**
   * Where state lives: the self-signed certificate, ACME account and
   * certificates, the iroh node key. Needed for `tls.selfSigned` and
   * `tls.acme`; without it an `iroh://` node id changes at every start.
   */
  dataDir?: string;
  /** Answer every non-alknet HTTP request on TLS/WebSocket listeners like an ordinary web site. */
  stealth?: boolean;
  /** Serve the stealth site from this directory (needs `stealth`). */
  decoyDir?: string;
  /**
   * Stealth: relay connections that do not prove themselves to this web
   * server (`http://HOST:PORT`), bytes unchanged (needs `stealth`).
   */
  decoyUpstream?: string;
  /**
   * Offer the native data path (ALPN `alknet/tcp`) on `tls://`, `quic://`
   * and `iroh://` (default true); tokens resolve like the call carriers'.
   */
  nativePath?: boolean;
  /** Serve these operations on every carrier (an `OperationRegistry` from `@alknet/call`). */
  calls?: CallService;
  /**
   * Register `node/info`, `node/ping` and `node/ticks` on `calls` while the
   * node runs (default: on; names already registered are left alone).
   */
  nodeOperations?: false | { version?: string };
  /** Event log: a `Logger`, a function receiving records, or `false` (default: text on stderr). */
  logger?: LoggerOption;
  /**
   * Audit hook: logins accepted and refused (SSH keys, tokens, API keys on
   * the call carriers), SSH sessions opened and closed, reloads; never a
   * destination. Called synchronously: queue the write, do not block.
   */
  audit?: (event: NodeAuditEvent) => void;
  /**
   * Close the open SSH sessions and token-authenticated call connections
   * of an identity the `identity` provider reports as refused (disabled,
   * removed), and the SSH sessions of a key it revoked (default true).
   */
  closeSessionsOnRevoke?: boolean;
  /** Let remote forwards bind non-loopback addresses. */
  allowRemoteBind?: boolean;
  /** Send outbound tunnel traffic through `socks5://[user:pass@]H:P` or `http://H:P`. */
  egressProxy?: string;
  /** Outbound connections for tunnels (default: direct TCP; overrides `egressProxy`). */
  dial?: Dialer;
  /** A connection limiter of your own (its limits follow `limits` on reload). */
  limiter?: ConnectionLimiter;
  /** Pre-authentication timeout override (default: the limits', 30 s). */
  preauthTimeoutMs?: number;
  /** How long to wait for a client's first bytes (default 5 s). */
  peekTimeoutMs?: number;
  /** The iroh endpoint's 32-byte secret key (default: kept in `dataDir`, else random). */
  iroh?: { secretKey?: Uint8Array };
  /** How long `shutdown()` lets sessions drain (default 2000 ms). */
  drainMs?: number;
  /**
   * Also be a worker of a mesh head: dial `workerOf.url` and serve `calls`
   * there as `workerOf.name` (reconnecting; see `connect()`'s `worker`).
   */
  workerOf?: ServeWorkerOfOptions;
  /**
   * SSH server settings. `banner`: the identification line after
   * `SSH-2.0-` (software version, optionally a space and comments; default
   * `alknet`).
   */
  ssh?: { banner?: string };
  /**
   * Where `reload()` gets fresh options from (a configuration file, say);
   * merged over the current ones. Without it `reload()` re-reads the
   * `authorizedKeys` file.
   */
  reloadOptions?: () => ServeReloadOptions | Promise<ServeReloadOptions>;
  /** Low level: handlers for reserved `alknet-*` destinations (`alknet-control` serves `calls`). */
  reserved?: Record<string, ReservedChannelHandler>;
  /** Low level: handler for `alknet/call` streams when `calls` is not given. */
  call?: ConnHandler;
  /** Low level: HTTP handler on TLS/WebSocket listeners, asked before `/alknet/call` of `calls`. */
  http?: HttpHandler;
  /** Low level: resolve native-path tokens yourself. */
  nativeTcp?: { resolveToken: NativeTcpOptions["resolveToken"] };
}

/**
 * A parsed listen address.
 */
export interface ListenAddress {
  /** `tcp` for SSH on plain TCP, or `tls`, `quic`, `ws`, `wss`. */
  scheme: string;
  /** Host or IP literal (IPv6 without brackets). */
  host: string;
  /** Port (0 picks a free one). */
  port: number;
}

const LISTEN_SCHEMES = ["tcp", "tls", "quic", "ws", "wss"];

/**
 * Parses a listen address: `HOST:PORT`, `[IPv6]:PORT` or `SCHEME://HOST:PORT`.
 *
 * @throws {OptionError} (`listen`) when it is malformed.
 */
export function parseListenAddress(text: string): ListenAddress {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*?)\/?$/i.exec(text);
  const scheme = m ? m[1].toLowerCase() : "tcp";
  if (!LISTEN_SCHEMES.includes(scheme)) {
    throw new OptionError(
      "listen",
      `'${text}': unknown scheme ${scheme}:// (tcp, tls, quic, ws, wss or iroh)`,
    );
  }
  try {
    const { host, port } = parseHostPort(m ? m[2] : text);
    return { scheme, host, port };
  } catch (e) {
    if (e instanceof ForwardSpecError) {
      throw new OptionError("listen", `'${text}': ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/**
 * True for an `iroh://` listen URL.
 */
export function isIrohUrl(text: string): boolean {
  return /^iroh:\/\//i.test(text);
}

/**
 * The listen URLs as a non-empty list, each checked.
 *
 * @throws {OptionError} (`listen`) when empty or malformed.
 */
export function listenList(listen: string | string[] | undefined): string[] {
  const list = listen === undefined ? [] : typeof listen === "string" ? [listen] : [...listen];
  if (list.length === 0) throw new OptionError("listen", "at least one address is required");
  for (const l of list) if (!isIrohUrl(l)) parseListenAddress(l);
  return list;
}

/**
 * True when `value` is PEM (or OpenSSH key) text rather than a path.
 */
export function isPemText(value: PemSource): value is string {
  return typeof value === "string" && value.includes("-----BEGIN ");
}

/**
 * A path from a string or `file:` URL.
 */
export function pathOf(value: string | URL): string {
  if (typeof value === "string") return value;
  if (value.protocol !== "file:") {
    throw new OptionError("path", `'${value.href}' is not a file: URL`);
  }
  return decodeURIComponent(value.pathname);
}

/**
 * Reads or parses the host keys of {@link ServeOptions}.
 *
 * @throws {OptionError} (`hostKey`) when none is given or one cannot be read.
 */
export async function resolveHostKeys(
  options: Pick<ServeOptions, "hostKey" | "hostKeys">,
): Promise<PrivateKey[]> {
  const given = options.hostKey === undefined
    ? []
    : Array.isArray(options.hostKey)
    ? options.hostKey
    : [options.hostKey];
  const keys: PrivateKey[] = [...(options.hostKeys ?? [])];
  for (const k of given) {
    try {
      if (typeof k === "string" || k instanceof URL) {
        keys.push(
          isPemText(k) ? parsePrivateKey(k, "hostKey") : await readPrivateKeyFile(pathOf(k)),
        );
      } else {
        keys.push(k);
      }
    } catch (e) {
      if (e instanceof OptionError) throw e;
      throw new OptionError("hostKey", (e as Error).message, { cause: e });
    }
  }
  if (keys.length === 0) {
    throw new OptionError(
      "hostKey",
      "a host key is required (a path, OpenSSH private key text or a parsed key)",
    );
  }
  return keys;
}

/**
 * Checks the options that contradict each other.
 *
 * @throws {OptionError} naming the option.
 */
export function checkServeOptions(options: ServeOptions): void {
  if (options.ssh?.banner !== undefined) sshBannerIdent(options.ssh.banner, "ssh.banner");
  if (options.decoyDir !== undefined && !options.stealth) {
    throw new OptionError("decoyDir", "needs stealth");
  }
  if (options.decoyUpstream !== undefined && !options.stealth) {
    throw new OptionError("decoyUpstream", "needs stealth");
  }
  if (options.decoyDir !== undefined && options.decoyUpstream !== undefined) {
    throw new OptionError("decoyUpstream", "choose decoyDir or decoyUpstream");
  }
  const tls = options.tls;
  if (tls) {
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      throw new OptionError(tls.cert === undefined ? "tls.cert" : "tls.key", "goes with the other");
    }
    const sources = [tls.cert !== undefined, !!tls.selfSigned, tls.acme !== undefined]
      .filter(Boolean).length;
    if (sources > 1) {
      throw new OptionError("tls", "choose one of tls.cert/tls.key, tls.selfSigned and tls.acme");
    }
    if ((tls.selfSigned || tls.acme) && !options.dataDir) {
      throw new OptionError(
        "dataDir",
        `needed to keep the ${tls.acme ? "ACME" : "self-signed"} certificate`,
      );
    }
    if (tls.acme && (!Array.isArray(tls.acme.domains) || tls.acme.domains.length === 0)) {
      throw new OptionError("tls.acme.domains", "at least one domain is required");
    }
  }
}
