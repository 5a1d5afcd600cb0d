/**
 * API keys: secrets of the form `alk_<id>_<secret>`, where
 * `alk_<id>` is the public prefix that names the key. The server stores only
 * the prefix, `sha256:<hex>` of the whole key, scopes and an optional expiry;
 * hashes are compared in constant time.
 *
 * @module
 */

import { CoreError } from "../util/errors.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import type { Identity } from "./identity.ts";
import { timingSafeEqual } from "./ct.ts";
import { fromHex, toBase64Url, toHex } from "../util/bytes.ts";

const KEY_RE = /^(alk_[a-z0-9]{8})_([A-Za-z0-9_-]{43})$/;
const PREFIX_RE = /^alk_[a-z0-9]{8}$/;
const HASH_RE = /^sha256:([0-9a-f]{64})$/;

/**
 * What the server stores for one API key (the `[[auth.api_keys]]` table).
 *
 * @example
 * ```ts
 * import type { ApiKeyRecord } from "@alknet/core/auth";
 * const r: ApiKeyRecord = { prefix: "alk_ab12cd34", hash: "sha256:" + "0".repeat(64), scopes: ["relay:connect"] };
 * ```
 */
export interface ApiKeyRecord {
  /** Public part, `alk_` and 8 lowercase letters or digits. */
  prefix: string;
  /** `sha256:` and the hex SHA-256 of the whole key text. */
  hash: string;
  /** Scopes the key grants. */
  scopes: string[];
  /** Expiry as Unix milliseconds; the key is refused from then on. */
  expiresAt?: number;
}

/**
 * Why an API key was refused or a record is invalid.
 *
 * @example
 * ```ts
 * import { ApiKeyError, type ApiKeyErrorCode } from "@alknet/core/auth";
 * const why = (e: unknown): ApiKeyErrorCode | undefined =>
 *   e instanceof ApiKeyError ? e.reason : undefined;
 * console.log(why(new Error("not an API key error"))); // undefined
 * ```
 */
export type ApiKeyErrorCode =
  | "malformed"
  | "unknown-prefix"
  | "wrong-secret"
  | "expired"
  | "bad-record";

/**
 * An API key failure; `code` says which check failed. Messages name the
 * prefix, never the secret.
 *
 * @example
 * ```ts
 * import { ApiKeyError, ApiKeyStore } from "@alknet/core/auth";
 * try {
 *   new ApiKeyStore([]).verify("alk_nope");
 * } catch (e) {
 *   console.log(e instanceof ApiKeyError && e.code); // malformed
 * }
 * ```
 */
export class ApiKeyError extends CoreError {
  /** Which check failed (the error's `code` is `api-key`). */
  readonly reason: ApiKeyErrorCode;
  /** For `bad-record`: the record field at fault. */
  readonly field?: "prefix" | "hash" | "scopes" | "expiresAt";
  /** Creates the error. */
  constructor(
    reason: ApiKeyErrorCode,
    message: string,
    field?: "prefix" | "hash" | "scopes" | "expiresAt",
  ) {
    super("api-key", message);
    this.name = "ApiKeyError";
    this.reason = reason;
    if (field) this.field = field;
  }
}

/**
 * The `sha256:<hex>` form stored for a key.
 *
 * @example
 * ```ts
 * import { hashApiKey } from "@alknet/core/auth";
 * console.log(hashApiKey("alk_x").startsWith("sha256:")); // true
 * ```
 */
export function hashApiKey(key: string): string {
  return "sha256:" + toHex(sha256(new TextEncoder().encode(key)));
}

/**
 * Options of {@link generateApiKey}.
 *
 * @example
 * ```ts
 * import type { GenerateApiKeyOptions } from "@alknet/core/auth";
 * const o: GenerateApiKeyOptions = { scopes: ["call:read"], expiresAt: Date.UTC(2031, 0, 1) };
 * ```
 */
export interface GenerateApiKeyOptions {
  /** Scopes (default `relay:connect`). */
  scopes?: string[];
  /** Expiry, Unix milliseconds. */
  expiresAt?: number;
}

/**
 * Generates a new API key: the secret to hand to the user once, and the
 * record to store.
 *
 * @example
 * ```ts
 * import { ApiKeyStore, generateApiKey } from "@alknet/core/auth";
 * const { key, record } = generateApiKey({ scopes: ["relay:connect"] });
 * console.log(new ApiKeyStore([record]).verify(key).id === record.prefix); // true
 * ```
 */
export function generateApiKey(
  options: GenerateApiKeyOptions = {},
): { key: string; record: ApiKeyRecord } {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const idBytes = crypto.getRandomValues(new Uint8Array(8));
  const id = Array.from(idBytes, (b) => alphabet[b % 36]).join("");
  const secretBytes = crypto.getRandomValues(new Uint8Array(32));
  const secret = toBase64Url(secretBytes);
  const prefix = `alk_${id}`;
  const key = `${prefix}_${secret}`;
  const record: ApiKeyRecord = {
    prefix,
    hash: hashApiKey(key),
    scopes: [...(options.scopes ?? ["relay:connect"])],
  };
  if (options.expiresAt !== undefined) record.expiresAt = options.expiresAt;
  return { key, record };
}

/**
 * Validates one stored record.
 *
 * @throws {ApiKeyError} with code `bad-record` naming the field.
 * @example
 * ```ts
 * import { validateApiKeyRecord } from "@alknet/core/auth";
 * try {
 *   validateApiKeyRecord({ prefix: "x", hash: "", scopes: [] });
 * } catch (e) {
 *   console.log((e as Error).message);
 * }
 * ```
 */
export function validateApiKeyRecord(r: ApiKeyRecord): void {
  if (typeof r?.prefix !== "string" || !PREFIX_RE.test(r.prefix)) {
    throw new ApiKeyError(
      "bad-record",
      `api key prefix '${String(r?.prefix)}' is not alk_ and 8 lowercase letters/digits`,
      "prefix",
    );
  }
  if (typeof r.hash !== "string" || !HASH_RE.test(r.hash)) {
    throw new ApiKeyError(
      "bad-record",
      `api key ${r.prefix}: hash must be sha256: and 64 lowercase hex digits`,
      "hash",
    );
  }
  if (!Array.isArray(r.scopes) || r.scopes.some((s) => typeof s !== "string" || s === "")) {
    throw new ApiKeyError(
      "bad-record",
      `api key ${r.prefix}: scopes must be a list of non-empty strings`,
      "scopes",
    );
  }
  if (
    r.expiresAt !== undefined &&
    (!Number.isFinite(r.expiresAt) || Number.isNaN(new Date(r.expiresAt).getTime()))
  ) {
    throw new ApiKeyError(
      "bad-record",
      `api key ${r.prefix}: expiresAt is not a time`,
      "expiresAt",
    );
  }
}

/**
 * Options of {@link ApiKeyStore}.
 *
 * @example
 * ```ts
 * import type { ApiKeyStoreOptions } from "@alknet/core/auth";
 * const o: ApiKeyStoreOptions = { now: () => 0 };
 * ```
 */
export interface ApiKeyStoreOptions {
  /** Clock, Unix milliseconds (default `Date.now`). */
  now?: () => number;
}

/**
 * Verifies API keys against stored records.
 *
 * @example
 * ```ts
 * import { ApiKeyStore, generateApiKey } from "@alknet/core/auth";
 * const { key, record } = generateApiKey();
 * const store = new ApiKeyStore([record]);
 * console.log(store.verify(key).scopes); // [ "relay:connect" ]
 * console.log(store.resolve("alk_bogus")); // null
 * ```
 */
export class ApiKeyStore {
  readonly #records = new Map<string, { record: ApiKeyRecord; digest: Uint8Array }>();
  readonly #now: () => number;

  /**
   * Builds the store from stored records.
   *
   * @throws {ApiKeyError} (`bad-record`) for an invalid or duplicate record.
   */
  constructor(records: readonly ApiKeyRecord[], options: ApiKeyStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    for (const r of records) {
      validateApiKeyRecord(r);
      if (this.#records.has(r.prefix)) {
        throw new ApiKeyError("bad-record", `api key prefix ${r.prefix} is listed twice`, "prefix");
      }
      const record = { ...r, scopes: [...r.scopes] };
      this.#records.set(r.prefix, { record, digest: fromHex(HASH_RE.exec(r.hash)![1])! });
    }
  }

  /** Number of stored keys. */
  get size(): number {
    return this.#records.size;
  }

  /**
   * Checks `key` and returns its identity (id = the prefix).
   *
   * @throws {ApiKeyError} `malformed`, `unknown-prefix`, `wrong-secret` or `expired`.
   */
  verify(key: string): Identity {
    const m = typeof key === "string" ? KEY_RE.exec(key) : null;
    if (!m) throw new ApiKeyError("malformed", "api key is not alk_<8 chars>_<43 chars>");
    const prefix = m[1];
    const entry = this.#records.get(prefix);
    // Hash even when unknown so both paths cost about the same.
    const digest = sha256(new TextEncoder().encode(key));
    if (!entry) throw new ApiKeyError("unknown-prefix", `api key ${prefix} is not known`);
    if (!timingSafeEqual(digest, entry.digest)) {
      throw new ApiKeyError("wrong-secret", `api key ${prefix}: secret does not match`);
    }
    if (entry.record.expiresAt !== undefined && this.#now() >= entry.record.expiresAt) {
      throw new ApiKeyError(
        "expired",
        `api key ${prefix} expired at ${new Date(entry.record.expiresAt).toISOString()}`,
      );
    }
    return { id: prefix, scopes: [...entry.record.scopes], resources: {} };
  }

  /** Like {@link ApiKeyStore.verify} but returns null instead of throwing. */
  resolve(key: string): Identity | null {
    try {
      return this.verify(key);
    } catch {
      return null;
    }
  }
}
