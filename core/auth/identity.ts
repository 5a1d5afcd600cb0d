/**
 * Who is on the other end and what they may do: the types shared by every
 * authentication method (SSH keys, certificates, tokens, API keys) and by the
 * forwarding policy.
 *
 * @module
 */

/**
 * An authenticated principal. `id` is stable (for SSH keys the key's
 * `SHA256:` fingerprint), `scopes` grant capabilities (`relay:connect` is the
 * default for a listed key) and `resources` name what the scopes apply to.
 *
 * @example
 * ```ts
 * import type { Identity } from "@alknet/core/auth";
 * const who: Identity = { id: "SHA256:abc", scopes: ["relay:connect"], resources: {} };
 * ```
 */
export interface Identity {
  /** Stable identifier: a key fingerprint, a peer id or an API key prefix. */
  id: string;
  /** Granted scopes, e.g. `relay:connect`. */
  scopes: string[];
  /** Resource names per resource type the scopes apply to. */
  resources: Record<string, string[]>;
}

/**
 * Looks identities up by key fingerprint or by token; implemented from the
 * configuration and from SQLite storage.
 *
 * @example
 * ```ts
 * import type { Identity, IdentityProvider } from "@alknet/core/auth";
 * const known = new Map<string, Identity>();
 * const provider: IdentityProvider = {
 *   resolveFingerprint: (fp) => known.get(fp) ?? null,
 *   resolveToken: () => null,
 * };
 * ```
 */
export interface IdentityProvider {
  /** The identity holding the key with this `SHA256:` fingerprint, or null. */
  resolveFingerprint(fingerprint: string): Identity | null | Promise<Identity | null>;
  /** The identity a token or API key stands for, or null when it is not valid. */
  resolveToken(token: string): Identity | null | Promise<Identity | null>;
}

/**
 * Per-key limits on forwarding that come from `authorized_keys` options or
 * certificate extensions.
 *
 * @example
 * ```ts
 * import type { ForwardRestrictions } from "@alknet/core/auth";
 * const r: ForwardRestrictions = { noPortForwarding: false, permitOpen: ["db:5432"] };
 * ```
 */
export interface ForwardRestrictions {
  /** No forwarding of any kind (`no-port-forwarding`, or a certificate without `permit-port-forwarding`). */
  noPortForwarding: boolean;
  /** When set, only these `host:port` targets may be opened (`permitopen=`). */
  permitOpen?: string[];
  /** When set, only these `[host:]port` binds may be listened on (`permitlisten=`). */
  permitListen?: string[];
}

/**
 * One public-key authentication attempt as the SSH server sees it.
 *
 * @example
 * ```ts
 * import type { SshAuthRequest } from "@alknet/core/auth";
 * const req: SshAuthRequest = {
 *   algo: "ssh-ed25519", key: new Uint8Array(51), username: "me",
 *   remoteAddress: "127.0.0.1", remotePort: 50000,
 * };
 * ```
 */
export interface SshAuthRequest {
  /** The key algorithm the client named, e.g. `ssh-ed25519` or `ssh-ed25519-cert-v01@openssh.com`. */
  algo: string;
  /** The public key (or certificate) blob in SSH wire format. */
  key: Uint8Array;
  /** The user name the client sent (alknet ignores it for authorization). */
  username: string;
  /** The client's IP address. */
  remoteAddress: string;
  /** The client's TCP port. */
  remotePort: number;
}

/**
 * The answer of an {@link SshAuthenticator}: either a grant, which still needs
 * the client's signature checked with `verify`, or a refusal.
 *
 * @example
 * ```ts
 * import type { SshAuthDecision } from "@alknet/core/auth";
 * const no: SshAuthDecision = { ok: false, reason: "unknown key", fingerprint: "SHA256:x" };
 * ```
 */
export type SshAuthDecision =
  | {
    ok: true;
    /** Who the client is once the signature checks out. */
    identity: Identity;
    /** `SHA256:` fingerprint of the key that signs (the certified key for a certificate). */
    fingerprint: string;
    /** How the client authenticated. */
    method: "publickey" | "cert";
    /** Forwarding limits attached to this key or certificate. */
    restrictions: ForwardRestrictions;
    /** The certificate key id, for the log, when `method` is `cert`. */
    certKeyId?: string;
    /** Checks the client's signature over `data` (the SSH session data to sign). */
    verify(data: Uint8Array, signature: Uint8Array, hashAlgo?: string): boolean;
  }
  | {
    ok: false;
    /** Why the key is refused (for the log, never sent to the client). */
    reason: string;
    /** Fingerprint of the offered key, when it could be computed. */
    fingerprint?: string;
  };

/**
 * Decides whether an offered SSH public key or certificate may log in.
 *
 * @example
 * ```ts
 * import type { SshAuthenticator } from "@alknet/core/auth";
 * const denyAll: SshAuthenticator = {
 *   authorize: () => ({ ok: false, reason: "no keys configured" }),
 * };
 * ```
 */
export interface SshAuthenticator {
  /**
   * Evaluates one offered key; must not throw on hostile input. It may
   * answer later (a promise, e.g. an identity looked up in a database): the
   * SSH server waits for it, bounded by the pre-auth timeout, and a
   * rejected promise is a refusal.
   */
  authorize(request: SshAuthRequest): SshAuthDecision | Promise<SshAuthDecision>;
}

/**
 * One forwarding decision to make: an outbound connection (`connect`: SOCKS
 * CONNECT, `direct-tcpip`) or a remote-forward bind (`listen`).
 *
 * @example
 * ```ts
 * import type { PolicyRequest } from "@alknet/core/auth";
 * const req: PolicyRequest = {
 *   kind: "connect", host: "example.com", port: 443, transport: "tcp",
 *   identity: { id: "SHA256:x", scopes: [], resources: {} },
 * };
 * ```
 */
export interface PolicyRequest {
  /** `connect` for outbound connections, `listen` for remote-forward binds. */
  kind: "connect" | "listen";
  /** Target host name or IP literal (bind address for `listen`). */
  host: string;
  /** Target port (bind port for `listen`). */
  port: number;
  /** Who asks. */
  identity: Identity;
  /** The transport the session arrived on: `tcp`, `tls`, `quic`, `ws`, ... */
  transport: string;
}

/**
 * The forwarding policy: ordered rules, first match wins, else a default.
 *
 * @example
 * ```ts
 * import type { ForwardingPolicy } from "@alknet/core/auth";
 * const allowAll: ForwardingPolicy = { evaluate: () => "allow" };
 * ```
 */
export interface ForwardingPolicy {
  /** `allow` or `deny` for one request. */
  evaluate(request: PolicyRequest): "allow" | "deny";
}
