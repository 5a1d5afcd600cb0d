/**
 * Runs the numbered migrations at open, in one transaction (all applied or
 * none), serialized between processes; refuses a database whose schema is
 * newer than the code.
 *
 * @module
 */

import { StorageError } from "./errors.ts";
import type { Driver } from "./driver/types.ts";
import { type Migration, MIGRATIONS } from "./schema.ts";

export { type Migration, MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";

/**
 * What {@link migrate} did.
 *
 * @example
 * ```ts
 * import { openSqlite } from "@alknet/storage/driver";
 * import { migrate, type MigrationResult } from "@alknet/storage/migrations";
 * const db = openSqlite(":memory:");
 * const result: MigrationResult = await migrate(db);
 * console.log(result.applied); // [ 1 ]
 * await db.close();
 * ```
 */
export interface MigrationResult {
  /** The schema version found (0 for a new database). */
  from: number;
  /** The schema version now. */
  to: number;
  /** The versions applied by this call, in order. */
  applied: number[];
}

/**
 * Options of {@link migrate}.
 *
 * @example
 * ```ts
 * import { openSqlite } from "@alknet/storage/driver";
 * import { migrate, type MigrateOptions } from "@alknet/storage/migrations";
 * const db = openSqlite(":memory:");
 * const options: MigrateOptions = { schema: "alknet" }; // the schema matters on PostgreSQL only
 * console.log((await migrate(db, options)).to); // 1
 * await db.close();
 * ```
 */
export interface MigrateOptions {
  /** The PostgreSQL schema to create and use (default `alknet`); ignored for SQLite. */
  schema?: string;
  /** The migrations to run (default {@link MIGRATIONS}); tests pass their own. */
  migrations?: readonly Migration[];
}

// An arbitrary constant: the advisory lock alknet's migrations hold in PostgreSQL.
const PG_MIGRATION_LOCK = 7_368_011_907;

const TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

function checkSequence(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StorageError(
        "migration-failed",
        `migration ${i + 1} is numbered ${m.version}: migrations must be 1, 2, 3, ...`,
      );
    }
  });
}

/**
 * The schema version recorded in the database (0 when it has none).
 *
 * @example
 * ```ts
 * import { openSqlite } from "@alknet/storage/driver";
 * import { migrate, schemaVersion } from "@alknet/storage/migrations";
 * const db = openSqlite(":memory:");
 * await migrate(db);
 * console.log(await schemaVersion(db)); // 1
 * await db.close();
 * ```
 */
export async function schemaVersion(db: Driver): Promise<number> {
  const rows = await db.query<{ v: number | null }>(
    "SELECT max(version) AS v FROM schema_migrations",
  );
  return Number(rows[0]?.v ?? 0);
}

/**
 * Brings the database up to the latest migration. Throws `schema-too-new`
 * when the database is ahead of the code, and `migration-failed` (having
 * changed nothing) when a step fails.
 *
 * @example
 * ```ts
 * import { openSqlite } from "@alknet/storage/driver";
 * import { migrate } from "@alknet/storage/migrations";
 * const db = openSqlite(":memory:");
 * console.log(await migrate(db)); // { from: 0, to: 1, applied: [ 1 ] }
 * console.log(await migrate(db)); // { from: 1, to: 1, applied: [] }
 * await db.close();
 * ```
 */
export async function migrate(db: Driver, options: MigrateOptions = {}): Promise<MigrationResult> {
  const migrations = options.migrations ?? MIGRATIONS;
  checkSequence(migrations);
  const latest = migrations.length;
  const schema = options.schema ?? "alknet";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new StorageError("invalid-input", `schema name ${JSON.stringify(schema)} is not allowed`);
  }
  return await db.transaction(async (tx) => {
    if (tx.dialect === "postgres") {
      await tx.query("SELECT pg_advisory_xact_lock(?)", [PG_MIGRATION_LOCK]);
      // Only when missing: creating needs the database's CREATE privilege, which a role given
      // a ready-made schema may lack.
      const found = await tx.query("SELECT 1 AS x FROM pg_namespace WHERE nspname = ?", [schema]);
      if (found.length === 0) await tx.script(`CREATE SCHEMA "${schema}"`);
      await tx.script(`SET LOCAL search_path TO "${schema}", public`);
    }
    await tx.script(TABLE);
    const from = await schemaVersion(tx);
    if (from > latest) {
      throw new StorageError(
        "schema-too-new",
        `the database schema is version ${from}, newer than this alknet knows (${latest}); ` +
          `upgrade alknet to open it`,
      );
    }
    const applied: number[] = [];
    for (const m of migrations.slice(from)) {
      try {
        await tx.script(tx.dialect === "sqlite" ? m.sqlite : m.postgres);
        await tx.execute(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
          [m.version, m.name, Date.now()],
        );
      } catch (e) {
        throw new StorageError(
          "migration-failed",
          `migration ${m.version} (${m.name}) failed: ${(e as Error)?.message ?? e}`,
          { cause: e },
        );
      }
      applied.push(m.version);
    }
    return { from, to: from + applied.length, applied };
  });
}
