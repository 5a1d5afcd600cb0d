/**
 * Credentials: named `EncryptedData` blobs sealed by the vault. The store
 * keeps them as given and never sees plaintext; rotation rewrites every
 * blob through a caller's re-encrypt function in one transaction.
 *
 * @module
 */

import type { Driver } from "./driver/types.ts";
import { StorageError } from "./errors.ts";
import { checkName } from "./validate.ts";

/**
 * A sealed secret, the JSON shape `@alknet/vault` produces: AES-256-GCM
 * under the key of `key_version`, binary fields in base64.
 *
 * @example
 * ```ts
 * import type { EncryptedData } from "@alknet/storage";
 * const blob: EncryptedData = { key_version: 2, salt: "AAAA", iv: "AAAAAAAAAAAAAAAA", data: "AAAA" };
 * console.log(blob.key_version); // 2
 * ```
 */
export interface EncryptedData {
  /** The vault key version that sealed it. */
  key_version: number;
  /** Base64. */
  salt: string;
  /** Base64 nonce. */
  iv: string;
  /** Base64 ciphertext and tag. */
  data: string;
}

/**
 * What the store tells about a credential without its blob.
 *
 * @example
 * ```ts
 * import { type CredentialInfo, openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * await store.credentials.set("smtp", { key_version: 2, salt: "", iv: "", data: "AAAA" });
 * const info: CredentialInfo | null = await store.credentials.info("smtp");
 * console.log(info?.keyVersion); // 2
 * await store.close();
 * ```
 */
export interface CredentialInfo {
  /** The credential's name. */
  name: string;
  /** The key version of its blob. */
  keyVersion: number;
  /** Created (Unix milliseconds). */
  createdAt: number;
  /** Last written (Unix milliseconds). */
  updatedAt: number;
}

/**
 * Re-seals one credential: gets the old blob, returns the new one.
 *
 * @example
 * ```ts
 * import type { EncryptedData, Reencrypt } from "@alknet/storage";
 * // With a vault: (name, blob) => vault.rotate(blob, 3)
 * const bump: Reencrypt = (_name, blob: EncryptedData) => ({ ...blob, key_version: blob.key_version + 1 });
 * console.log(typeof bump); // "function"
 * ```
 */
export type Reencrypt = (
  name: string,
  blob: EncryptedData,
) => EncryptedData | Promise<EncryptedData>;

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function checkBlob(name: string, blob: unknown): EncryptedData {
  const b = blob as Partial<EncryptedData> | null;
  const ok = b !== null && typeof b === "object" &&
    typeof b.key_version === "number" && Number.isSafeInteger(b.key_version) &&
    b.key_version >= 0 &&
    [b.salt, b.iv, b.data].every((f) => typeof f === "string" && B64.test(f) && f.length % 4 === 0);
  if (!ok) {
    throw new StorageError(
      "invalid-input",
      `credential '${name}': not EncryptedData ({key_version, salt, iv, data} in base64)`,
    );
  }
  return { key_version: b!.key_version!, salt: b!.salt!, iv: b!.iv!, data: b!.data! };
}

interface Row {
  name: string;
  key_version: number;
  salt: string;
  iv: string;
  data: string;
  created_at: number;
  updated_at: number;
}

function infoOf(r: Row): CredentialInfo {
  return {
    name: r.name,
    keyVersion: Number(r.key_version),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

const UPSERT = "INSERT INTO credentials (name, key_version, salt, iv, data, created_at, " +
  "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET " +
  "key_version = excluded.key_version, salt = excluded.salt, iv = excluded.iv, " +
  "data = excluded.data, updated_at = excluded.updated_at";

/**
 * The credentials of a store (or of a transaction).
 *
 * @example
 * ```ts
 * import { openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * // In a node, the blob comes from vault.encrypt(...).
 * await store.credentials.set("db-password", { key_version: 2, salt: "AAAA", iv: "AAAA", data: "AAAA" });
 * console.log((await store.credentials.list()).map((c) => c.name)); // [ "db-password" ]
 * await store.credentials.rotate((_name, blob) => ({ ...blob, key_version: 3 })); // vault.rotate(blob, 3)
 * console.log((await store.credentials.get("db-password"))?.key_version); // 3
 * await store.close();
 * ```
 */
export class CredentialStore {
  readonly #db: Driver;

  /** Credentials on `db`; stores create this for you. */
  constructor(db: Driver) {
    this.#db = db;
  }

  /** Stores (or replaces) the blob named `name`. */
  async set(name: string, blob: EncryptedData): Promise<void> {
    checkName("credential name", name);
    const b = checkBlob(name, blob);
    const now = Date.now();
    await this.#db.execute(UPSERT, [name, b.key_version, b.salt, b.iv, b.data, now, now]);
  }

  /** The blob named `name`, or null. */
  async get(name: string): Promise<EncryptedData | null> {
    checkName("credential name", name);
    const [r] = await this.#db.query<Row>(
      "SELECT key_version, salt, iv, data FROM credentials WHERE name = ?",
      [name],
    );
    return r ? { key_version: Number(r.key_version), salt: r.salt, iv: r.iv, data: r.data } : null;
  }

  /** The metadata of `name` (never the blob), or null. */
  async info(name: string): Promise<CredentialInfo | null> {
    checkName("credential name", name);
    const [r] = await this.#db.query<Row>(
      "SELECT name, key_version, created_at, updated_at FROM credentials WHERE name = ?",
      [name],
    );
    return r ? infoOf(r) : null;
  }

  /** The metadata of every credential, by name. */
  async list(): Promise<CredentialInfo[]> {
    const rows = await this.#db.query<Row>(
      "SELECT name, key_version, created_at, updated_at FROM credentials ORDER BY name",
    );
    return rows.map(infoOf);
  }

  /** Deletes `name`; resolves to whether it existed. */
  async remove(name: string): Promise<boolean> {
    checkName("credential name", name);
    return (await this.#db.execute("DELETE FROM credentials WHERE name = ?", [name])) > 0;
  }

  /**
   * Rewrites every blob with `reencrypt`'s result inside one transaction:
   * when it throws (or returns something that is not `EncryptedData`) for
   * any credential, none changes and `rotate-failed` is thrown. Resolves to
   * how many were rewritten.
   */
  async rotate(reencrypt: Reencrypt): Promise<number> {
    if (typeof reencrypt !== "function") {
      throw new StorageError("invalid-input", "rotate needs a re-encrypt function");
    }
    return await this.#db.transaction(async (tx) => {
      const rows = await tx.query<Row>(
        "SELECT name, key_version, salt, iv, data FROM credentials ORDER BY name",
      );
      const now = Date.now();
      for (const r of rows) {
        const old = { key_version: Number(r.key_version), salt: r.salt, iv: r.iv, data: r.data };
        let next: EncryptedData;
        try {
          next = checkBlob(r.name, await reencrypt(r.name, old));
        } catch (e) {
          throw new StorageError(
            "rotate-failed",
            `re-encrypting '${r.name}' failed, no credential was changed: ${
              (e as Error)?.message ?? e
            }`,
            { cause: e },
          );
        }
        await tx.execute(
          "UPDATE credentials SET key_version = ?, salt = ?, iv = ?, data = ?, updated_at = ? " +
            "WHERE name = ?",
          [next.key_version, next.salt, next.iv, next.data, now, r.name],
        );
      }
      return rows.length;
    });
  }
}
