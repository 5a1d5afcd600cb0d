/**
 * `@alknet/storage/testing`: a throwaway PostgreSQL server and the helpers
 * the conformance suite runs on both backends with. Reusable by any test
 * that needs a real store.
 *
 * @example
 * ```ts
 * import { freshLocation } from "@alknet/storage/testing";
 * import { openStore } from "@alknet/storage";
 * const { location, cleanup } = await freshLocation("sqlite");
 * const store = await openStore(location);
 * console.log(store.backend); // "sqlite"
 * await store.close();
 * await cleanup();
 * ```
 *
 * @module
 */

export { PostgresServer, type PostgresServerOptions, sharedPostgres } from "./postgres_server.ts";
export {
  type BackendContext,
  BACKENDS,
  backendTest,
  eventually,
  freshLocation,
} from "./backends.ts";
export { signToken, type TestKey, testKey } from "./keys.ts";
