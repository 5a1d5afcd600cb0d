/**
 * Keys for `serve --vault` and `connect --vault`: the SSH host key and the
 * identity key derived from a vault keystore.
 *
 * @module
 */

import { type PrivateKey, privateKeyFromSeed } from "@alknet/core/auth";
import { loadVaultKeys } from "./vault_unlock.ts";

/**
 * Unlocks the keystore (passphrase from `ALKNET_VAULT_PASSPHRASE` or a
 * prompt), derives the requested key and wipes the derived seeds.
 */
export async function vaultKey(keystore: string, which: "identity" | "host"): Promise<PrivateKey> {
  const { identitySeed, hostSeed } = await loadVaultKeys(keystore);
  try {
    return privateKeyFromSeed(
      which === "host" ? hostSeed : identitySeed,
      which === "host"
        ? "alknet host (vault m/74'/0'/1'/0')"
        : "alknet identity (vault m/74'/0'/0'/0')",
    );
  } finally {
    identitySeed.fill(0);
    hostSeed.fill(0);
  }
}
