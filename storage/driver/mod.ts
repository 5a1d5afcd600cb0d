/**
 * `@alknet/storage/driver`: the SQL drivers under the store, for raw SQL
 * next to it (benchmarks, outbox business tables, tools).
 *
 * @example
 * ```ts
 * import { openSqlite } from "@alknet/storage/driver";
 * const db = openSqlite(":memory:");
 * await db.script("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)");
 * await db.transaction(async (tx) => {
 *   await tx.execute("INSERT INTO kv (k, v) VALUES (?, ?)", ["a", "1"]);
 * });
 * console.log(await db.query("SELECT k, v FROM kv")); // [ { k: "a", v: "1" } ]
 * await db.close();
 * ```
 *
 * @module
 */

export type {
  ChangeListener,
  Dialect,
  Driver,
  Row,
  SqlValue,
  TransactionOptions,
} from "./types.ts";
export { mapSqliteError, openSqlite, type SqliteOptions } from "./sqlite.ts";
export {
  mapPostgresError,
  notifyChannel,
  openPostgres,
  type PostgresOptions,
  toDollarParams,
} from "./postgres.ts";
export { Mutex } from "./mutex.ts";
