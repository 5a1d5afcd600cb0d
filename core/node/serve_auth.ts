/**
 * Who may use a node and where they may go, as `serve()` holds it: the
 * authorized keys, API keys, an identity provider, the forwarding policy and
 * the limits, built from options and swapped atomically by `reload()`.
 * Tokens (call carriers, native path) and SSH logins are checked here.
 *
 * @module
 */

import type {
  ForwardingPolicy,
  ForwardRestrictions,
  Identity,
  IdentityProvider,
  PolicyRequest,
  SshAuthDecision,
  SshAuthenticator,
  SshAuthRequest,
} from "../auth/identity.ts";
import { AuthorizedKeysAuthenticator, type TokenAuthResult } from "../auth/authenticator.ts";
import { ApiKeyStore } from "../auth/api_keys.ts";
import { RulePolicy } from "../auth/policy.ts";
import { algoMatchesKeyType, parsePublicKeyBlob } from "../auth/keys.ts";
import { isCertificateType } from "../auth/cert_auth.ts";
import { ConnectionLimiter, type LimitSettings, normalizeLimits } from "../transport/limits.ts";
import { CoreError, OptionError } from "../util/errors.ts";
import {
  pathOf,
  type PolicyOption,
  type ServeReloadOptions,
  type WatchedIdentityProvider,
} from "./serve_options.ts";

/** The live objects built from one set of {@link ServeReloadOptions}. */
interface AuthState {
  keys?: AuthorizedKeysAuthenticator;
  apiKeys?: ApiKeyStore;
  identity?: WatchedIdentityProvider;
  policy: ForwardingPolicy;
  limits: LimitSettings;
  ssh: SshAuthenticator;
}

/** A token that resolved, with the forwarding limits of its key. */
export interface TokenGrant {
  /** Who the token stands for. */
  identity: Identity;
  /** Limits from the key's `authorized_keys` options, when it has any. */
  restrictions?: ForwardRestrictions;
}

const TOKEN_REFUSALS: Record<Extract<TokenAuthResult, { ok: false }>["code"], string> = {
  malformed: "malformed token",
  expired: "token expired or not yet valid (tokens live 300 s; check the clocks)",
  "unknown-key": "the token's key is not authorized",
  "bad-signature": "bad token signature",
  from: "the token's key may not be used from this address",
  "key-expired": "the token's key has expired",
};

function built<T>(option: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof OptionError) throw e;
    throw new OptionError(option, (e as Error)?.message ?? String(e), { cause: e });
  }
}

function isPolicy(p: PolicyOption): p is ForwardingPolicy {
  return typeof (p as ForwardingPolicy).evaluate === "function";
}

async function authorizedKeysOf(
  option: ServeReloadOptions["authorizedKeys"],
  warn: (message: string) => void,
): Promise<AuthorizedKeysAuthenticator | undefined> {
  if (option === undefined) return undefined;
  if (option instanceof AuthorizedKeysAuthenticator) return option;
  if (typeof option === "string" || option instanceof URL) {
    const path = built("authorizedKeys", () => pathOf(option));
    try {
      return await AuthorizedKeysAuthenticator.fromFile(path, warn);
    } catch (e) {
      throw new OptionError("authorizedKeys", (e as Error).message, { cause: e });
    }
  }
  return built("authorizedKeys", () => new AuthorizedKeysAuthenticator(option));
}

/**
 * An SSH authenticator over an {@link IdentityProvider}: plain public keys
 * (not certificates) whose fingerprint the provider knows. A provider that
 * answers with a promise gets a promise back (the SSH server waits for it).
 */
function providerAuthenticator(provider: IdentityProvider): SshAuthenticator {
  return {
    authorize(req: SshAuthRequest): SshAuthDecision | Promise<SshAuthDecision> {
      let key;
      try {
        key = parsePublicKeyBlob(req.key instanceof Uint8Array ? req.key : new Uint8Array(req.key));
      } catch {
        return { ok: false, reason: "malformed key blob" };
      }
      if (isCertificateType(key.type)) {
        return { ok: false, reason: "certificates need a cert-authority in authorizedKeys" };
      }
      if (!algoMatchesKeyType(req.algo, key.type)) {
        return { ok: false, reason: `algorithm '${req.algo}' does not fit key type '${key.type}'` };
      }
      let found: Identity | null | Promise<Identity | null>;
      try {
        found = provider.resolveFingerprint(key.fingerprint);
      } catch (e) {
        return { ok: false, reason: `identity provider failed: ${(e as Error)?.message}` };
      }
      const verifyKey = key;
      const decide = (identity: Identity | null): SshAuthDecision =>
        identity
          ? {
            ok: true,
            identity,
            fingerprint: verifyKey.fingerprint,
            method: "publickey",
            restrictions: { noPortForwarding: false },
            verify: (data, signature, hashAlgo) => verifyKey.verify(data, signature, hashAlgo),
          }
          : {
            ok: false,
            fingerprint: verifyKey.fingerprint,
            reason: "key unknown to the provider",
          };
      if (!(found instanceof Promise)) return decide(found);
      return found.then(decide, (e) => ({
        ok: false,
        fingerprint: verifyKey.fingerprint,
        reason: `identity provider failed: ${(e as Error)?.message}`,
      }));
    },
  };
}

/** Authorized keys first, then the identity provider (synchronous unless one answers later). */
function chainAuthenticators(list: SshAuthenticator[]): SshAuthenticator {
  const from = (
    i: number,
    req: SshAuthRequest,
    refusal: SshAuthDecision,
  ): SshAuthDecision | Promise<SshAuthDecision> => {
    for (; i < list.length; i++) {
      const d = list[i].authorize(req);
      if (d instanceof Promise) return d.then((r) => r.ok ? r : from(i + 1, req, r));
      if (d.ok) return d;
      refusal = d;
    }
    return refusal;
  };
  return {
    authorize: (req) => from(0, req, { ok: false, reason: "no authorized keys are configured" }),
  };
}

async function buildState(
  options: ServeReloadOptions,
  custom: SshAuthenticator | undefined,
  warn: (message: string) => void,
): Promise<AuthState> {
  let keys = await authorizedKeysOf(options.authorizedKeys, warn);
  if (!keys && custom instanceof AuthorizedKeysAuthenticator) keys = custom;
  const apiKeys = options.apiKeys?.length
    ? built("apiKeys", () => new ApiKeyStore(options.apiKeys!))
    : undefined;
  const p = options.policy;
  const policy = p === undefined
    ? new RulePolicy([])
    : isPolicy(p)
    ? p
    : built("policy", () => new RulePolicy(p.rules ?? [], { defaultAction: p.default }));
  const limits = built("limits", () => normalizeLimits(options.limits));
  const chain: SshAuthenticator[] = [];
  if (keys) chain.push(keys);
  if (options.identity) chain.push(providerAuthenticator(options.identity));
  const ssh = custom ?? chainAuthenticators(chain);
  return { keys, apiKeys, identity: options.identity, policy, limits, ssh };
}

/**
 * The node's identity and policy state. Hand `authenticator`, `policy` and
 * `limiter` to the servers once: they always delegate to the current state,
 * which {@link NodeAuth.reload} replaces atomically.
 */
export class NodeAuth {
  #state: AuthState;
  #options: ServeReloadOptions;
  readonly #custom?: SshAuthenticator;
  readonly #warn: (message: string) => void;

  /** Always the current SSH authenticator. */
  readonly authenticator: SshAuthenticator;
  /** Always the current forwarding policy. */
  readonly policy: ForwardingPolicy;
  /** The connection limiter; its limits follow the options. */
  readonly limiter: ConnectionLimiter;

  private constructor(
    state: AuthState,
    options: ServeReloadOptions,
    custom: SshAuthenticator | undefined,
    limiter: ConnectionLimiter | undefined,
    warn: (message: string) => void,
  ) {
    this.#state = state;
    this.#options = options;
    this.#custom = custom;
    this.#warn = warn;
    this.authenticator = { authorize: (req) => this.#state.ssh.authorize(req) };
    this.policy = { evaluate: (req: PolicyRequest) => this.#state.policy.evaluate(req) };
    if (limiter) limiter.setLimits(state.limits);
    this.limiter = limiter ?? new ConnectionLimiter(state.limits);
  }

  /**
   * Builds the state from `options` (reads the `authorizedKeys` file).
   *
   * @throws {OptionError} naming the option that is invalid or unreadable.
   */
  static async create(
    options: ServeReloadOptions,
    extra: {
      authenticator?: SshAuthenticator;
      limiter?: ConnectionLimiter;
      warn?: (message: string) => void;
    } = {},
  ): Promise<NodeAuth> {
    const warn = extra.warn ?? (() => {});
    const state = await buildState(options, extra.authenticator, warn);
    return new NodeAuth(state, { ...options }, extra.authenticator, extra.limiter, warn);
  }

  /** The current identity provider, if any. */
  get identity(): WatchedIdentityProvider | undefined {
    return this.#state.identity;
  }

  /** True when some key, API key or provider could log in. */
  get hasLogins(): boolean {
    const s = this.#state;
    if (this.#custom && this.#custom !== s.keys) return true;
    return (s.keys?.entries.length ?? 0) > 0 || (s.apiKeys?.size ?? 0) > 0 ||
      s.identity !== undefined;
  }

  /**
   * Rebuilds the state from the current options with `changes` merged over
   * them (re-reading the `authorizedKeys` file), then swaps it in. On
   * failure the old state stays.
   *
   * @throws {OptionError} naming the option that is invalid or unreadable.
   */
  async reload(changes: ServeReloadOptions = {}): Promise<void> {
    const options = { ...this.#options, ...changes };
    const state = await buildState(options, this.#custom, this.#warn);
    this.limiter.setLimits(state.limits);
    this.#state = state;
    this.#options = options;
  }

  /**
   * Resolves a signed token or API key (`remoteAddress` applies `from=`).
   *
   * @throws {CoreError} (`token`) whose message says why the token is refused.
   */
  async authenticate(token: string, remoteAddress?: string): Promise<TokenGrant> {
    const s = this.#state;
    let why = "token refused";
    if (typeof token !== "string" || token === "") throw new CoreError("token", "empty token");
    if (token.startsWith("alk_")) {
      const identity = s.apiKeys?.resolve(token);
      if (identity) return { identity };
      why = "unknown, revoked or expired API key";
    } else if (s.keys) {
      const r = s.keys.authorizeToken(token, remoteAddress);
      if (r.ok) return { identity: r.identity, restrictions: r.restrictions };
      why = TOKEN_REFUSALS[r.code] ?? why;
    } else if (!s.identity) {
      why = "no keys are authorized on this node";
    }
    if (s.identity) {
      const identity = await s.identity.resolveToken(token);
      if (identity) return { identity };
    }
    throw new CoreError("token", why);
  }
}

/**
 * Follows the identity provider's changes (when it reports them) and closes
 * the SSH sessions of identities it now refuses, or of keys it revoked;
 * `onClosed` hears how many. Returns the unsubscribe.
 */
export function watchRevocations(
  provider: WatchedIdentityProvider | undefined,
  ssh: {
    closeSessions(
      id: string,
      options: { fingerprints?: readonly string[]; reason: string },
    ): number;
  },
  onClosed: (identityId: string, count: number, reason: string) => void,
): () => void {
  if (!provider || typeof provider.onChange !== "function") return () => {};
  const stop = provider.onChange((change) => {
    const revoked = change.revokedFingerprints ?? [];
    const [reason, options] = change.identity === null
      ? ["revoked", { reason: "revoked" }]
      : revoked.length > 0
      ? ["key-revoked", { fingerprints: revoked, reason: "key-revoked" }]
      : [undefined, undefined];
    if (!reason || !options) return;
    const n = ssh.closeSessions(change.peerId, options);
    if (n > 0) onClosed(change.peerId, n, reason);
  });
  return () => void stop();
}
