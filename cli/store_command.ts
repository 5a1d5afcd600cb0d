/**
 * What `alknet peers`, `credentials`, `events` and `db` share: they run the
 * store's operations (`@alknet/storage/ops`) either on a local database
 * (`--db LOCATION`, else `ALKNET_DB` or `[storage] db` of the
 * configuration, else the default SQLite file in the data dir) through an
 * in-process registry, or on a node through `--node URL` with the
 * connection flags of `alknet call`. Both ways run the same operations with
 * the same validation, so the commands have one code path.
 *
 * Exit codes as `alknet call`: 0 ok, 2 usage, 3 the operation answered an
 * error (JSON on stderr), 4 the node or the database could not be reached.
 *
 * @module
 */

import type { ParseArgsConfig } from "node:util";
import { CallError, OperationRegistry } from "@alknet/call";
import { loadConfig } from "@alknet/core/config";
import { openStore, StorageError, type Store } from "@alknet/storage";
import { callCode, storageOperations } from "@alknet/storage/ops";
import {
  CONNECT_HELP,
  type ConnectFlags,
  EXIT_OK,
  type ExtraValues,
  parseConnectFlags,
  reportError,
  UsageError,
  withConnection,
} from "./call_flags.ts";

/**
 * The help lines of the database flags.
 */
export const DB_HELP: string =
  `  --db LOCATION                the database: a SQLite path, sqlite:PATH or postgres://...
                               (default: ALKNET_DB, else [storage] db of --config/ALKNET_CONFIG,
                               else ~/.local/share/alknet/alknet.db)
  --config FILE                read [storage] db from this configuration file`;

/**
 * The help lines of the location flags: the database, or a node.
 */
export const LOCATION_HELP: string = `${DB_HELP}
  --node URL                   act on a node's database through its call protocol instead
                               (needs a scope such as admin:peers); connection options:
${CONNECT_HELP}`;

/** Who a local command acts as: the owner of the database file may do everything. */
const LOCAL_ADMIN = { id: "local", scopes: ["*"], resources: {} };

/**
 * Runs the store's operations, locally or on a node.
 */
export interface StoreClient {
  /** Calls a query or mutation. */
  call<T = unknown>(name: string, input: unknown): Promise<T>;
  /** Runs a subscription until `signal` aborts or it ends. */
  subscribe(name: string, input: unknown, signal: AbortSignal): AsyncIterable<unknown>;
  /** The local store, or undefined through `--node`. */
  readonly store?: Store;
}

/** What a store command receives. */
export interface StoreCommandContext {
  /** The positionals after the subcommand (`--node URL` removed). */
  positionals: string[];
  /** The command's own flag values. */
  values: ExtraValues;
}

/** Options of {@link runStoreCommand}. */
export interface StoreCommandOptions {
  /** `peers`, `credentials`, ... for messages. */
  command: string;
  /** The usage text. */
  usage: string;
  /** The command's own flags (besides the location and connection flags). */
  flags?: NonNullable<ParseArgsConfig["options"]>;
  /** Only on a local database (the work needs the database itself, e.g. sealed blobs). */
  localOnly?: boolean;
}

/**
 * The database location for a local command: `--db`, else the
 * configuration (`ALKNET_DB`, `[storage] db` of `--config` or
 * `ALKNET_CONFIG`), else undefined (the default SQLite file).
 */
export async function storeLocation(
  db: string | undefined,
  config?: string,
): Promise<string | undefined> {
  if (db !== undefined) return db;
  return (await loadConfig({ path: config })).config.storage?.db;
}

/** Reaching the database is exit 4; what it answered is exit 3, as from a node. */
const UNREACHABLE = new Set(["unavailable", "bad-location", "schema-too-new", "migration-failed"]);

function asCallError(e: unknown): unknown {
  if (!(e instanceof StorageError) || UNREACHABLE.has(e.code)) return e;
  const details = e.issues.length ? { issues: e.issues } : undefined;
  return new CallError(callCode(e.code), e.message, { details });
}

function localClient(store: Store): StoreClient {
  const registry = new OperationRegistry();
  const toError = (code: string, message: string, details?: unknown) =>
    new CallError(code, message, { details });
  for (const op of storageOperations(store, { toError })) registry.register(op);
  return {
    store,
    call: <T>(name: string, input: unknown) =>
      registry.invoke(name, input, { identity: LOCAL_ADMIN }) as Promise<T>,
    subscribe: (name, input, signal) =>
      registry.subscribe(name, input, { identity: LOCAL_ADMIN, signal }),
  };
}

/**
 * The subcommand `args[0]` names in `table`, with the arguments after it;
 * or the exit code when there is none to run: the usage for help (0) or no
 * subcommand (2), an error naming an unknown one (2).
 */
export function pickSubcommand<T>(
  group: string,
  args: string[],
  usage: string,
  table: Record<string, T>,
): { sub: string; run: T; rest: string[] } | number {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    console.log(usage);
    return sub === undefined ? 2 : 0;
  }
  const run = Object.hasOwn(table, sub) ? table[sub] : undefined;
  if (run === undefined) {
    console.error(`alknet ${group}: unknown subcommand '${sub}'\n\n${usage}`);
    return 2;
  }
  return { sub, run, rest };
}

/**
 * Parses the flags, opens the database (or connects to `--node`), runs
 * `run`, closes, and turns errors into exit codes.
 */
export async function runStoreCommand(
  args: string[],
  options: StoreCommandOptions,
  run: (client: StoreClient, ctx: StoreCommandContext) => Promise<number>,
): Promise<number> {
  const { command, usage } = options;
  let flags: ConnectFlags;
  let values: ExtraValues;
  try {
    ({ flags, values } = parseConnectFlags(args, {
      ...options.flags,
      db: { type: "string" },
      config: { type: "string" },
    }));
    if (flags.help) {
      console.log(usage);
      return EXIT_OK;
    }
    if (values.node === undefined) {
      const stray = (["identity", "vault", "token", "user"] as const).find((k) =>
        flags[k] !== undefined
      );
      if (stray) throw new UsageError(`--${stray} needs --node URL`);
    } else {
      if (options.localOnly) throw new UsageError("this command works on a local --db only");
      if (values.db !== undefined) throw new UsageError("choose --db or --node, not both");
    }
  } catch (e) {
    return reportError(e, command, usage);
  }
  if (values.node !== undefined) {
    const [target, ...positionals] = flags.positionals;
    return await withConnection(command, usage, target, flags, (conn) =>
      run({
        call: <T>(name: string, input: unknown) =>
          conn.call<T>(name, input, { timeoutMs: flags.timeout }),
        subscribe: (name, input, signal) => conn.subscribe(name, input, { signal }),
      }, { positionals, values }));
  }
  let store: Store | undefined;
  try {
    store = await openStore(
      await storeLocation(values.db as string | undefined, values.config as string | undefined),
    );
    return await run(localClient(store), { positionals: flags.positionals, values });
  } catch (e) {
    return reportError(asCallError(e), command, usage);
  } finally {
    await store?.close();
  }
}

/**
 * Splits `--scopes a,b` into a list (undefined when not given).
 */
export function listFlag(flag: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const list = String(value).split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (list.length === 0) throw new UsageError(`${flag} needs at least one entry`);
  return list;
}

/**
 * Formats rows as aligned columns (the last one unpadded).
 */
export function columns(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => widths[i] = Math.max(widths[i] ?? 0, c.length));
  return rows.map((r) => r.map((c, i) => i < r.length - 1 ? c.padEnd(widths[i]) : c).join("  "))
    .join("\n");
}
