/**
 * Vault benchmarks (`deno bench -A bench/vault_bench.ts`): key derivation
 * (cold and cached), AES-256-GCM sealing against raw WebCrypto AES-GCM, and
 * keystore unlock at the default scrypt cost.
 *
 * @module
 */

import {
  createKeystore,
  DEFAULT_SCRYPT_PARAMS,
  MnemonicSecret,
  mnemonicToSeed,
  openKeystore,
  parsePath,
  slip10Derive,
  Vault,
} from "@alknet/vault";
import * as bip39 from "@scure/bip39";

const ABOUT =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const PATH4 = "m/74'/0'/1'/0'"; // four hardened levels (the SSH host key)
const seed = await mnemonicToSeed(ABOUT);

const cold = new Vault({ cacheCapacity: 0 }); // every lookup misses
cold.unlockWithSeed(seed);
const cached = new Vault();
cached.unlockWithSeed(seed);
cached.deriveEd25519(PATH4).wipe();

Deno.bench("derive ed25519, 4-level path, cold (SLIP-0010 only)", { group: "derive" }, () => {
  cold.deriveEd25519(PATH4).wipe();
});
Deno.bench("derive ed25519, 4-level path, cold + public key", { group: "derive" }, () => {
  const k = cold.deriveEd25519(PATH4);
  k.publicKey;
  k.wipe();
});
Deno.bench("derive ed25519, 4-level path, cached", { group: "derive", baseline: true }, () => {
  cached.deriveEd25519(PATH4).wipe();
});
Deno.bench("slip10Derive raw, 4-level path", { group: "derive" }, () => {
  const n = slip10Derive(seed, parsePath(PATH4));
  n.key.fill(0);
  n.chainCode.fill(0);
});
Deno.bench("derive secp256k1 m/44'/60'/0'/0/0, cold", { group: "derive" }, () => {
  cold.deriveSecp256k1("m/44'/60'/0'/0/0").wipe();
});

// AES-256-GCM: the vault (EncryptedData, base64, JSON shape) against raw WebCrypto.
const rawKeyBytes = cached.encryptionKey(2);
const rawKey = await crypto.subtle.importKey(
  "raw",
  rawKeyBytes.privateKey.slice(),
  "AES-GCM",
  false,
  ["encrypt", "decrypt"],
);
rawKeyBytes.wipe();

function filled(n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
  return b;
}

for (const [label, size] of [["1 KiB", 1024], ["1 MiB", 1 << 20]] as const) {
  const pt = filled(size);
  const iv = filled(12);
  const blob = await cached.encrypt(pt);
  const rawCt = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, rawKey, pt));
  Deno.bench(`raw WebCrypto AES-GCM encrypt ${label}`, {
    group: `encrypt ${label}`,
    baseline: true,
  }, async () => {
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, rawKey, pt);
  });
  Deno.bench(`vault.encrypt ${label}`, { group: `encrypt ${label}` }, async () => {
    await cached.encrypt(pt);
  });
  Deno.bench(`raw WebCrypto AES-GCM decrypt ${label}`, {
    group: `decrypt ${label}`,
    baseline: true,
  }, async () => {
    await crypto.subtle.decrypt({ name: "AES-GCM", iv }, rawKey, rawCt);
  });
  Deno.bench(`vault.decrypt ${label}`, { group: `decrypt ${label}` }, async () => {
    await cached.decrypt(blob);
  });
}

// Unlock paths.
Deno.bench("mnemonicToSeed (WebCrypto PBKDF2)", { group: "seed", baseline: true }, async () => {
  (await mnemonicToSeed(ABOUT)).fill(0);
});
Deno.bench("@scure/bip39 mnemonicToSeedSync (JS PBKDF2)", { group: "seed" }, () => {
  bip39.mnemonicToSeedSync(ABOUT).fill(0);
});

const keystore = await createKeystore(
  new MnemonicSecret(ABOUT),
  "bench pass",
  DEFAULT_SCRYPT_PARAMS,
);
Deno.bench(
  "keystore unlock, default scrypt N=2^17 r=8 p=1 (+ seed)",
  { group: "keystore", n: 5, warmup: 1 },
  async () => {
    const secret = await openKeystore(keystore, "bench pass");
    const v = new Vault();
    await v.unlock(secret.mnemonic, secret.mnemonicPassphrase);
    v.lock();
  },
);
