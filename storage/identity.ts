/**
 * `StoreIdentityProvider`: resolves SSH key fingerprints and signed tokens
 * to identities from an in-memory index of the store's peers, and follows
 * changes made by any process (SQLite: `PRAGMA data_version` polling;
 * PostgreSQL: `LISTEN/NOTIFY`), applying each batch of changes at once.
 * It satisfies `@alknet/core`'s `IdentityProvider` structurally.
 *
 * @module
 */

import type { ChangeHub } from "./changes.ts";
import type { Driver } from "./driver/types.ts";
import { StorageError } from "./errors.ts";
import { storeInternals } from "./internals.ts";
import { groupPeers, loadPeers, type Peer, PEER_COLUMNS, type PeerRow } from "./peers.ts";
import { ed25519RawKey } from "./ssh_key.ts";
import { tokenKeyIdOf, verifySignedToken } from "./token.ts";

/**
 * An authenticated principal, the same shape as `Identity` in
 * `@alknet/core`: for a peer, `id` is its `peerId`.
 *
 * @example
 * ```ts
 * import type { Identity } from "@alknet/storage";
 * const who: Identity = { id: "alice", scopes: ["relay:connect"], resources: {} };
 * console.log(who.id); // "alice"
 * ```
 */
export interface Identity {
  /** The peer id. */
  id: string;
  /** Granted scopes. */
  scopes: string[];
  /** Resource names per resource type. */
  resources: Record<string, string[]>;
}

/**
 * How one peer's standing changed. A node closes the peer's open sessions
 * when `identity` is null (disabled or removed), and those that logged in
 * with a key listed in `revokedFingerprints` / `revokedTokenKeyIds`.
 *
 * @example
 * ```ts
 * import type { PeerChange } from "@alknet/storage";
 * // What a node does with a change: which sessions to close.
 * function mustClose(c: PeerChange, session: { peer: string; fingerprint: string }): boolean {
 *   return session.peer === c.peerId &&
 *     (c.identity === null || c.revokedFingerprints.includes(session.fingerprint));
 * }
 * console.log(typeof mustClose); // "function"
 * ```
 */
export interface PeerChange {
  /** The peer id. */
  peerId: string;
  /** Whether the record appeared, changed or disappeared. */
  kind: "added" | "updated" | "removed";
  /** What the peer resolves to now; null when it is refused (disabled or removed). */
  identity: Identity | null;
  /** What it resolved to before; null when it was refused. */
  previous: Identity | null;
  /** Fingerprints that resolved to this peer before and no longer do. */
  revokedFingerprints: string[];
  /** Token key ids that resolved to this peer before and no longer do. */
  revokedTokenKeyIds: string[];
}

/**
 * Receives each {@link PeerChange}, after the index has been updated.
 *
 * @example
 * ```ts
 * import type { PeerChangeListener } from "@alknet/storage";
 * const log: PeerChangeListener = (c) => console.log(`${c.peerId} ${c.identity ? "allowed" : "refused"}`);
 * log({ peerId: "bob", kind: "removed", identity: null, previous: null, revokedFingerprints: [], revokedTokenKeyIds: [] }); // bob refused
 * ```
 */
export type PeerChangeListener = (change: PeerChange) => void;

/**
 * Options of {@link StoreIdentityProvider.open}.
 *
 * @example
 * ```ts
 * import { type IdentityProviderOptions, openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * const options: IdentityProviderOptions = { onChange: (c) => console.log(c.peerId, c.kind) };
 * const provider = await store.identityProvider(options);
 * console.log(provider.size); // 0
 * await store.close();
 * ```
 */
export interface IdentityProviderOptions {
  /** A first change listener (more with {@link StoreIdentityProvider.onChange}). */
  onChange?: PeerChangeListener;
  /** Unix seconds for the token window (default: the clock). */
  nowSeconds?: () => number;
}

interface Entry {
  peerId: string;
  enabled: boolean;
  identity: Identity;
  fingerprints: string[];
  tokenKeys: Map<string, Uint8Array>;
  signature: string;
}

function entryOf(p: Peer): Entry {
  const tokenKeys = new Map<string, Uint8Array>();
  for (const k of p.keys) {
    const raw = k.tokenKeyId && k.publicKey ? ed25519RawKey(k.publicKey) : null;
    if (raw && k.tokenKeyId) tokenKeys.set(k.tokenKeyId, raw);
  }
  const fingerprints = [...p.fingerprints].sort();
  return {
    peerId: p.peerId,
    enabled: p.enabled,
    identity: { id: p.peerId, scopes: p.scopes, resources: p.resources },
    fingerprints,
    tokenKeys,
    signature: JSON.stringify([
      p.enabled,
      p.scopes,
      p.resources,
      fingerprints,
      [...tokenKeys.keys()].sort(),
    ]),
  };
}

function copy(identity: Identity): Identity {
  const resources: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(identity.resources)) resources[k] = [...v];
  return { id: identity.id, scopes: [...identity.scopes], resources };
}

function changeOf(before: Entry | undefined, after: Entry | undefined): PeerChange {
  const peerId = (before ?? after)!.peerId;
  const was = before?.enabled ? before : undefined;
  const now = after?.enabled ? after : undefined;
  return {
    peerId,
    kind: !before ? "added" : !after ? "removed" : "updated",
    identity: now ? copy(now.identity) : null,
    previous: was ? copy(was.identity) : null,
    revokedFingerprints: (was?.fingerprints ?? []).filter((f) => !now?.fingerprints.includes(f)),
    revokedTokenKeyIds: [...(was?.tokenKeys.keys() ?? [])].filter((k) => !now?.tokenKeys.has(k)),
  };
}

/**
 * The identity provider of a store's peers, for `serve({ identityProvider })`.
 * Resolution is synchronous, from memory; changes from any process arrive
 * within milliseconds (bounded by a 1 ms poll on SQLite).
 *
 * @example
 * ```ts
 * import { openStore, StoreIdentityProvider } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * const provider = await StoreIdentityProvider.open(store, {
 *   onChange: (c) => console.log(c.peerId, c.identity === null ? "refused: close its sessions" : "allowed"),
 * });
 * const peer = await store.peers.add({ peerId: "bob", fingerprints: ["SHA256:" + "B".repeat(43)] });
 * await provider.refresh(); // changes also arrive by themselves
 * console.log(provider.resolveFingerprint(peer.fingerprints[0])?.id); // "bob"
 * await store.peers.disable("bob");
 * await provider.refresh();
 * console.log(provider.resolveFingerprint(peer.fingerprints[0])); // null
 * await store.close(); // closes the provider too
 * ```
 */
export class StoreIdentityProvider {
  readonly #driver: Driver;
  readonly #hub: ChangeHub;
  readonly #now: () => number;
  readonly #listeners = new Set<PeerChangeListener>();
  #peers = new Map<string, Entry>();
  #byFingerprint = new Map<string, Entry>();
  #byTokenKey = new Map<string, Entry>();
  #version = -1;
  #unsubscribe: (() => Promise<void>) | null = null;
  #syncing: Promise<void> | null = null;
  #again = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #lastError: StorageError | null = null;
  #onClose: (() => void) | null = null;

  private constructor(driver: Driver, hub: ChangeHub, options: IdentityProviderOptions) {
    this.#driver = driver;
    this.#hub = hub;
    this.#now = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    if (options.onChange) this.#listeners.add(options.onChange);
  }

  /**
   * Loads the index from `store` and starts following its changes. Closed
   * with the store, or earlier with {@link close}.
   */
  static async open(
    store: object,
    options: IdentityProviderOptions = {},
  ): Promise<StoreIdentityProvider> {
    const internals = storeInternals.get(store);
    if (!internals) throw new StorageError("invalid-input", "not a store from openStore()");
    const p = new StoreIdentityProvider(internals.driver, internals.hub, options);
    internals.closables.add(p);
    p.#onClose = () => internals.closables.delete(p);
    try {
      p.#unsubscribe = await internals.hub.subscribe("peers", () => p.#kick());
      await p.refresh();
    } catch (e) {
      await p.close();
      throw e;
    }
    return p;
  }

  /** The identity of the enabled peer holding this key fingerprint, or null. */
  resolveFingerprint(fingerprint: string): Identity | null {
    const e = this.#byFingerprint.get(fingerprint);
    return e && e.enabled ? copy(e.identity) : null;
  }

  /**
   * The identity a signed token (DESIGN 4.5, ±300 s) stands for, when an
   * enabled peer's Ed25519 key signed it; null otherwise. API keys (`alk_`)
   * are not kept in the store: null.
   */
  resolveToken(token: string): Identity | null {
    const keyId = tokenKeyIdOf(token);
    const e = keyId ? this.#byTokenKey.get(keyId) : undefined;
    if (!e || !e.enabled) return null;
    const ok = verifySignedToken(token, (id) => e.tokenKeys.get(id) ?? null, this.#now());
    return ok ? copy(e.identity) : null;
  }

  /** The identity of the enabled peer holding the Ed25519 key with this token key id (hex). */
  resolveTokenKeyId(keyId: string): Identity | null {
    const e = this.#byTokenKey.get(keyId);
    return e && e.enabled ? copy(e.identity) : null;
  }

  /** How many peers the index holds (enabled or not). */
  get size(): number {
    return this.#peers.size;
  }

  /** The store's peer change counter the index reflects. */
  get version(): number {
    return this.#version;
  }

  /** Calls `listener` with every change applied from now on; returns the unsubscribe. */
  onChange(listener: PeerChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Catches up with the store now (changes also arrive on their own). */
  async refresh(): Promise<void> {
    if (this.#closed) throw new StorageError("closed", "the identity provider is closed");
    this.#kick();
    while (this.#syncing) await this.#syncing;
    if (this.#lastError !== null) throw this.#lastError;
  }

  #kick(): void {
    if (this.#closed) return;
    if (this.#syncing) {
      this.#again = true;
      return;
    }
    this.#syncing = (async () => {
      try {
        do {
          this.#again = false;
          await this.#sync();
        } while (this.#again && !this.#closed);
        this.#lastError = null;
      } catch (e) {
        this.#lastError = e instanceof StorageError
          ? e
          : new StorageError("internal", `peer index update failed: ${(e as Error)?.message}`, {
            cause: e,
          });
        // The database is unreachable for now: keep the index, try again soon.
        if (!this.#closed && this.#retry === undefined) {
          this.#retry = setTimeout(() => {
            this.#retry = undefined;
            this.#kick();
          }, 500);
        }
      } finally {
        this.#syncing = null;
      }
    })();
  }

  async #sync(): Promise<void> {
    const db = this.#driver;
    // One statement (one snapshot, one round trip): the counter, the changes
    // after what the index has, and the changed peers with their keys.
    const rows = await db.query<
      PeerRow & { current: number; change_version: number | null; change_peer: string | null }
    >(
      "SELECT c.value AS current, pc.version AS change_version, pc.peer_id AS change_peer, " +
        PEER_COLUMNS + " FROM counters c " +
        "LEFT JOIN peer_changes pc ON pc.version > ? " +
        "LEFT JOIN peers p ON p.peer_id = pc.peer_id " +
        "LEFT JOIN peer_keys k ON k.peer_id = p.peer_id " +
        "WHERE c.name = 'peers' ORDER BY pc.version, k.created_at, k.fingerprint",
      [Math.max(this.#version, 0)],
    );
    const current = Number(rows[0]?.current ?? 0);
    if (current === this.#version || this.#closed) return;
    const log = rows.filter((r) => r.change_version !== null);
    const incremental = this.#version >= 0 && current > this.#version && log.length > 0 &&
      Number(log[0].change_version) === this.#version + 1;
    if (incremental) {
      this.#apply(new Set(log.map((r) => r.change_peer!)), groupPeers(log));
      this.#version = Math.max(current, Number(log[log.length - 1].change_version));
      return;
    }
    // First load, a gap in the kept log, or a counter that went backwards.
    const [{ value }] = await db.query<{ value: number }>(
      "SELECT value FROM counters WHERE name = 'peers'",
    );
    const all = await loadPeers(db);
    if (this.#closed) return;
    this.#apply(new Set([...this.#peers.keys(), ...all.map((p) => p.peerId)]), all);
    this.#version = Number(value);
  }

  /** Replaces the entries of `ids` with `peers` in one synchronous step, then tells listeners. */
  #apply(ids: Set<string>, peers: Peer[]): void {
    if (this.#closed) return;
    const fresh = new Map(peers.map((p) => [p.peerId, entryOf(p)]));
    const changes: PeerChange[] = [];
    for (const id of ids) {
      const before = this.#peers.get(id);
      const after = fresh.get(id);
      if (before?.signature === after?.signature) continue;
      if (before) {
        for (const f of before.fingerprints) {
          if (this.#byFingerprint.get(f) === before) this.#byFingerprint.delete(f);
        }
        for (const k of before.tokenKeys.keys()) {
          if (this.#byTokenKey.get(k) === before) this.#byTokenKey.delete(k);
        }
        this.#peers.delete(id);
      }
      if (after) {
        this.#peers.set(id, after);
        for (const f of after.fingerprints) this.#byFingerprint.set(f, after);
        for (const k of after.tokenKeys.keys()) this.#byTokenKey.set(k, after);
      }
      changes.push(changeOf(before, after));
    }
    for (const c of changes) {
      for (const l of [...this.#listeners]) {
        try {
          l(c);
        } catch {
          // A listener's failure is its own business.
        }
      }
    }
  }

  /** Stops following changes; resolution keeps answering from the last index. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#onClose?.();
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = null;
    await unsubscribe?.();
    await this.#syncing?.catch(() => {});
  }
}
