/**
 * The small SQL driver interface both backends implement. Statements use
 * `?` placeholders on both (the PostgreSQL driver rewrites them to `$n`).
 * Exported as `@alknet/storage/driver` for tools that need raw SQL next to
 * the store (benchmarks, outbox business tables).
 *
 * @module
 */

/**
 * A value bound to a `?` placeholder. Arrays are for PostgreSQL array parameters only.
 *
 * @example
 * ```ts
 * import type { SqlValue } from "@alknet/storage/driver";
 * const params: SqlValue[] = ["alice", 1, null, new Uint8Array([1, 2])];
 * console.log(params.length); // 4
 * ```
 */
export type SqlValue =
  | string
  | number
  | null
  | Uint8Array
  | readonly (string | number | null)[];

/**
 * A result row: column name to value.
 *
 * @example
 * ```ts
 * import type { Row } from "@alknet/storage/driver";
 * const row: Row = { peer_id: "alice", enabled: 1 };
 * console.log(row.peer_id); // "alice"
 * ```
 */
export type Row = Record<string, unknown>;

/**
 * Which SQL dialect a driver speaks.
 *
 * @example
 * ```ts
 * import type { Dialect } from "@alknet/storage/driver";
 * const d: Dialect = "postgres";
 * console.log(d); // "postgres"
 * ```
 */
export type Dialect = "sqlite" | "postgres";

/**
 * Options of {@link Driver.transaction}.
 *
 * @example
 * ```ts
 * import { openSqlite, type TransactionOptions } from "@alknet/storage/driver";
 * const db = openSqlite(":memory:");
 * const readOnly: TransactionOptions = { readOnly: true };
 * console.log(await db.transaction((tx) => tx.query("SELECT 1 AS one"), readOnly)); // [ { one: 1 } ]
 * await db.close();
 * ```
 */
export interface TransactionOptions {
  /** A read-only transaction over one consistent snapshot (does not take the write lock). */
  readOnly?: boolean;
}

/**
 * Called when data may have changed: `channel` is what a writer passed to
 * {@link Driver.notify}, or `"*"` when the backend cannot tell (SQLite sees
 * other processes' commits only as a new `PRAGMA data_version`).
 *
 * @example
 * ```ts
 * import type { ChangeListener } from "@alknet/storage/driver";
 * const seen: string[] = [];
 * const listener: ChangeListener = (channel) => seen.push(channel);
 * listener("peers");
 * console.log(seen); // [ "peers" ]
 * ```
 */
export type ChangeListener = (channel: string) => void;

/**
 * One database connection (SQLite) or pool (PostgreSQL), or a transaction
 * on it.
 *
 * @example
 * ```ts
 * import type { Driver } from "@alknet/storage/driver";
 * async function count(db: Driver, topic: string): Promise<number> {
 *   const [row] = await db.query<{ n: number }>(
 *     "SELECT count(*) AS n FROM stream_events WHERE topic = ?",
 *     [topic],
 *   );
 *   return Number(row.n);
 * }
 * console.log(typeof count); // "function"
 * ```
 */
export interface Driver {
  /** The SQL dialect. */
  readonly dialect: Dialect;
  /** True on the handle a {@link transaction} callback receives. */
  readonly inTransaction: boolean;
  /** Runs a statement and returns its rows (`RETURNING` rows for writes). */
  query<T extends object = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement and returns how many rows it changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs the same statement once per parameter list (inside one transaction when not in one). */
  executeMany(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<void>;
  /** Runs several `;`-separated statements without parameters (schema changes). */
  script(sql: string): Promise<void>;
  /**
   * Runs `fn` in a transaction: committed when it returns, rolled back when
   * it throws. Called on a transaction handle, joins that transaction.
   */
  transaction<T>(fn: (tx: Driver) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Wakes this process's watchers of `channel` once the current
   * transaction commits (at once outside a transaction). Other processes
   * learn of commits from the database: SQLite's `PRAGMA data_version`,
   * PostgreSQL's `NOTIFY` from triggers on the change tables (so this is a
   * no-op there).
   */
  notify(channel: string): Promise<void>;
  /**
   * Calls `listener` when data may have changed (see {@link ChangeListener}).
   * Resolves once changes are being followed; the returned function stops.
   */
  watch(listener: ChangeListener): Promise<() => Promise<void>>;
  /** Closes the connection (pool); later calls fail with `closed`. */
  close(): Promise<void>;
}
