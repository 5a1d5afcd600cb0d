/**
 * Peers: who may log in. A peer has a stable `peerId`, a display name, an
 * enabled flag, SSH keys (by `SHA256:` fingerprint; `ssh-ed25519` keys also
 * sign tokens), scopes and resources. Every write bumps the `peers` change
 * counter, logs the peer in `peer_changes` and appends a `peer.changed`
 * audit event, all in one transaction; identity providers in every process
 * follow those changes.
 *
 * @module
 */

import { AUDIT_TOPIC, auditRecord, type PeerChangeKind } from "./audit.ts";
import type { Driver, SqlValue } from "./driver/types.ts";
import { StorageError } from "./errors.ts";
import { isFingerprint, parsePublicKey } from "./ssh_key.ts";
import { appendEvents } from "./streams.ts";
import { checkName, checkResources, checkStrings, fromJsonText, toJsonText } from "./validate.ts";

/**
 * The scopes a peer gets when none are given.
 *
 * @example
 * ```ts
 * import { DEFAULT_PEER_SCOPES } from "@alknet/storage";
 * console.log(DEFAULT_PEER_SCOPES); // [ "relay:connect" ]
 * ```
 */
export const DEFAULT_PEER_SCOPES: readonly string[] = ["relay:connect"];

/** How many peer changes are kept for followers to catch up incrementally. */
export const PEER_CHANGES_KEPT = 1000;

/**
 * One of a peer's keys.
 *
 * @example
 * ```ts
 * import { openStore, type PeerKey } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * const peer = await store.peers.add({
 *   peerId: "alice",
 *   keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA laptop"],
 * });
 * const key: PeerKey = peer.keys[0];
 * console.log(key.type, key.comment, key.tokenKeyId !== null); // "ssh-ed25519" "laptop" true
 * await store.close();
 * ```
 */
export interface PeerKey {
  /** OpenSSH fingerprint, `SHA256:...`. */
  fingerprint: string;
  /** The key type (`ssh-ed25519`, ...), null when only the fingerprint was given. */
  type: string | null;
  /** `type base64`, null when only the fingerprint was given. */
  publicKey: string | null;
  /** Hex SHA-256 of the raw Ed25519 key: the signed-token key id (Ed25519 keys only). */
  tokenKeyId: string | null;
  /** The key line's comment. */
  comment: string;
}

/**
 * A peer record.
 *
 * @example
 * ```ts
 * import { openStore, type Peer } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * const peer: Peer = await store.peers.add({ peerId: "alice", fingerprints: ["SHA256:" + "A".repeat(43)] });
 * console.log(peer.peerId, peer.enabled, peer.fingerprints.length); // "alice" true 1
 * await store.close();
 * ```
 */
export interface Peer {
  /** Stable logical name, the identity id of its logins. */
  peerId: string;
  /** Human-readable name. */
  displayName: string;
  /** Disabled peers are refused. */
  enabled: boolean;
  /** Its keys. */
  keys: PeerKey[];
  /** The keys' fingerprints. */
  fingerprints: string[];
  /** The token key ids of its Ed25519 keys. */
  tokenKeyIds: string[];
  /** Granted scopes. */
  scopes: string[];
  /** Resource names per resource type. */
  resources: Record<string, string[]>;
  /** Created (Unix milliseconds). */
  createdAt: number;
  /** Last changed (Unix milliseconds). */
  updatedAt: number;
}

/**
 * A new peer.
 *
 * @example
 * ```ts
 * import type { PeerInput } from "@alknet/storage";
 * const input: PeerInput = {
 *   peerId: "ci-runner",
 *   displayName: "CI runner",
 *   keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ci"],
 *   scopes: ["relay:connect"],
 * };
 * console.log(input.peerId); // "ci-runner"
 * ```
 */
export interface PeerInput {
  /** Stable logical name (1-128 letters, digits or `. _ : @ / + -`). */
  peerId: string;
  /** Human-readable name (default: the peer id). */
  displayName?: string;
  /** Default true. */
  enabled?: boolean;
  /** OpenSSH public key lines (`ssh-ed25519 AAAA... comment`). */
  keys?: string[];
  /** Bare `SHA256:` fingerprints, for keys you do not have (they cannot sign tokens). */
  fingerprints?: string[];
  /** Default `["relay:connect"]`. */
  scopes?: string[];
  /** Default `{}`. */
  resources?: Record<string, string[]>;
}

/**
 * Fields of a peer to change; absent fields stay.
 *
 * @example
 * ```ts
 * import type { PeerUpdate } from "@alknet/storage";
 * const promote: PeerUpdate = { scopes: ["relay:connect", "admin:peers"] };
 * console.log(promote.scopes?.length); // 2
 * ```
 */
export interface PeerUpdate {
  /** New display name. */
  displayName?: string;
  /** Enable or disable. */
  enabled?: boolean;
  /** Replaces the scopes. */
  scopes?: string[];
  /** Replaces the resources. */
  resources?: Record<string, string[]>;
}

/** A row of peers joined with their keys. */
export interface PeerRow {
  peer_id: string;
  display_name: string;
  enabled: number;
  scopes: string;
  resources: string;
  created_at: number;
  updated_at: number;
  fingerprint: string | null;
  key_type: string | null;
  public_key: string | null;
  token_key_id: string | null;
  comment: string | null;
}

const SELECT_PEERS = "SELECT p.peer_id, p.display_name, p.enabled, p.scopes, p.resources, " +
  "p.created_at, p.updated_at, k.fingerprint, k.key_type, k.public_key, k.token_key_id, k.comment " +
  "FROM peers p LEFT JOIN peer_keys k ON k.peer_id = p.peer_id";
const ORDER_PEERS = " ORDER BY p.peer_id, k.created_at, k.fingerprint";

/** Loads peers with their keys; `where` filters `p` (peers) and `k` (keys). */
export async function loadPeers(
  db: Driver,
  where = "",
  params: readonly SqlValue[] = [],
): Promise<Peer[]> {
  const rows = await db.query<PeerRow>(
    SELECT_PEERS + (where ? ` WHERE ${where}` : "") + ORDER_PEERS,
    params,
  );
  return groupPeers(rows);
}

/** The columns {@link groupPeers} reads, for queries that join peers and keys their own way. */
export const PEER_COLUMNS = "p.peer_id, p.display_name, p.enabled, p.scopes, p.resources, " +
  "p.created_at, p.updated_at, k.fingerprint, k.key_type, k.public_key, k.token_key_id, k.comment";

/**
 * Peers from rows of peers joined with their keys (see {@link PEER_COLUMNS}),
 * in order of first appearance; rows without a peer are skipped and repeated
 * keys counted once.
 */
export function groupPeers(rows: readonly PeerRow[]): Peer[] {
  const byId = new Map<string, Peer>();
  for (const r of rows) {
    if (r.peer_id === null) continue;
    let cur = byId.get(r.peer_id);
    if (!cur) {
      cur = {
        peerId: r.peer_id,
        displayName: r.display_name,
        enabled: Number(r.enabled) === 1,
        keys: [],
        fingerprints: [],
        tokenKeyIds: [],
        scopes: fromJsonText<string[]>(r.scopes),
        resources: fromJsonText<Record<string, string[]>>(r.resources),
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
      };
      byId.set(r.peer_id, cur);
    }
    if (r.fingerprint !== null && !cur.fingerprints.includes(r.fingerprint)) {
      cur.keys.push({
        fingerprint: r.fingerprint,
        type: r.key_type,
        publicKey: r.public_key,
        tokenKeyId: r.token_key_id,
        comment: r.comment ?? "",
      });
      cur.fingerprints.push(r.fingerprint);
      if (r.token_key_id) cur.tokenKeyIds.push(r.token_key_id);
    }
  }
  return [...byId.values()];
}

async function loadOne(db: Driver, peerId: string): Promise<Peer> {
  const [peer] = await loadPeers(db, "p.peer_id = ?", [peerId]);
  if (!peer) throw new StorageError("not-found", `peer '${peerId}' does not exist`);
  return peer;
}

function keyFromText(text: string): PeerKey {
  if (isFingerprint(text)) {
    return { fingerprint: text, type: null, publicKey: null, tokenKeyId: null, comment: "" };
  }
  const k = parsePublicKey(text);
  return {
    fingerprint: k.fingerprint,
    type: k.type,
    publicKey: k.publicKey,
    tokenKeyId: k.tokenKeyId,
    comment: k.comment,
  };
}

function checkFingerprint(fp: unknown): string {
  if (typeof fp !== "string" || !isFingerprint(fp)) {
    throw new StorageError("invalid-input", `${JSON.stringify(fp)} is not a SHA256: fingerprint`);
  }
  return fp;
}

/**
 * The peers of a store (or of a transaction).
 *
 * @example
 * ```ts
 * import { openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * await store.peers.add({
 *   peerId: "alice",
 *   keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA alice@laptop"],
 *   scopes: ["relay:connect", "admin:peers"],
 * });
 * await store.peers.disable("alice");
 * const alice = await store.peers.get("alice");
 * console.log(alice?.enabled, alice?.fingerprints.length); // false 1
 * await store.close();
 * ```
 */
export class PeerStore {
  readonly #db: Driver;

  /** Peers on `db`; stores create this for you. */
  constructor(db: Driver) {
    this.#db = db;
  }

  async #write<T>(
    peerId: string,
    change: PeerChangeKind,
    fingerprint: string | undefined,
    work: (tx: Driver, now: number) => Promise<T>,
  ): Promise<T> {
    return await this.#db.transaction(async (tx) => {
      // The counter's row lock serializes peer writers (PostgreSQL), so
      // versions follow commit order and the checks below see each other.
      const [{ value }] = await tx.query<{ value: number }>(
        "UPDATE counters SET value = value + 1 WHERE name = 'peers' RETURNING value",
      );
      const version = Number(value);
      const now = Date.now();
      const result = await work(tx, now);
      await tx.execute("INSERT INTO peer_changes (version, peer_id, at) VALUES (?, ?, ?)", [
        version,
        peerId,
        now,
      ]);
      await tx.execute("DELETE FROM peer_changes WHERE version <= ?", [
        version - PEER_CHANGES_KEPT,
      ]);
      await appendEvents(tx, AUDIT_TOPIC, [
        auditRecord({ type: "peer.changed", peer: peerId, change, fingerprint }),
      ]);
      await tx.notify("peers");
      return result;
    });
  }

  async #insertKeys(tx: Driver, peerId: string, keys: PeerKey[], now: number): Promise<void> {
    for (const k of keys) {
      const owner = await tx.query<{ peer_id: string }>(
        "SELECT peer_id FROM peer_keys WHERE fingerprint = ?",
        [k.fingerprint],
      );
      if (owner.length > 0) {
        throw new StorageError(
          owner[0].peer_id === peerId ? "exists" : "conflict",
          `key ${k.fingerprint} already belongs to peer '${owner[0].peer_id}'`,
        );
      }
      await tx.execute(
        "INSERT INTO peer_keys (fingerprint, peer_id, key_type, public_key, token_key_id, " +
          "comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [k.fingerprint, peerId, k.type, k.publicKey, k.tokenKeyId, k.comment, now],
      );
    }
  }

  /** Adds a peer; `exists` if the id is taken, `conflict` if a key belongs to another peer. */
  async add(input: PeerInput): Promise<Peer> {
    if (input === null || typeof input !== "object") {
      throw new StorageError("invalid-input", "a peer needs at least a peerId");
    }
    const peerId = checkName("peer id", input.peerId, 128);
    const displayName = input.displayName ?? peerId;
    if (typeof displayName !== "string" || displayName.length > 200) {
      throw new StorageError(
        "invalid-input",
        "displayName must be a string of at most 200 characters",
      );
    }
    const scopes = checkStrings("scopes", input.scopes ?? [...DEFAULT_PEER_SCOPES]);
    const resources = checkResources(input.resources ?? {});
    const byFp = new Map<string, PeerKey>();
    for (const line of checkStrings("keys", input.keys ?? [], 16384)) {
      const k = keyFromText(line);
      byFp.set(k.fingerprint, k);
    }
    for (const fp of checkStrings("fingerprints", input.fingerprints ?? [])) {
      if (!byFp.has(checkFingerprint(fp))) byFp.set(fp, keyFromText(fp));
    }
    const enabled = input.enabled ?? true;
    return await this.#write(peerId, "added", undefined, async (tx, now) => {
      const taken = await tx.query("SELECT 1 AS x FROM peers WHERE peer_id = ?", [peerId]);
      if (taken.length > 0) throw new StorageError("exists", `peer '${peerId}' already exists`);
      await tx.execute(
        "INSERT INTO peers (peer_id, display_name, enabled, scopes, resources, created_at, " +
          "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
          peerId,
          displayName,
          enabled ? 1 : 0,
          toJsonText("scopes", scopes),
          toJsonText("resources", resources),
          now,
          now,
        ],
      );
      await this.#insertKeys(tx, peerId, [...byFp.values()], now);
      return await loadOne(tx, peerId);
    });
  }

  /** The peer, or null. */
  async get(peerId: string): Promise<Peer | null> {
    checkName("peer id", peerId, 128);
    return (await loadPeers(this.#db, "p.peer_id = ?", [peerId]))[0] ?? null;
  }

  /** Every peer (only enabled or disabled ones with `enabled`), by id. */
  list(options: { enabled?: boolean } = {}): Promise<Peer[]> {
    if (options.enabled === undefined) return loadPeers(this.#db);
    return loadPeers(this.#db, "p.enabled = ?", [options.enabled ? 1 : 0]);
  }

  /** The peer holding the key with this fingerprint, or null. */
  async findByFingerprint(fingerprint: string): Promise<Peer | null> {
    checkFingerprint(fingerprint);
    return (await loadPeers(
      this.#db,
      "p.peer_id = (SELECT peer_id FROM peer_keys WHERE fingerprint = ?)",
      [fingerprint],
    ))[0] ?? null;
  }

  /** The peer holding the Ed25519 key with this token key id (hex), or null. */
  async findByTokenKeyId(keyId: string): Promise<Peer | null> {
    if (typeof keyId !== "string" || !/^[0-9a-f]{64}$/.test(keyId)) {
      throw new StorageError("invalid-input", "a token key id is 64 lowercase hex digits");
    }
    return (await loadPeers(
      this.#db,
      "p.peer_id = (SELECT peer_id FROM peer_keys WHERE token_key_id = ?)",
      [keyId],
    ))[0] ?? null;
  }

  /** Changes a peer's fields; `not-found` if there is no such peer. */
  async update(peerId: string, update: PeerUpdate): Promise<Peer> {
    checkName("peer id", peerId, 128);
    const sets: string[] = [];
    const params: SqlValue[] = [];
    if (update.displayName !== undefined) {
      if (typeof update.displayName !== "string" || update.displayName.length > 200) {
        throw new StorageError(
          "invalid-input",
          "displayName must be a string of at most 200 characters",
        );
      }
      sets.push("display_name = ?");
      params.push(update.displayName);
    }
    if (update.enabled !== undefined) {
      if (typeof update.enabled !== "boolean") {
        throw new StorageError("invalid-input", "enabled must be true or false");
      }
      sets.push("enabled = ?");
      params.push(update.enabled ? 1 : 0);
    }
    if (update.scopes !== undefined) {
      sets.push("scopes = ?");
      params.push(toJsonText("scopes", checkStrings("scopes", update.scopes)));
    }
    if (update.resources !== undefined) {
      sets.push("resources = ?");
      params.push(toJsonText("resources", checkResources(update.resources)));
    }
    const only = Object.keys(update).filter((k) =>
      (update as Record<string, unknown>)[k] !== undefined
    );
    const change: PeerChangeKind = only.length === 1 && only[0] === "enabled"
      ? (update.enabled ? "enabled" : "disabled")
      : "updated";
    return await this.#write(peerId, change, undefined, async (tx, now) => {
      const n = await tx.execute(
        `UPDATE peers SET ${[...sets, "updated_at = ?"].join(", ")} WHERE peer_id = ?`,
        [...params, now, peerId],
      );
      if (n === 0) throw new StorageError("not-found", `peer '${peerId}' does not exist`);
      return await loadOne(tx, peerId);
    });
  }

  /** Enables the peer. */
  enable(peerId: string): Promise<Peer> {
    return this.update(peerId, { enabled: true });
  }

  /** Disables the peer: every node refuses it (and may close its sessions). */
  disable(peerId: string): Promise<Peer> {
    return this.update(peerId, { enabled: false });
  }

  /** Adds a key (an OpenSSH public key line or a bare fingerprint) to a peer. */
  async addKey(peerId: string, key: string): Promise<Peer> {
    checkName("peer id", peerId, 128);
    if (typeof key !== "string") throw new StorageError("invalid-input", "a key is a string");
    const k = keyFromText(key);
    return await this.#write(peerId, "key-added", k.fingerprint, async (tx, now) => {
      const n = await tx.execute("UPDATE peers SET updated_at = ? WHERE peer_id = ?", [
        now,
        peerId,
      ]);
      if (n === 0) throw new StorageError("not-found", `peer '${peerId}' does not exist`);
      await this.#insertKeys(tx, peerId, [k], now);
      return await loadOne(tx, peerId);
    });
  }

  /** Removes a key from a peer; `not-found` if the peer does not hold it. */
  async removeKey(peerId: string, fingerprint: string): Promise<Peer> {
    checkName("peer id", peerId, 128);
    checkFingerprint(fingerprint);
    return await this.#write(peerId, "key-removed", fingerprint, async (tx, now) => {
      const n = await tx.execute("DELETE FROM peer_keys WHERE fingerprint = ? AND peer_id = ?", [
        fingerprint,
        peerId,
      ]);
      if (n === 0) {
        throw new StorageError("not-found", `peer '${peerId}' has no key ${fingerprint}`);
      }
      await tx.execute("UPDATE peers SET updated_at = ? WHERE peer_id = ?", [now, peerId]);
      return await loadOne(tx, peerId);
    });
  }

  /** Removes a peer and its keys; `not-found` if there is no such peer. */
  async remove(peerId: string): Promise<void> {
    checkName("peer id", peerId, 128);
    await this.#write(peerId, "removed", undefined, async (tx) => {
      const n = await tx.execute("DELETE FROM peers WHERE peer_id = ?", [peerId]);
      if (n === 0) throw new StorageError("not-found", `peer '${peerId}' does not exist`);
    });
  }
}
