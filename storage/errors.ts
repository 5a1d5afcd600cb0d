/**
 * The one error class of `@alknet/storage`. Callers branch on `code`, never
 * on the message text.
 *
 * @module
 */

/**
 * Why a storage call failed.
 *
 * - `bad-location`: `openStore` did not understand the location.
 * - `unavailable`: the database could not be opened or reached.
 * - `schema-too-new`: the database was migrated by a newer alknet.
 * - `migration-failed`: a migration did not apply (nothing was changed).
 * - `not-found`: the named peer, credential, graph, node, edge or type does not exist.
 * - `exists`: a record with that name or key already exists.
 * - `conflict`: the write clashes with another record (a key that belongs to another peer).
 * - `in-use`: a delete was refused because other records still refer to it.
 * - `invalid-input`: an argument is malformed (a name, a fingerprint, an offset).
 * - `invalid-schema`: a JSON Schema given for a node or edge type does not compile.
 * - `invalid-attributes`: attributes do not match their type's schema (see `issues`).
 * - `not-allowed`: an edge joins node types its edge type does not allow.
 * - `rotate-failed`: the re-encrypt function failed; no credential was changed.
 * - `busy`: the database stayed locked by another writer past the busy timeout.
 * - `closed`: the store was closed.
 * - `internal`: anything else (the driver error is the `cause`).
 *
 * @example
 * ```ts
 * import { StorageError, type StorageErrorCode } from "@alknet/storage";
 * function retryable(e: unknown): boolean {
 *   const code: StorageErrorCode | undefined = e instanceof StorageError ? e.code : undefined;
 *   return code === "busy" || code === "unavailable";
 * }
 * console.log(retryable(new StorageError("busy", "locked"))); // true
 * ```
 */
export type StorageErrorCode =
  | "bad-location"
  | "unavailable"
  | "schema-too-new"
  | "migration-failed"
  | "not-found"
  | "exists"
  | "conflict"
  | "in-use"
  | "invalid-input"
  | "invalid-schema"
  | "invalid-attributes"
  | "not-allowed"
  | "rotate-failed"
  | "busy"
  | "closed"
  | "internal";

/**
 * One attribute that failed validation: `path` is a JSON Pointer into the
 * attributes (`/address/port`; `""` for the attributes object itself).
 *
 * @example
 * ```ts
 * import type { AttributeIssue } from "@alknet/storage";
 * const issue: AttributeIssue = { path: "/port", message: "must be integer" };
 * console.log(issue.path); // "/port"
 * ```
 */
export interface AttributeIssue {
  /** JSON Pointer to the offending value (a missing property's own path). */
  path: string;
  /** What is wrong, e.g. `must be integer`. */
  message: string;
}

/**
 * Which database constraint a write broke (set on `conflict` errors from the database).
 *
 * @example
 * ```ts
 * import { type ConstraintKind, StorageError } from "@alknet/storage";
 * const e = new StorageError("conflict", "duplicate", { constraint: "unique" });
 * const kind: ConstraintKind | undefined = e.constraint;
 * console.log(kind); // "unique"
 * ```
 */
export type ConstraintKind = "unique" | "foreign-key" | "check" | "not-null";

/**
 * Options of {@link StorageError}.
 *
 * @example
 * ```ts
 * import { StorageError, type StorageErrorOptions } from "@alknet/storage";
 * const options: StorageErrorOptions = { issues: [{ path: "/port", message: "must be integer" }] };
 * console.log(new StorageError("invalid-attributes", "bad node", options).issues.length); // 1
 * ```
 */
export interface StorageErrorOptions {
  /** The database constraint that refused the write, when one did. */
  constraint?: ConstraintKind;
  /** The underlying error (a driver error, the re-encrypt function's error). */
  cause?: unknown;
  /** Validation problems, for `invalid-attributes` and `invalid-schema`. */
  issues?: readonly AttributeIssue[];
}

/**
 * Every error `@alknet/storage` throws. `code` is stable; `issues` lists
 * the attribute paths that failed validation.
 *
 * @example
 * ```ts
 * import { StorageError } from "@alknet/storage";
 * const e = new StorageError("not-found", "peer 'bob' does not exist");
 * console.log(e instanceof StorageError, e.code); // true "not-found"
 * ```
 */
export class StorageError extends Error {
  /** Which failure this is. */
  readonly code: StorageErrorCode;
  /** Validation problems (empty unless `invalid-attributes` or `invalid-schema`). */
  readonly issues: readonly AttributeIssue[];
  /** The database constraint that refused the write, when one did. */
  readonly constraint?: ConstraintKind;

  /** Creates the error with a stable `code` and a human message. */
  constructor(code: StorageErrorCode, message: string, options: StorageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StorageError";
    this.code = code;
    this.issues = options.issues ?? [];
    if (options.constraint !== undefined) this.constraint = options.constraint;
  }
}
