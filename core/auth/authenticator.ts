/**
 * `AuthorizedKeysAuthenticator`: the SSH public-key (and certificate)
 * authenticator built from an `authorized_keys` file.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
import { fsErrorReason } from "../util/fs_errors.ts";
import type {
  ForwardRestrictions,
  Identity,
  SshAuthDecision,
  SshAuthenticator,
  SshAuthRequest,
} from "./identity.ts";
import {
  type AuthorizedKeyEntry,
  matchFrom,
  parseAuthorizedKeys,
  type WarnFn,
} from "./authorized_keys.ts";
import { algoMatchesKeyType, keyTypeOf } from "./keys.ts";
import { fingerprint as fingerprintOf } from "./ssh_keys.ts";
import { authorizeCertificate, isCertificateType } from "./cert_auth.ts";
import { SshReader } from "./ssh_wire.ts";
import { TokenError, tokenKeyId, verifyToken } from "./token.ts";
import { timingSafeEqual } from "./ct.ts";

/**
 * Result of {@link AuthorizedKeysAuthenticator.authorizeToken}.
 *
 * @example
 * ```ts
 * import type { TokenAuthResult } from "@alknet/core/auth";
 * const r: TokenAuthResult = { ok: false, reason: "token expired", code: "expired" };
 * ```
 */
export type TokenAuthResult =
  | {
    ok: true;
    /** Who signed the token (id = the SSH key's `SHA256:` fingerprint). */
    identity: Identity;
    /** `SHA256:` fingerprint of the signing key. */
    fingerprint: string;
    /** Forwarding limits of the key's `authorized_keys` line. */
    restrictions: ForwardRestrictions;
  }
  | {
    ok: false;
    /** Why (for the log). */
    reason: string;
    /** Machine-readable cause. */
    code: "malformed" | "expired" | "unknown-key" | "bad-signature" | "from" | "key-expired";
  };

/**
 * Thrown by {@link AuthorizedKeysAuthenticator.fromFile} when the file cannot
 * be read.
 *
 * @example
 * ```ts
 * import { AuthorizedKeysAuthenticator, AuthorizedKeysFileError } from "@alknet/core/auth";
 * try {
 *   await AuthorizedKeysAuthenticator.fromFile("/nonexistent/authorized_keys");
 * } catch (e) {
 *   console.log(e instanceof AuthorizedKeysFileError); // true
 * }
 * ```
 */
export class AuthorizedKeysFileError extends CoreError {
  /** The file that could not be read. */
  readonly path: string;
  /** Creates the error for `path`; `reason` says why (missing, permission, ...). */
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super("authorized-keys", `cannot read authorized_keys file '${path}': ${reason}`, options);
    this.name = "AuthorizedKeysFileError";
    this.path = path;
  }
}

/**
 * Options of {@link AuthorizedKeysAuthenticator}.
 *
 * @example
 * ```ts
 * import type { AuthenticatorOptions } from "@alknet/core/auth";
 * const opts: AuthenticatorOptions = { now: () => Date.parse("2030-01-01T00:00:00Z") };
 * ```
 */
export interface AuthenticatorOptions {
  /** Clock in Unix milliseconds (default `Date.now`), for `expiry-time=` and certificates. */
  now?: () => number;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/**
 * The forwarding limits an `authorized_keys` line carries.
 *
 * @example
 * ```ts
 * import { parseAuthorizedKeys } from "@alknet/core/auth";
 * import { restrictionsOf } from "@alknet/core/auth";
 * const [e] = parseAuthorizedKeys(
 *   'permitopen="db:5432" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBERERERERERERERERERERERERERERERERERERERERER',
 *   "keys",
 * );
 * console.log(restrictionsOf(e).permitOpen); // [ "db:5432" ]
 * ```
 */
export function restrictionsOf(entry: AuthorizedKeyEntry): ForwardRestrictions {
  const r: ForwardRestrictions = { noPortForwarding: entry.options.noPortForwarding };
  if (entry.options.permitOpen) r.permitOpen = [...entry.options.permitOpen];
  if (entry.options.permitListen) r.permitListen = [...entry.options.permitListen];
  return r;
}

/**
 * Authenticates SSH public keys and OpenSSH user certificates against parsed
 * `authorized_keys` entries. Plain keys match by blob equality; certificates
 * match `cert-authority` lines by CA key. The identity id is the signing key's
 * `SHA256:` fingerprint; scopes come from `alknet-scopes=` (default
 * `relay:connect`). `authorize` never throws.
 *
 * @example
 * ```ts
 * import { AuthorizedKeysAuthenticator } from "@alknet/core/auth";
 * const auth = AuthorizedKeysAuthenticator.fromText(
 *   "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBERERERERERERERERERERERERERERERERERERERERER alice",
 *   "inline",
 * );
 * const d = auth.authorize({
 *   algo: "ssh-ed25519", key: new Uint8Array(51), username: "x",
 *   remoteAddress: "127.0.0.1", remotePort: 1,
 * });
 * console.log(d.ok); // false
 * ```
 */
export class AuthorizedKeysAuthenticator implements SshAuthenticator {
  readonly #entries: readonly AuthorizedKeyEntry[];
  readonly #byFingerprint = new Map<string, AuthorizedKeyEntry[]>();
  readonly #cas: AuthorizedKeyEntry[] = [];
  readonly #now: () => number;
  readonly #tokenKeys: { id: Uint8Array; pub: Uint8Array; entry: AuthorizedKeyEntry }[] = [];

  /** Builds the authenticator from already parsed entries. */
  constructor(entries: readonly AuthorizedKeyEntry[], options: AuthenticatorOptions = {}) {
    this.#entries = [...entries];
    this.#now = options.now ?? Date.now;
    for (const e of this.#entries) {
      if (e.options.certAuthority) {
        this.#cas.push(e);
        continue;
      }
      if (e.key.type === "ssh-ed25519") {
        const r = new SshReader(e.key.blob);
        r.readString();
        const pub = r.readString().slice();
        this.#tokenKeys.push({ id: tokenKeyId(pub), pub, entry: e });
      }
      const list = this.#byFingerprint.get(e.key.fingerprint) ?? [];
      list.push(e);
      this.#byFingerprint.set(e.key.fingerprint, list);
    }
  }

  /**
   * Parses `text` (see {@link parseAuthorizedKeys}) and builds the
   * authenticator; bad lines go to `warn`.
   */
  static fromText(
    text: string,
    source: string,
    warn?: WarnFn,
    options?: AuthenticatorOptions,
  ): AuthorizedKeysAuthenticator {
    return new AuthorizedKeysAuthenticator(parseAuthorizedKeys(text, source, warn), options);
  }

  /**
   * Reads and parses an `authorized_keys` file.
   *
   * @throws {AuthorizedKeysFileError} when the file is missing or unreadable.
   */
  static async fromFile(
    path: string,
    warn?: WarnFn,
    options?: AuthenticatorOptions,
  ): Promise<AuthorizedKeysAuthenticator> {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      throw new AuthorizedKeysFileError(path, fsErrorReason(e), { cause: e });
    }
    return AuthorizedKeysAuthenticator.fromText(text, path, warn, options);
  }

  /** The entries this authenticator was built from. */
  get entries(): readonly AuthorizedKeyEntry[] {
    return this.#entries;
  }

  /** The identity of a listed plain key by `SHA256:` fingerprint, or null. */
  resolveFingerprint(fingerprint: string): Identity | null {
    const e = this.#byFingerprint.get(fingerprint)?.[0];
    return e ? { id: fingerprint, scopes: [...e.options.scopes], resources: {} } : null;
  }

  /**
   * Checks a signed token (docs/reference/wire-formats.md) against the listed plain `ssh-ed25519`
   * keys, honouring their `expiry-time=` and, when `remoteAddress` is given,
   * `from=`. Never throws.
   *
   * @param token the token text
   * @param remoteAddress client IP, for `from=`
   * @param nowSeconds Unix seconds (default: the authenticator's clock)
   */
  authorizeToken(token: string, remoteAddress?: string, nowSeconds?: number): TokenAuthResult {
    const now = nowSeconds ?? Math.floor(this.#now() / 1000);
    let candidates: AuthorizedKeyEntry[] = [];
    try {
      verifyToken(token, (keyId) => {
        candidates = this.#tokenKeys.filter((k) => timingSafeEqual(k.id, keyId)).map((k) =>
          k.entry
        );
        const hit = this.#tokenKeys.find((k) => timingSafeEqual(k.id, keyId));
        return hit ? hit.pub : null;
      }, now);
    } catch (e) {
      if (e instanceof TokenError) return { ok: false, reason: e.message, code: e.reason };
      return {
        ok: false,
        reason: `token check failed: ${(e as Error)?.message}`,
        code: "malformed",
      };
    }
    let result: TokenAuthResult = {
      ok: false,
      reason: "token key not listed",
      code: "unknown-key",
    };
    for (const e of candidates) {
      if (
        e.options.from && remoteAddress !== undefined && !matchFrom(e.options.from, remoteAddress)
      ) {
        result = {
          ok: false,
          reason: `from= does not allow ${remoteAddress} (${e.source}:${e.line})`,
          code: "from",
        };
        continue;
      }
      if (e.options.expiresAt !== undefined && now * 1000 >= e.options.expiresAt) {
        result = {
          ok: false,
          reason: `key expired by expiry-time= (${e.source}:${e.line})`,
          code: "key-expired",
        };
        continue;
      }
      return {
        ok: true,
        identity: { id: e.key.fingerprint, scopes: [...e.options.scopes], resources: {} },
        fingerprint: e.key.fingerprint,
        restrictions: restrictionsOf(e),
      };
    }
    return result;
  }

  /** The identity a signed token stands for, or null (see {@link authorizeToken}). */
  resolveToken(token: string): Identity | null {
    const r = this.authorizeToken(token);
    return r.ok ? r.identity : null;
  }

  /** Evaluates one offered key or certificate. Never throws. */
  authorize(request: SshAuthRequest): SshAuthDecision {
    try {
      return this.#authorize(request);
    } catch (e) {
      return { ok: false, reason: `internal error: ${(e as Error)?.message ?? String(e)}` };
    }
  }

  #authorize(req: SshAuthRequest): SshAuthDecision {
    const key = req.key instanceof Uint8Array ? req.key : new Uint8Array(req.key);
    const blobType = keyTypeOf(key);
    if (blobType === null) return { ok: false, reason: "malformed key blob" };
    if (isCertificateType(blobType)) {
      return authorizeCertificate(
        req.algo,
        key,
        req.remoteAddress,
        String(req.username ?? ""),
        this.#cas,
        this.#now(),
      );
    }
    const fingerprint = fingerprintOf(key);
    const candidates = this.#byFingerprint.get(fingerprint) ?? [];
    let reason = "key not in authorized_keys";
    for (const e of candidates) {
      if (!bytesEqual(e.key.blob, key)) continue;
      if (!algoMatchesKeyType(req.algo, e.key.type)) {
        reason = `algorithm '${req.algo}' does not fit key type '${e.key.type}'`;
        continue;
      }
      if (e.options.from && !matchFrom(e.options.from, req.remoteAddress)) {
        reason = `from= does not allow ${req.remoteAddress} (${e.source}:${e.line})`;
        continue;
      }
      if (e.options.expiresAt !== undefined && this.#now() >= e.options.expiresAt) {
        reason = `key expired by expiry-time= (${e.source}:${e.line})`;
        continue;
      }
      const verifyKey = e.key;
      return {
        ok: true,
        identity: { id: fingerprint, scopes: [...e.options.scopes], resources: {} },
        fingerprint,
        method: "publickey",
        restrictions: restrictionsOf(e),
        verify: (data, signature, hashAlgo) => verifyKey.verify(data, signature, hashAlgo),
      };
    }
    return { ok: false, reason, fingerprint };
  }
}
