/**
 * The embedded SQLite driver on `node:sqlite`: WAL, foreign keys, a busy
 * timeout, cached prepared statements, transactions serialized by an async
 * lock, and change watching by polling `PRAGMA data_version`.
 *
 * @module
 */

import { createRequire } from "node:module";
import { StorageError } from "../errors.ts";
import { Mutex } from "./mutex.ts";
import type { ChangeListener, Driver, Row, SqlValue, TransactionOptions } from "./types.ts";

/** The part of `node:sqlite`'s `StatementSync` the driver uses. */
interface StatementSync {
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): { changes: number | bigint };
}

/** The part of `node:sqlite`'s `DatabaseSync` the driver uses. */
interface DatabaseSync {
  exec(sql: string): void;
  prepare(sql: string): StatementSync;
  close(): void;
  readonly isTransaction: boolean;
}

// Loaded through require so that type-checking does not depend on which
// @types/node a program pulls in (older ones, e.g. ssh2's, lack node:sqlite).
const { DatabaseSync } = createRequire(import.meta.url)("node:sqlite") as {
  DatabaseSync: new (path: string) => DatabaseSync;
};

/**
 * Options of {@link openSqlite}.
 *
 * @example
 * ```ts
 * import type { SqliteOptions } from "@alknet/storage/driver";
 * const options: SqliteOptions = { busyTimeoutMs: 10_000, synchronous: "full" };
 * console.log(options.synchronous); // "full"
 * ```
 */
export interface SqliteOptions {
  /**
   * How long a write waits for another process's write lock (default
   * 5000 ms). The wait is asynchronous: the event loop keeps running.
   */
  busyTimeoutMs?: number;
  /**
   * `normal` (default): a commit survives a crash of the process, and the
   * last commits may be lost on power loss; `full`: fsync at every commit.
   */
  synchronous?: "normal" | "full";
  /** How often watchers poll `PRAGMA data_version` (default 1 ms, only while someone watches). */
  pollIntervalMs?: number;
}

const STATEMENT_CACHE_LIMIT = 512;

type NativeParam = string | number | null | Uint8Array;

function toNative(params: readonly SqlValue[]): NativeParam[] {
  for (const p of params) {
    if (Array.isArray(p)) {
      throw new StorageError("invalid-input", "array parameters are not supported by SQLite");
    }
  }
  return params as NativeParam[];
}

/**
 * Maps a `node:sqlite` error to a {@link StorageError} by its extended
 * result code (never by its message).
 *
 * @example
 * ```ts
 * import { mapSqliteError } from "@alknet/storage/driver";
 * const e = mapSqliteError(Object.assign(new Error("constraint failed"), { errcode: 787 }));
 * console.log(e.code, e.constraint); // "conflict" "foreign-key"
 * ```
 */
export function mapSqliteError(e: unknown): StorageError {
  if (e instanceof StorageError) return e;
  const errcode = (e as { errcode?: unknown })?.errcode;
  if (typeof errcode === "number") {
    const primary = errcode & 0xff;
    if (primary === 5 || primary === 6) {
      return new StorageError("busy", "the database is locked by another writer", { cause: e });
    }
    if (primary === 19) {
      const constraint = errcode === 787
        ? "foreign-key"
        : errcode === 275
        ? "check"
        : errcode === 1299
        ? "not-null"
        : "unique";
      return new StorageError("conflict", `the write breaks a ${constraint} constraint`, {
        cause: e,
        constraint,
      });
    }
  }
  return new StorageError("internal", `SQLite: ${(e as Error)?.message ?? String(e)}`, {
    cause: e,
  });
}

/** Blocking wait inside SQLite before a busy error comes back to the async retry loop. */
const SYNC_BUSY_MS = 5;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isBusy(e: unknown): boolean {
  return e instanceof StorageError && e.code === "busy";
}

class SqliteCore {
  readonly db: DatabaseSync;
  readonly memory: boolean;
  readonly key: string;
  readonly mutex = new Mutex();
  readonly listeners = new Set<ChangeListener>();
  readonly pollIntervalMs: number;
  readonly busyTimeoutMs: number;
  refs = 1;
  #stmts = new Map<string, StatementSync>();
  #poller: ReturnType<typeof setInterval> | undefined;
  #dataVersion = -1;
  closed = false;

  constructor(path: string, key: string, options: SqliteOptions) {
    this.memory = path === ":memory:";
    this.key = key;
    this.pollIntervalMs = Math.max(1, options.pollIntervalMs ?? 1);
    this.busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
    try {
      this.db = new DatabaseSync(path);
      // Opening may wait (synchronously) for a writer that is switching to WAL.
      this.db.exec(`PRAGMA busy_timeout = ${this.busyTimeoutMs}`);
      if (!this.memory) this.db.exec("PRAGMA journal_mode = WAL");
      this.db.exec(`PRAGMA synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
      this.db.exec("PRAGMA foreign_keys = ON");
      // From now on lock waits are asynchronous retries (see withBusyRetry).
      this.db.exec(`PRAGMA busy_timeout = ${Math.min(SYNC_BUSY_MS, this.busyTimeoutMs)}`);
    } catch (e) {
      throw new StorageError(
        "unavailable",
        `cannot open SQLite database ${path}: ${(e as Error)?.message ?? e}`,
        { cause: e },
      );
    }
  }

  statement(sql: string): StatementSync {
    if (this.closed) throw new StorageError("closed", "the store is closed");
    let s = this.#stmts.get(sql);
    if (!s) {
      if (this.#stmts.size >= STATEMENT_CACHE_LIMIT) this.#stmts.clear();
      try {
        s = this.db.prepare(sql);
      } catch (e) {
        throw mapSqliteError(e);
      }
      this.#stmts.set(sql, s);
    }
    return s;
  }

  all<T>(sql: string, params: readonly SqlValue[]): T[] {
    const s = this.statement(sql);
    try {
      return s.all(...toNative(params)) as T[];
    } catch (e) {
      throw mapSqliteError(e);
    }
  }

  run(sql: string, params: readonly SqlValue[]): number {
    const s = this.statement(sql);
    try {
      return Number(s.run(...toNative(params)).changes);
    } catch (e) {
      throw mapSqliteError(e);
    }
  }

  /** Runs `work`, retrying (asynchronously) while another process holds the write lock. */
  async withBusyRetry<T>(work: () => T): Promise<T> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let wait = 1;; wait = Math.min(wait * 2, 50)) {
      try {
        return work();
      } catch (e) {
        if (!isBusy(e) || Date.now() >= deadline) throw e;
      }
      await sleep(wait);
      if (this.closed) throw new StorageError("closed", "the store is closed");
    }
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

  emitSoon(channels: Iterable<string>): void {
    const list = [...channels];
    if (list.length === 0 || this.listeners.size === 0) return;
    queueMicrotask(() => {
      for (const c of list) this.emit(c);
    });
  }

  #poll = (): void => {
    if (this.closed) return;
    let v: number;
    try {
      v = Number(
        (this.statement("PRAGMA data_version").get() as { data_version: number })
          .data_version,
      );
    } catch {
      return;
    }
    if (v !== this.#dataVersion) {
      const first = this.#dataVersion === -1;
      this.#dataVersion = v;
      if (!first) this.emit("*");
    }
  };

  startPolling(): void {
    if (this.memory || this.#poller !== undefined) return;
    this.#poll();
    this.#poller = setInterval(this.#poll, this.pollIntervalMs);
  }

  stopPolling(): void {
    if (this.#poller !== undefined) clearInterval(this.#poller);
    this.#poller = undefined;
    this.#dataVersion = -1;
  }

  close(): void {
    if (this.closed) return;
    this.stopPolling();
    this.listeners.clear();
    this.closed = true;
    this.#stmts.clear();
    try {
      this.db.close();
    } catch {
      // Already closed.
    }
  }
}

interface TxState {
  active: boolean;
  channels: Set<string>;
}

class SqliteHandle implements Driver {
  readonly dialect = "sqlite" as const;
  readonly #core: SqliteCore;
  readonly #tx: TxState | null;
  #closed = false;

  constructor(core: SqliteCore, tx: TxState | null) {
    this.#core = core;
    this.#tx = tx;
  }

  get inTransaction(): boolean {
    return this.#tx !== null;
  }

  async #direct<T>(work: () => T): Promise<T> {
    if (this.#tx) {
      if (!this.#tx.active) {
        throw new StorageError("internal", "this transaction has already finished");
      }
      return work();
    }
    const core = this.#core;
    if (core.closed) throw new StorageError("closed", "the store is closed");
    if (!core.mutex.busy) {
      try {
        return work();
      } catch (e) {
        if (!isBusy(e)) throw e;
      }
    }
    const release = await core.mutex.lock();
    try {
      return await core.withBusyRetry(work);
    } finally {
      release();
    }
  }

  query<T extends object = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.#direct(() => this.#core.all<T>(sql, params));
  }

  execute(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.#direct(() => this.#core.run(sql, params));
  }

  executeMany(sql: string, rows: readonly (readonly SqlValue[])[]): Promise<void> {
    if (!this.#tx) return this.transaction((tx) => tx.executeMany(sql, rows));
    return this.#direct(() => {
      const s = this.#core.statement(sql);
      try {
        for (const r of rows) s.run(...toNative(r));
      } catch (e) {
        throw mapSqliteError(e);
      }
    });
  }

  script(sql: string): Promise<void> {
    return this.#direct(() => {
      try {
        this.#core.db.exec(sql);
      } catch (e) {
        throw mapSqliteError(e);
      }
    });
  }

  async transaction<T>(
    fn: (tx: Driver) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    if (this.#tx) {
      if (!this.#tx.active) {
        throw new StorageError("internal", "this transaction has already finished");
      }
      return await fn(this);
    }
    const core = this.#core;
    if (core.closed) throw new StorageError("closed", "the store is closed");
    const release = await core.mutex.lock();
    const state: TxState = { active: true, channels: new Set() };
    try {
      if (core.closed) throw new StorageError("closed", "the store is closed");
      await core.withBusyRetry(() => core.run(options.readOnly ? "BEGIN" : "BEGIN IMMEDIATE", []));
      let result: T;
      try {
        result = await fn(new SqliteHandle(core, state));
        state.active = false;
        await core.withBusyRetry(() => core.run("COMMIT", []));
      } catch (e) {
        state.active = false;
        if (!core.closed && core.db.isTransaction) {
          try {
            core.db.exec("ROLLBACK");
          } catch {
            // The rollback failing leaves nothing more to undo.
          }
        }
        throw e;
      }
      core.emitSoon(state.channels);
      return result;
    } finally {
      state.active = false;
      release();
    }
  }

  notify(channel: string): Promise<void> {
    if (this.#tx) {
      this.#tx.channels.add(channel);
    } else {
      this.#core.emitSoon([channel]);
    }
    return Promise.resolve();
  }

  watch(listener: ChangeListener): Promise<() => Promise<void>> {
    const core = this.#core;
    if (core.closed) return Promise.reject(new StorageError("closed", "the store is closed"));
    core.listeners.add(listener);
    core.startPolling();
    return Promise.resolve(() => {
      core.listeners.delete(listener);
      if (core.listeners.size === 0) core.stopPolling();
      return Promise.resolve();
    });
  }

  async close(): Promise<void> {
    if (this.#tx) throw new StorageError("internal", "close the store, not a transaction");
    if (this.#closed || this.#core.closed) return;
    this.#closed = true;
    const core = this.#core;
    if (--core.refs > 0) return;
    if (cores.get(core.key) === core) cores.delete(core.key);
    const release = await core.mutex.lock();
    try {
      core.close();
    } finally {
      release();
    }
  }
}

/**
 * One connection per database file per process: stores opened on the same
 * file share it (and its transaction lock), so two stores in one process
 * never wait on each other's SQLite lock while blocking the event loop.
 */
const cores = new Map<string, SqliteCore>();

/**
 * Opens (creating when missing) a SQLite database file, or `:memory:`.
 * The file is created with mode 0600 and its directory with 0700. Handles
 * opened on the same file in one process share one connection (the first
 * open's options apply); each must be closed.
 *
 * @example
 * ```ts
 * import { openSqlite } from "@alknet/storage/driver";
 * const db = openSqlite(":memory:");
 * await db.script("CREATE TABLE t (x INTEGER)");
 * await db.execute("INSERT INTO t (x) VALUES (?)", [42]);
 * console.log(await db.query("SELECT x FROM t")); // [ { x: 42 } ]
 * await db.close();
 * ```
 */
export function openSqlite(path: string, options: SqliteOptions = {}): Driver {
  if (path === ":memory:") return new SqliteHandle(new SqliteCore(path, path, options), null);
  // Never open and close the database file ourselves once SQLite may hold it:
  // closing any descriptor of a file drops every POSIX lock this process has
  // on it, SQLite's included, and another process would then think it is
  // alone (and delete the WAL under our feet). Only a file that does not
  // exist yet is created here.
  let key = realPath(path);
  if (key === null) {
    const slash = path.lastIndexOf("/");
    const dir = slash > 0 ? path.slice(0, slash) : slash === 0 ? "/" : ".";
    try {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
      Deno.openSync(path, { createNew: true, write: true, mode: 0o600 }).close();
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) {
        throw new StorageError(
          "unavailable",
          `cannot create SQLite database ${path}: ${(e as Error)?.message ?? e}`,
          { cause: e },
        );
      }
    }
    key = realPath(path);
    if (key === null) throw new StorageError("unavailable", `cannot resolve ${path}`);
  }
  const shared = cores.get(key);
  if (shared && !shared.closed) {
    shared.refs++;
    return new SqliteHandle(shared, null);
  }
  const core = new SqliteCore(path, key, options);
  cores.set(key, core);
  return new SqliteHandle(core, null);
}

function realPath(path: string): string | null {
  try {
    return Deno.realPathSync(path);
  } catch {
    return null;
  }
}
