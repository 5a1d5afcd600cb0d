/**
 * `@alknet/storage/ops`: the store's operations for the call protocol
 * (`peers/*`, `credentials/*` metadata only, `meta/*`, `streams/*`), each
 * guarded by scopes. They have `@alknet/call`'s `OperationDefinition`
 * shape without importing it, so a node registers them in one line.
 *
 * Scopes: `admin:peers` (or `peers:read` to read); `admin:credentials` (or
 * `credentials:read`); `admin:meta`, `meta:write`, `meta:read`;
 * `admin:streams`, `streams:write`, `streams:read`, and `audit:read` for the
 * `audit` topic. `*` grants everything.
 *
 * @example
 * ```ts
 * import { openStore } from "@alknet/storage";
 * import { storageOperations } from "@alknet/storage/ops";
 * const store = await openStore(":memory:");
 * // In a node: for (const op of storageOperations(store, { toError })) registry.register(op);
 * // with toError = (code, message, details) => new CallError(code, message, { details })
 * const ops = storageOperations(store);
 * console.log(ops.find((o) => o.name === "peers/add")?.access); // { scopes_any: [ "admin:peers" ] }
 * const ctx = { identity: { id: "admin", scopes: ["*"] }, signal: new AbortController().signal };
 * const add = ops.find((o) => o.name === "peers/add")!.handler!;
 * const peer = await add({ peer_id: "alice" }, ctx) as { peer_id: string };
 * console.log(peer.peer_id); // "alice"
 * await store.close();
 * ```
 *
 * @module
 */

import type { Store } from "../store.ts";
import type { ErrorFactory, StorageOperation } from "./common.ts";
import { metaOperations } from "./meta.ts";
import { credentialOperations, peerOperations } from "./peers.ts";
import { streamOperations } from "./streams.ts";

export {
  callCode,
  type ErrorFactory,
  type OperationCaller,
  type OperationContext,
  type OperationErrorSpec,
  STORAGE_OPERATION_ERRORS,
  type StorageOperation,
} from "./common.ts";
export { type PeerWire, peerWire } from "./peers.ts";

/**
 * Which operation families to serve.
 *
 * @example
 * ```ts
 * import type { OperationFamily } from "@alknet/storage/ops";
 * const families: OperationFamily[] = ["peers", "streams"];
 * console.log(families.length); // 2
 * ```
 */
export type OperationFamily = "peers" | "credentials" | "meta" | "streams";

/**
 * Options of {@link storageOperations}.
 *
 * @example
 * ```ts
 * import { openStore } from "@alknet/storage";
 * import { storageOperations, type StorageOperationsOptions } from "@alknet/storage/ops";
 * const store = await openStore(":memory:");
 * const options: StorageOperationsOptions = { families: ["credentials"] };
 * console.log(storageOperations(store, options).map((o) => o.name)); // [ "credentials/list", "credentials/info", "credentials/remove" ]
 * await store.close();
 * ```
 */
export interface StorageOperationsOptions {
  /**
   * Turns a failure into the error the handler throws (default: an `Error`
   * with `code` and `details` properties). Pass one that builds
   * `@alknet/call`'s `CallError` so callers get the code.
   */
  toError?: ErrorFactory;
  /** The families to include (default all). */
  families?: OperationFamily[];
}

function defaultError(code: string, message: string, details?: unknown): Error {
  return Object.assign(new Error(message), { code, details });
}

/**
 * The store's call-protocol operations.
 *
 * @example
 * ```ts
 * import { openStore } from "@alknet/storage";
 * import { storageOperations } from "@alknet/storage/ops";
 * const store = await openStore(":memory:");
 * const names = storageOperations(store, { families: ["streams"] }).map((o) => o.name);
 * console.log(names.includes("streams/subscribe")); // true
 * await store.close();
 * ```
 */
export function storageOperations(
  store: Store,
  options: StorageOperationsOptions = {},
): StorageOperation[] {
  const toError = options.toError ?? defaultError;
  const families = new Set(options.families ?? ["peers", "credentials", "meta", "streams"]);
  return [
    ...(families.has("peers") ? peerOperations(store, toError) : []),
    ...(families.has("credentials") ? credentialOperations(store, toError) : []),
    ...(families.has("meta") ? metaOperations(store, toError) : []),
    ...(families.has("streams") ? streamOperations(store, toError) : []),
  ];
}
