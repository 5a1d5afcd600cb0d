/**
 * The PostgreSQL driver on `npm:postgres`: a connection pool, `?`
 * placeholders rewritten to `$n`, prepared statements, everything in one
 * schema (default `alknet`), and change watching with `LISTEN/NOTIFY`.
 *
 * @module
 */

import net from "node:net";
import postgres from "postgres";
import { StorageError } from "../errors.ts";
import { redactLocation } from "../location.ts";
import type { ChangeListener, Driver, Row, SqlValue, TransactionOptions } from "./types.ts";

/**
 * Options of {@link openPostgres}.
 *
 * @example
 * ```ts
 * import type { PostgresOptions } from "@alknet/storage/driver";
 * const options: PostgresOptions = { schema: "fleet", maxConnections: 4 };
 * console.log(options.schema); // "fleet"
 * ```
 */
export interface PostgresOptions {
  /** The schema that holds alknet's tables (default `alknet`; created when missing). */
  schema?: string;
  /** Largest number of pooled connections (default 10). */
  maxConnections?: number;
  /** Seconds to wait for a connection (default 10). */
  connectTimeoutSeconds?: number;
}

/**
 * The `LISTEN/NOTIFY` channel of a store in `schema`: `<schema>_changes`.
 *
 * @example
 * ```ts
 * import { notifyChannel } from "@alknet/storage/driver";
 * console.log(notifyChannel("alknet")); // "alknet_changes"
 * ```
 */
export function notifyChannel(schema: string): string {
  return `${schema}_changes`;
}

type Types = Record<string, postgres.PostgresType>;
type Sql = postgres.Sql<Types>;
type TxSql = postgres.TransactionSql<Types>;
type Unsafe = Sql | TxSql;

const rewritten = new Map<string, string>();

/**
 * Rewrites `?` placeholders (outside quotes) to `$1`, `$2`, ...
 *
 * @example
 * ```ts
 * import { toDollarParams } from "@alknet/storage/driver";
 * console.log(toDollarParams("SELECT ? AS a, '?' AS b, ? AS c")); // "SELECT $1 AS a, '?' AS b, $2 AS c"
 * ```
 */
export function toDollarParams(sql: string): string {
  const cached = rewritten.get(sql);
  if (cached !== undefined) return cached;
  let out = "";
  let n = 0;
  let quote: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (quote) {
      out += c;
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c === "?") {
      out += `$${++n}`;
    } else {
      out += c;
    }
  }
  if (rewritten.size > 2048) rewritten.clear();
  rewritten.set(sql, out);
  return out;
}

/**
 * Maps an `npm:postgres` error to a {@link StorageError} by its SQLSTATE code.
 *
 * @example
 * ```ts
 * import { mapPostgresError } from "@alknet/storage/driver";
 * const e = mapPostgresError(Object.assign(new Error("duplicate key"), { code: "23505" }));
 * console.log(e.code, e.constraint); // "conflict" "unique"
 * ```
 */
export function mapPostgresError(e: unknown): StorageError {
  if (e instanceof StorageError) return e;
  const code = (e as { code?: unknown })?.code;
  const message = (e as Error)?.message ?? String(e);
  if (typeof code === "string") {
    const constraint = code === "23505"
      ? "unique"
      : code === "23503"
      ? "foreign-key"
      : code === "23514"
      ? "check"
      : code === "23502"
      ? "not-null"
      : undefined;
    if (constraint) {
      return new StorageError("conflict", `the write breaks a ${constraint} constraint`, {
        cause: e,
        constraint,
      });
    }
    if (code === "40001" || code === "40P01" || code === "55P03") {
      return new StorageError("busy", `PostgreSQL: ${message}`, { cause: e });
    }
    if (
      code === "ECONNREFUSED" || code === "ECONNRESET" || code === "CONNECTION_CLOSED" ||
      code === "CONNECTION_ENDED" || code === "CONNECTION_DESTROYED" ||
      code === "CONNECT_TIMEOUT" ||
      code === "ENOTFOUND" || code === "28P01" || code === "28000" || code === "3D000" ||
      code === "57P01"
    ) {
      return new StorageError("unavailable", `PostgreSQL: ${message}`, { cause: e });
    }
  }
  return new StorageError("internal", `PostgreSQL: ${message}`, { cause: e });
}

/**
 * Connects with TCP_NODELAY: without it a query written in two pieces
 * waits for the server's delayed ACK (milliseconds per statement).
 */
function noDelaySocket(
  options: { host?: string[]; port?: number[]; path?: string },
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = options.path ? net.createConnection({ path: options.path }) : net.createConnection({
      host: options.host?.[0] ?? "localhost",
      port: options.port?.[0] ?? 5432,
      noDelay: true,
    });
    s.once("connect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

function bigintAsNumber() {
  return {
    to: 20,
    from: [20],
    serialize: (x: number | bigint | string) => String(x),
    parse: (x: string) => Number(x),
  };
}

class PgCore {
  readonly sql: Sql;
  readonly channel: string;
  readonly listeners = new Set<ChangeListener>();
  closed = false;
  #listening: Promise<{ unlisten(): Promise<void> }> | null = null;

  constructor(sql: Sql, channel: string) {
    this.sql = sql;
    this.channel = channel;
  }

  emit(channel: string): void {
    for (const l of [...this.listeners]) {
      try {
        l(channel);
      } catch {
        // A listener's failure is its own business.
      }
    }
  }

  async startListening(): Promise<void> {
    if (!this.#listening) {
      this.#listening = this.sql.listen(
        this.channel,
        (payload) => this.emit(payload),
        // (Re)connected: anything may have been missed meanwhile.
        () => this.emit("*"),
      );
      this.#listening.catch(() => {
        this.#listening = null;
      });
    }
    try {
      await this.#listening;
    } catch (e) {
      throw mapPostgresError(e);
    }
  }

  async stopListening(): Promise<void> {
    const l = this.#listening;
    this.#listening = null;
    if (!l) return;
    try {
      await (await l).unlisten();
    } catch {
      // Not listening any more either way.
    }
  }
}

class PgHandle implements Driver {
  readonly dialect = "postgres" as const;
  readonly #core: PgCore;
  readonly #sql: Unsafe;
  readonly #tx: boolean;

  constructor(core: PgCore, sql: Unsafe, tx: boolean) {
    this.#core = core;
    this.#sql = sql;
    this.#tx = tx;
  }

  get inTransaction(): boolean {
    return this.#tx;
  }

  #check(): void {
    if (this.#core.closed) throw new StorageError("closed", "the store is closed");
  }

  async query<T extends object = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    this.#check();
    try {
      const rows = await this.#sql.unsafe(
        toDollarParams(sql),
        params as postgres.ParameterOrJSON<never>[],
        { prepare: true },
      );
      return rows as unknown as T[];
    } catch (e) {
      throw mapPostgresError(e);
    }
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    this.#check();
    try {
      const r = await this.#sql.unsafe(
        toDollarParams(sql),
        params as postgres.ParameterOrJSON<never>[],
        { prepare: true },
      );
      return r.count;
    } catch (e) {
      throw mapPostgresError(e);
    }
  }

  async executeMany(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<void> {
    if (!this.#tx) return await this.transaction((tx) => tx.executeMany(sql, rows));
    this.#check();
    const text = toDollarParams(sql);
    try {
      // Issued together, the statements are pipelined on the transaction's connection.
      await Promise.all(
        rows.map((r) =>
          this.#sql.unsafe(text, r as postgres.ParameterOrJSON<never>[], { prepare: true })
        ),
      );
    } catch (e) {
      throw mapPostgresError(e);
    }
  }

  async script(sql: string): Promise<void> {
    this.#check();
    try {
      await this.#sql.unsafe(sql);
    } catch (e) {
      throw mapPostgresError(e);
    }
  }

  async transaction<T>(
    fn: (tx: Driver) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    if (this.#tx) return await fn(this);
    this.#check();
    const core = this.#core;
    const run = (tx: TxSql) => fn(new PgHandle(core, tx, true));
    try {
      const result = options.readOnly
        ? await (this.#sql as Sql).begin("read only isolation level repeatable read", run)
        : await (this.#sql as Sql).begin(run);
      return result as T;
    } catch (e) {
      throw e instanceof StorageError ? e : mapPostgresError(e);
    }
  }

  notify(_channel: string): Promise<void> {
    // Triggers on stream_topics and counters NOTIFY every listener, this process included.
    return Promise.resolve();
  }

  async watch(listener: ChangeListener): Promise<() => Promise<void>> {
    this.#check();
    const core = this.#core;
    core.listeners.add(listener);
    try {
      await core.startListening();
    } catch (e) {
      core.listeners.delete(listener);
      throw e;
    }
    return async () => {
      core.listeners.delete(listener);
      if (core.listeners.size === 0) await core.stopListening();
    };
  }

  async close(): Promise<void> {
    if (this.#tx) throw new StorageError("internal", "close the store, not a transaction");
    if (this.#core.closed) return;
    this.#core.closed = true;
    this.#core.listeners.clear();
    await this.#core.stopListening();
    await (this.#sql as Sql).end({ timeout: 5 });
  }
}

/**
 * Connects to PostgreSQL (lazily: the first query opens the pool). The
 * session's `search_path` is the store's schema, then `public`.
 *
 * @example
 * ```ts
 * import { openPostgres } from "@alknet/storage/driver";
 * const db = openPostgres("postgres://alknet@127.0.0.1:5432/alknet");
 * console.log(db.dialect); // "postgres" (nothing is connected until the first query)
 * // const rows = await db.query("SELECT 1 AS one"); // [ { one: 1 } ]
 * await db.close();
 * ```
 */
export function openPostgres(url: string, options: PostgresOptions = {}): Driver {
  const schema = options.schema ?? "alknet";
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new StorageError("invalid-input", `schema name ${JSON.stringify(schema)} is not allowed`);
  }
  let sql: Sql;
  try {
    const settings: Record<string, unknown> = {
      max: options.maxConnections ?? 10,
      connect_timeout: options.connectTimeoutSeconds ?? 10,
      idle_timeout: 60,
      onnotice: () => {},
      prepare: true,
      connection: { application_name: "alknet", search_path: `${schema}, public` },
      types: { bigint: bigintAsNumber() },
      socket: noDelaySocket,
    };
    sql = postgres(url, settings as postgres.Options<Types>);
  } catch (e) {
    throw new StorageError(
      "bad-location",
      `cannot use PostgreSQL location ${redactLocation(url)}: ${(e as Error)?.message ?? e}`,
      { cause: e },
    );
  }
  return new PgHandle(new PgCore(sql, notifyChannel(schema)), sql, false);
}
