/**
 * `openStore(location)`: one store API over embedded SQLite or PostgreSQL,
 * migrated at open.
 *
 * @module
 */

import { ChangeHub } from "./changes.ts";
import { checkDatabase, type CheckReport } from "./check.ts";
import { CredentialStore } from "./credentials.ts";
import type { PostgresOptions } from "./driver/postgres.ts";
import { openSqlite, type SqliteOptions } from "./driver/sqlite.ts";
import type { Driver } from "./driver/types.ts";
import { StorageError } from "./errors.ts";
import { type IdentityProviderOptions, StoreIdentityProvider } from "./identity.ts";
import { type StoreInternals, storeInternals } from "./internals.ts";
import { defaultStoreLocation, parseLocation, redactLocation } from "./location.ts";
import { Metagraph } from "./metagraph.ts";
import { SchemaCache } from "./metagraph_schema.ts";
import { migrate, schemaVersion } from "./migrations.ts";
import { PeerStore } from "./peers.ts";
import { StreamWriter } from "./streams.ts";
import { StreamStore } from "./subscription.ts";

/**
 * Options of {@link openStore}.
 *
 * @example
 * ```ts
 * import { openStore, type OpenStoreOptions } from "@alknet/storage";
 * const options: OpenStoreOptions = { sqlite: { busyTimeoutMs: 10_000 }, postgres: { schema: "fleet" } };
 * const store = await openStore(":memory:", options);
 * console.log(store.backend); // "sqlite"
 * await store.close();
 * ```
 */
export interface OpenStoreOptions {
  /** Options for a SQLite location. */
  sqlite?: SqliteOptions;
  /** Options for a PostgreSQL location. */
  postgres?: PostgresOptions;
}

/**
 * The concerns bound to one transaction: everything written through it
 * commits together or not at all (the outbox: a business write and its
 * event).
 *
 * @example
 * ```ts
 * import { openStore, type StoreTransaction } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * async function onboard(tx: StoreTransaction) {
 *   await tx.peers.add({ peerId: "carol" });
 *   await tx.streams.append("onboarding", { type: "peer.onboarded", data: { peer: "carol" } });
 * }
 * await store.transaction(onboard);
 * console.log(await store.streams.head("onboarding")); // 1
 * await store.close();
 * ```
 */
export interface StoreTransaction {
  /** Raw SQL in the transaction (`?` placeholders on both backends), for your own tables. */
  readonly sql: Driver;
  /** Peers. */
  readonly peers: PeerStore;
  /** Credentials. */
  readonly credentials: CredentialStore;
  /** The metagraph. */
  readonly metagraph: Metagraph;
  /** Streams (appending, offsets; subscriptions live on the store). */
  readonly streams: StreamWriter;
}

/**
 * An open store. Get one from {@link openStore}; close it when done.
 *
 * @example
 * ```ts
 * import { openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * await store.sql.script("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL)");
 * await store.transaction(async (tx) => {
 *   await tx.sql.execute("INSERT INTO orders (id, item) VALUES (?, ?)", [1, "book"]);
 *   await tx.streams.append("orders", { type: "order.placed", data: { id: 1 } });
 * });
 * console.log(await store.streams.head("orders")); // 1
 * await store.close();
 * ```
 */
export class Store {
  /** `sqlite` or `postgres`. */
  readonly backend: "sqlite" | "postgres";
  /** The location, any password replaced by `***`. */
  readonly location: string;
  /** Raw SQL on the store's database (`?` placeholders on both backends). */
  readonly sql: Driver;
  /** Peers. */
  readonly peers: PeerStore;
  /** Credentials. */
  readonly credentials: CredentialStore;
  /** The metagraph. */
  readonly metagraph: Metagraph;
  /** Streams, with subscriptions. */
  readonly streams: StreamStore;
  readonly #internals: StoreInternals;
  readonly #cache: SchemaCache;
  #closed = false;

  private constructor(location: string, driver: Driver) {
    this.backend = driver.dialect;
    this.location = redactLocation(location);
    this.sql = driver;
    this.#cache = new SchemaCache();
    const hub = new ChangeHub(driver);
    this.#internals = { driver, hub, closables: new Set() };
    storeInternals.set(this, this.#internals);
    this.peers = new PeerStore(driver);
    this.credentials = new CredentialStore(driver);
    this.metagraph = new Metagraph(driver, this.#cache);
    this.streams = new StreamStore(driver, hub);
  }

  /** Opens a store (see {@link openStore}). */
  static async open(location?: string, options: OpenStoreOptions = {}): Promise<Store> {
    const where = location ?? defaultStoreLocation();
    const parsed = parseLocation(where);
    const schema = parsed.backend === "postgres"
      ? options.postgres?.schema ?? parsed.schema
      : undefined;
    // npm:postgres is loaded only for PostgreSQL locations.
    const driver = parsed.backend === "sqlite"
      ? openSqlite(parsed.path, options.sqlite)
      : (await import("./driver/postgres.ts")).openPostgres(parsed.url, {
        ...options.postgres,
        schema,
      });
    try {
      await migrate(driver, { schema });
    } catch (e) {
      await driver.close().catch(() => {});
      throw e;
    }
    return new Store(where, driver);
  }

  /**
   * Runs `fn` in one transaction: committed when it returns, rolled back
   * (with everything written through `tx`) when it throws. Change
   * notifications go out on commit only.
   */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    this.#open();
    return this.sql.transaction((db) =>
      fn({
        sql: db,
        peers: new PeerStore(db),
        credentials: new CredentialStore(db),
        metagraph: new Metagraph(db, this.#cache),
        streams: new StreamWriter(db),
      })
    );
  }

  /** A {@link StoreIdentityProvider} over this store's peers, loaded and following changes. */
  identityProvider(options?: IdentityProviderOptions): Promise<StoreIdentityProvider> {
    this.#open();
    return StoreIdentityProvider.open(this, options);
  }

  /** Integrity checks and the schema version (`alknet db check`). */
  check(): Promise<CheckReport> {
    this.#open();
    return checkDatabase(this.sql, this.#cache);
  }

  /** The database's schema version. */
  schemaVersion(): Promise<number> {
    this.#open();
    return schemaVersion(this.sql);
  }

  #open(): void {
    if (this.#closed) throw new StorageError("closed", "the store is closed");
  }

  /** Closes identity providers, ends subscriptions, then closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of [...this.#internals.closables]) await c.close().catch(() => {});
    await this.#internals.hub.close();
    await this.sql.close();
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Opens the store at `location`, creating and migrating it as needed:
 * a file path or `sqlite:PATH` (`:memory:` for a throwaway one) is
 * embedded SQLite; `postgres://user:pass@host:port/db` is PostgreSQL.
 * Without a location, the default SQLite file in the data dir. Throws
 * `schema-too-new` for a database from a newer alknet.
 *
 * @example
 * ```ts
 * import { openStore } from "@alknet/storage";
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`sqlite:${dir}/alknet.db`);
 * console.log(store.backend, await store.schemaVersion()); // "sqlite" 1
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openStore(location?: string, options?: OpenStoreOptions): Promise<Store> {
  return Store.open(location, options);
}
