/**
 * An {@link IdentityProvider} over the configuration: SSH keys and signed
 * tokens from `authorized_keys`, API keys from the `[[auth.api_keys]]` list.
 *
 * @module
 */

import type { Identity, IdentityProvider } from "./identity.ts";
import type { AuthorizedKeysAuthenticator } from "./authenticator.ts";
import type { ApiKeyStore } from "./api_keys.ts";

/**
 * Resolves fingerprints and tokens from config-backed stores. A token
 * starting with `alk_` is an API key; anything else is a signed token.
 *
 * @example
 * ```ts
 * import { AuthorizedKeysAuthenticator } from "@alknet/core/auth";
 * import { ApiKeyStore, generateApiKey } from "@alknet/core/auth";
 * import { ConfigIdentityProvider } from "@alknet/core/auth";
 * const { key, record } = generateApiKey();
 * const provider = new ConfigIdentityProvider(
 *   AuthorizedKeysAuthenticator.fromText("", "none"),
 *   new ApiKeyStore([record]),
 * );
 * console.log(provider.resolveToken(key)?.id === record.prefix); // true
 * ```
 */
export class ConfigIdentityProvider implements IdentityProvider {
  readonly #keys: AuthorizedKeysAuthenticator;
  readonly #apiKeys?: ApiKeyStore;

  /** Combines an authenticator and (optionally) an API key store. */
  constructor(keys: AuthorizedKeysAuthenticator, apiKeys?: ApiKeyStore) {
    this.#keys = keys;
    this.#apiKeys = apiKeys;
  }

  /** The identity of a listed key by `SHA256:` fingerprint, or null. */
  resolveFingerprint(fingerprint: string): Identity | null {
    return this.#keys.resolveFingerprint(fingerprint);
  }

  /** The identity of an API key or signed token, or null when not valid. */
  resolveToken(token: string): Identity | null {
    if (typeof token !== "string") return null;
    if (token.startsWith("alk_")) return this.#apiKeys?.resolve(token) ?? null;
    return this.#keys.resolveToken(token);
  }
}
