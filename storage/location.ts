/**
 * Store locations: a file path or `sqlite:PATH` selects embedded SQLite,
 * `postgres://` or `postgresql://` selects PostgreSQL.
 *
 * @module
 */

import { StorageError } from "./errors.ts";

/**
 * A parsed store location.
 *
 * @example
 * ```ts
 * import { parseLocation, type StoreLocation } from "@alknet/storage";
 * const where: StoreLocation = parseLocation("sqlite:/tmp/a.db");
 * console.log(where.backend); // "sqlite"
 * ```
 */
export type StoreLocation =
  | {
    /** Embedded SQLite. */
    backend: "sqlite";
    /** The database file, or `:memory:`. */
    path: string;
  }
  | {
    /** PostgreSQL. */
    backend: "postgres";
    /** The connection URL, without alknet's own `schema` parameter. */
    url: string;
    /** The schema named by `?schema=NAME`, if any. */
    schema?: string;
  };

/**
 * Parses a location: `postgres://...` and `postgresql://...` are PostgreSQL
 * (`?schema=NAME` picks the schema holding alknet's tables, default
 * `alknet`); `sqlite:PATH`, `:memory:` and any other non-empty text are a
 * SQLite file.
 *
 * @example
 * ```ts
 * import { parseLocation } from "@alknet/storage";
 * console.log(parseLocation("sqlite:/var/lib/alknet/alknet.db")); // { backend: "sqlite", path: "/var/lib/alknet/alknet.db" }
 * console.log(parseLocation("postgres://alknet@db:5432/alknet?schema=fleet"));
 * // { backend: "postgres", url: "postgres://alknet@db:5432/alknet", schema: "fleet" }
 * ```
 */
export function parseLocation(location: string): StoreLocation {
  if (typeof location !== "string" || location.trim() === "") {
    throw new StorageError("bad-location", "store location is empty");
  }
  if (/^postgres(ql)?:\/\//i.test(location)) {
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      throw new StorageError(
        "bad-location",
        `not a valid PostgreSQL URL: ${redactLocation(location)}`,
      );
    }
    const schema = url.searchParams.get("schema");
    if (schema === null) return { backend: "postgres", url: location };
    url.searchParams.delete("schema");
    return { backend: "postgres", url: url.toString(), schema };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new StorageError(
      "bad-location",
      `unsupported store location scheme in ${
        redactLocation(location)
      } (use a path, sqlite:PATH or postgres://)`,
    );
  }
  const path = location.startsWith("sqlite:") ? location.slice("sqlite:".length) : location;
  if (path === "") throw new StorageError("bad-location", "sqlite: location names no file");
  return { backend: "sqlite", path };
}

/**
 * The location with any password in it replaced by `***`, for logs and
 * error messages.
 *
 * @example
 * ```ts
 * import { redactLocation } from "@alknet/storage";
 * console.log(redactLocation("postgres://alknet:s3cret@db/alknet")); // "postgres://alknet:***@db/alknet"
 * ```
 */
export function redactLocation(location: string): string {
  return location.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, "$1:***@");
}

/**
 * The default SQLite location: `$XDG_DATA_HOME/alknet/alknet.db`, else
 * `$HOME/.local/share/alknet/alknet.db`.
 *
 * @param env where to read `XDG_DATA_HOME` and `HOME` (default: `Deno.env`)
 * @example
 * ```ts
 * import { defaultStoreLocation } from "@alknet/storage";
 * console.log(defaultStoreLocation({ XDG_DATA_HOME: "/data" })); // "/data/alknet/alknet.db"
 * ```
 */
export function defaultStoreLocation(env?: Record<string, string | undefined>): string {
  const get = (name: string) => env ? env[name] : Deno.env.get(name);
  const xdg = get("XDG_DATA_HOME");
  if (xdg) return `${xdg.replace(/\/+$/, "")}/alknet/alknet.db`;
  const home = get("HOME");
  if (!home) {
    throw new StorageError(
      "bad-location",
      "neither XDG_DATA_HOME nor HOME is set; pass a location",
    );
  }
  return `${home.replace(/\/+$/, "")}/.local/share/alknet/alknet.db`;
}
