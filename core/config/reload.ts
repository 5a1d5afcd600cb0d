/**
 * The dynamic part of the configuration (authorized keys, CAs, API keys,
 * forwarding policy, limits) as live objects, and {@link ConfigReloader},
 * which re-reads the file and swaps them atomically.
 *
 * @module
 */

import type {
  ForwardingPolicy,
  Identity,
  IdentityProvider,
  PolicyRequest,
  SshAuthDecision,
  SshAuthRequest,
} from "../auth/identity.ts";
import { AuthorizedKeysAuthenticator, AuthorizedKeysFileError } from "../auth/authenticator.ts";
import { ApiKeyStore } from "../auth/api_keys.ts";
import { ConfigIdentityProvider } from "../auth/provider.ts";
import { RulePolicy } from "../auth/policy.ts";
import { ConnectionLimiter, type LimitSettings, normalizeLimits } from "../transport/limits.ts";
import type { ServeOptions } from "../node/serve_options.ts";
import { loadConfig, type LoadConfigOptions } from "./load.ts";
import { type AlknetConfig, ConfigError, type ServerConfig } from "./schema.ts";

/**
 * Live objects built from the dynamic part of a configuration.
 *
 * @example
 * ```ts
 * import { buildDynamic, defaultConfig } from "@alknet/core/config";
 * const d = await buildDynamic(defaultConfig());
 * console.log(d.authenticator.entries.length); // 0
 * ```
 */
export interface DynamicConfig {
  /** SSH keys and certificates from `auth.authorized_keys`. */
  authenticator: AuthorizedKeysAuthenticator;
  /** `[[auth.api_keys]]`. */
  apiKeys: ApiKeyStore;
  /** Fingerprint, token and API key lookups. */
  identities: ConfigIdentityProvider;
  /** `[forwarding]` rules. */
  policy: RulePolicy;
  /** `[limits]`, validated. */
  limits: LimitSettings;
}

/**
 * Options of {@link buildDynamic} and {@link ConfigReloader}.
 *
 * @example
 * ```ts
 * import type { BuildOptions } from "@alknet/core/config";
 * const o: BuildOptions = { warn: (m) => console.error(m) };
 * ```
 */
export interface BuildOptions {
  /** Receives warnings (skipped `authorized_keys` lines, no keys configured). */
  warn?: (message: string) => void;
  /** Clock in Unix milliseconds for key and certificate expiry (default `Date.now`). */
  now?: () => number;
}

/**
 * Builds the live dynamic objects; reads the `authorized_keys` file.
 *
 * @throws {ConfigError} when the authorized_keys file cannot be read or a limit is invalid.
 * @example
 * ```ts
 * import { buildDynamic, defaultConfig } from "@alknet/core/config";
 * const d = await buildDynamic({ ...defaultConfig(), forwarding: { default: "deny", rules: [] } });
 * console.log(d.policy.defaultAction); // deny
 * ```
 */
export async function buildDynamic(
  config: AlknetConfig,
  options: BuildOptions = {},
): Promise<DynamicConfig> {
  const warn = options.warn ?? (() => {});
  const authOpts = options.now ? { now: options.now } : {};
  let authenticator: AuthorizedKeysAuthenticator;
  if (config.auth.authorizedKeys) {
    try {
      authenticator = await AuthorizedKeysAuthenticator.fromFile(
        config.auth.authorizedKeys,
        warn,
        authOpts,
      );
    } catch (e) {
      if (e instanceof AuthorizedKeysFileError) {
        throw new ConfigError([{
          source: "config",
          key: "auth.authorized_keys",
          message: e.message,
        }], { cause: e });
      }
      throw e;
    }
  } else {
    // With [storage] db the database's peers log in instead.
    if (config.storage?.db === undefined) {
      warn("auth.authorized_keys is not set: no SSH key can log in");
    }
    authenticator = new AuthorizedKeysAuthenticator([], authOpts);
  }
  const apiKeys = new ApiKeyStore(config.auth.apiKeys, authOpts);
  let limits: LimitSettings;
  try {
    limits = normalizeLimits(config.limits);
  } catch (e) {
    throw new ConfigError([{ source: "config", key: "limits", message: (e as Error).message }], {
      cause: e,
    });
  }
  return {
    authenticator,
    apiKeys,
    identities: new ConfigIdentityProvider(authenticator, apiKeys),
    policy: new RulePolicy(config.forwarding.rules, { defaultAction: config.forwarding.default }),
    limits,
  };
}

/**
 * Outcome of one {@link ConfigReloader.reload}.
 *
 * @example
 * ```ts
 * import type { ReloadResult } from "@alknet/core/config";
 * function log(r: ReloadResult): string {
 *   return r.ok ? `reloaded; restart needed for: ${r.restartNeeded.join(",") || "nothing"}` : `kept old config: ${r.error.message}`;
 * }
 * ```
 */
export type ReloadResult =
  | {
    ok: true;
    /** Static keys (`server.*`, `ssh.banner`, `storage.db`) that changed in the file but only apply after a restart. */
    restartNeeded: string[];
  }
  | {
    ok: false;
    /** Why the new configuration was refused; the old one stays. */
    error: Error;
  };

const STATIC_KEYS: Record<keyof ServerConfig, string> = {
  listen: "server.listen",
  hostKey: "server.host_key",
  logFormat: "server.log_format",
  allowRemoteBind: "server.allow_remote_bind",
  stealth: "server.stealth",
  decoyDir: "server.decoy_dir",
  decoyUpstream: "server.decoy_upstream",
};

/**
 * Holds the effective configuration and its live dynamic objects, and
 * reloads them on demand (or on SIGHUP via {@link ConfigReloader.watchSignal}).
 * A reload that fails validation keeps the old configuration and reports
 * why. Hand `reloader.authenticator`, `reloader.policy`,
 * `reloader.identities` and `reloader.limiter` to the server once: they
 * always delegate to the current configuration.
 *
 * @example
 * ```ts
 * import { ConfigReloader } from "@alknet/core/config";
 * const reloader = await ConfigReloader.create({ env: {} });
 * const result = await reloader.reload();
 * console.log(result.ok, reloader.config.server.listen); // true [ "127.0.0.1:2222" ]
 * ```
 */
export class ConfigReloader {
  #state: { config: AlknetConfig; dynamic: DynamicConfig };
  readonly #load: LoadConfigOptions;
  readonly #build: BuildOptions;
  readonly #listeners = new Set<(r: ReloadResult) => void>();
  #chain: Promise<unknown> = Promise.resolve();
  readonly #path?: string;

  /** Always the current authenticator. */
  readonly authenticator: { authorize(request: SshAuthRequest): SshAuthDecision };
  /** Always the current forwarding policy. */
  readonly policy: ForwardingPolicy;
  /** Always the current identity provider (fingerprints, tokens, API keys). */
  readonly identities: IdentityProvider;
  /** The connection limiter; its limits follow the configuration. */
  readonly limiter: ConnectionLimiter;

  private constructor(
    config: AlknetConfig,
    dynamic: DynamicConfig,
    path: string | undefined,
    load: LoadConfigOptions,
    build: BuildOptions,
  ) {
    this.#state = { config, dynamic };
    this.#path = path;
    this.#load = load;
    this.#build = build;
    this.authenticator = {
      authorize: (req: SshAuthRequest): SshAuthDecision =>
        this.#state.dynamic.authenticator.authorize(req),
    };
    this.policy = {
      evaluate: (req: PolicyRequest): "allow" | "deny" => this.#state.dynamic.policy.evaluate(req),
    };
    this.identities = {
      resolveFingerprint: (fp: string): Identity | null =>
        this.#state.dynamic.identities.resolveFingerprint(fp),
      resolveToken: (t: string): Identity | null => this.#state.dynamic.identities.resolveToken(t),
    };
    this.limiter = new ConnectionLimiter(dynamic.limits, build.now ? { now: build.now } : {});
  }

  /**
   * Loads the configuration and builds the dynamic objects.
   *
   * @throws {ConfigError} when the initial configuration is invalid.
   */
  static async create(options: LoadConfigOptions & BuildOptions = {}): Promise<ConfigReloader> {
    const { warn, now, ...load } = options;
    const build: BuildOptions = {};
    if (warn) build.warn = warn;
    if (now) build.now = now;
    const { config, path } = await loadConfig(load);
    const dynamic = await buildDynamic(config, build);
    return new ConfigReloader(config, dynamic, path, load, build);
  }

  /** The effective configuration (static part as started, dynamic part as last reloaded). */
  get config(): AlknetConfig {
    return this.#state.config;
  }

  /** The current live dynamic objects. */
  get dynamic(): DynamicConfig {
    return this.#state.dynamic;
  }

  /** The configuration file, if any. */
  get path(): string | undefined {
    return this.#path;
  }

  /**
   * The configuration as `serve()` options: listen addresses, host key,
   * remote binds, and the current authorized keys, API keys, policy and
   * limits. Pass it to `serve()`, and return it again from its
   * `reloadOptions` after a successful {@link ConfigReloader.reload}.
   *
   * @example
   * ```ts
   * import { ConfigReloader } from "@alknet/core/config";
   * const reloader = await ConfigReloader.create({ env: {} });
   * console.log(reloader.serveOptions().listen); // [ "127.0.0.1:2222" ]
   * ```
   */
  serveOptions(): Pick<
    ServeOptions,
    | "listen"
    | "hostKey"
    | "allowRemoteBind"
    | "stealth"
    | "decoyDir"
    | "decoyUpstream"
    | "authorizedKeys"
    | "apiKeys"
    | "policy"
    | "limits"
    | "ssh"
  > {
    const { config, dynamic } = this.#state;
    return {
      listen: [...config.server.listen],
      hostKey: config.server.hostKey,
      allowRemoteBind: config.server.allowRemoteBind,
      stealth: config.server.stealth,
      decoyDir: config.server.decoyDir,
      decoyUpstream: config.server.decoyUpstream,
      authorizedKeys: dynamic.authenticator,
      apiKeys: config.auth.apiKeys,
      policy: dynamic.policy,
      limits: dynamic.limits,
      ssh: config.ssh ? { ...config.ssh } : undefined,
    };
  }

  /**
   * Re-reads the file and environment (flags stay), validates, rebuilds the
   * dynamic part and swaps it in atomically. On failure the old
   * configuration stays and the result carries the error. Reloads run one
   * at a time.
   */
  reload(): Promise<ReloadResult> {
    const run = this.#chain.then(() => this.#reloadOnce());
    this.#chain = run.catch(() => {});
    return run;
  }

  async #reloadOnce(): Promise<ReloadResult> {
    let result: ReloadResult;
    try {
      const { config } = await loadConfig(this.#load);
      const dynamic = await buildDynamic(config, this.#build);
      const old = this.#state.config;
      const restartNeeded = (Object.keys(STATIC_KEYS) as (keyof ServerConfig)[])
        .filter((k) => JSON.stringify(old.server[k]) !== JSON.stringify(config.server[k]))
        .map((k) => STATIC_KEYS[k]);
      if (old.ssh?.banner !== config.ssh?.banner) restartNeeded.push("ssh.banner");
      if (old.storage?.db !== config.storage?.db) restartNeeded.push("storage.db");
      this.limiter.setLimits(dynamic.limits);
      const kept = { server: old.server, ssh: old.ssh, storage: old.storage };
      this.#state = { config: { ...config, ...kept }, dynamic };
      result = { ok: true, restartNeeded };
    } catch (e) {
      result = { ok: false, error: e instanceof Error ? e : new Error(String(e)) };
    }
    for (const l of this.#listeners) {
      try {
        l(result);
      } catch {
        // a listener's failure must not break reloading
      }
    }
    return result;
  }

  /**
   * Calls `listener` after every reload attempt; returns a function that
   * removes it.
   */
  onReload(listener: (result: ReloadResult) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Reloads whenever the process receives `signal` (default `SIGHUP`);
   * returns a function that stops listening. Report results with
   * {@link ConfigReloader.onReload}.
   */
  watchSignal(signal: Deno.Signal = "SIGHUP"): () => void {
    const handler = () => void this.reload();
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  }
}
