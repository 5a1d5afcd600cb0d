/**
 * What `alknet serve --db LOCATION` adds (also `ALKNET_DB`, `[storage] db`):
 * the store's peers log in through a `StoreIdentityProvider` (next to the
 * authorized keys), the node appends its audit events (logins, sessions,
 * reloads; never a destination) to the `audit` topic, serves `peers/*`,
 * `credentials/*` (metadata only), `meta/*` and `streams/*` on its call
 * registry, each guarded by scopes, and closes the sessions of a peer that
 * is disabled or removed (by whatever process). `cli/serve.ts` only calls
 * this.
 *
 * @module
 */

import type { Logger, ServeOptions } from "@alknet/core";
import { CallError, type OperationRegistry } from "@alknet/call";
import { AuditSink, openStore, type Store, type StoreIdentityProvider } from "@alknet/storage";
import { storageOperations } from "@alknet/storage/ops";
import { addWorkerExtension } from "./mesh.ts";

/**
 * The flag `alknet serve` takes for this (spread into its flag table).
 */
export const STORE_FLAGS = { db: { type: "string" } } as const;

/** The call error a store failure becomes (codes as `@alknet/storage/ops` names them). */
function toError(code: string, message: string, details?: unknown): Error {
  return new CallError(code, message, { details });
}

/**
 * Registers the store's operations on `registry`; returns the names.
 */
export function registerStoreOperations(registry: OperationRegistry, store: Store): string[] {
  const ops = storageOperations(store, { toError });
  for (const op of ops) if (registry.spec(op.name) === undefined) registry.register(op);
  return ops.map((o) => o.name);
}

/**
 * The node's store, opened for `alknet serve`.
 */
export class NodeStore {
  /** The open store. */
  readonly store: Store;
  /** Its peers, as the node's identity provider. */
  readonly identity: StoreIdentityProvider;
  readonly #sink: AuditSink;

  private constructor(store: Store, identity: StoreIdentityProvider, sink: AuditSink) {
    this.store = store;
    this.identity = identity;
    this.#sink = sink;
  }

  /**
   * Opens the store at `location` (undefined: no store, resolves to
   * undefined), loads the peer index and logs peer changes as `peer
   * changed` lines.
   */
  static async open(location: string | undefined, logger: Logger): Promise<NodeStore | undefined> {
    if (location === undefined) return undefined;
    const store = await openStore(location);
    try {
      const identity = await store.identityProvider({
        onChange: (c) =>
          logger.event("peer changed", {
            peer: c.peerId,
            kind: c.kind,
            state: c.identity === null ? "refused" : "allowed",
          }),
      });
      const sink = new AuditSink(store.streams, {
        onError: (e, lost) => logger.warn(`audit: ${lost} event(s) not written: ${e.message}`),
      });
      logger.event("store opened", {
        location: store.location,
        backend: store.backend,
        peers: identity.size,
      });
      return new NodeStore(store, identity, sink);
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  /** The `serve()` options: the identity provider and the audit hook. */
  serveOptions(): Pick<ServeOptions, "identity" | "audit"> {
    return { identity: this.identity, audit: (e) => this.#sink.write(e) };
  }

  /** Registers the storage operations on the node's registry (returns it). */
  wire<R extends OperationRegistry>(registry: R): R {
    registerStoreOperations(registry, this.store);
    return registry;
  }

  /** Writes what the audit queue holds, then closes the store. */
  async close(): Promise<void> {
    await this.#sink.flush();
    await this.store.close();
  }
}

/**
 * Opens the store of `alknet connect --worker NAME --db LOCATION`: the
 * worker serves its operations to the head, each guarded by scopes as on
 * a node (the head's callers need them).
 */
export async function openWorkerStore(location: string): Promise<Store> {
  const store = await openStore(location);
  addWorkerExtension((registry) => void registerStoreOperations(registry, store));
  return store;
}
