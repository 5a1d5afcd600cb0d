/**
 * `@alknet/storage`: peers, credentials, a typed metagraph and durable
 * event streams, in embedded SQLite (the default) or PostgreSQL (a fleet of
 * nodes sharing one database) behind one API.
 *
 * - `openStore(location)`: a path, `sqlite:PATH` or `:memory:` opens SQLite
 *   (WAL, foreign keys, busy timeout); `postgres://...` opens PostgreSQL.
 *   Migrations run at open; a newer schema is refused.
 * - `store.peers` and `StoreIdentityProvider`: who may log in, resolved
 *   from memory, following changes from every process within milliseconds.
 * - `store.credentials`: named `EncryptedData` blobs; `rotate` re-seals
 *   them all in one transaction.
 * - `store.metagraph`: graph types, node and edge types with JSON Schemas,
 *   graphs, nodes and edges, validated on every write.
 * - `store.streams`: append-only topics, consumer offsets, replay then
 *   live; `store.transaction` commits a business write with its event.
 *
 * @example
 * ```ts
 * import { appendAudit, openStore, StoreIdentityProvider } from "@alknet/storage";
 *
 * const store = await openStore(":memory:"); // or "sqlite:/var/lib/alknet/alknet.db", "postgres://..."
 * const identities = await StoreIdentityProvider.open(store, {
 *   onChange: (change) => {
 *     if (change.identity === null) console.log(`close the sessions of ${change.peerId}`);
 *   },
 * });
 * await store.peers.add({
 *   peerId: "alice",
 *   keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA alice"],
 * });
 * await identities.refresh(); // changes also arrive by themselves, from any process
 * const alice = await store.peers.get("alice");
 * console.log(identities.resolveFingerprint(alice!.fingerprints[0])?.id); // "alice"
 *
 * await appendAudit(store.streams, {
 *   type: "login.accepted", remote: "198.51.100.7:40022", method: "publickey", identity: "alice",
 * });
 * for (const e of await store.streams.read("audit")) console.log(e.seq, e.type);
 * // 1 "peer.changed"
 * // 2 "login.accepted"
 * await store.close();
 * ```
 *
 * @module
 */

export {
  type AttributeIssue,
  type ConstraintKind,
  StorageError,
  type StorageErrorCode,
  type StorageErrorOptions,
} from "./errors.ts";
export {
  defaultStoreLocation,
  parseLocation,
  redactLocation,
  type StoreLocation,
} from "./location.ts";
export { openStore, type OpenStoreOptions, Store, type StoreTransaction } from "./store.ts";
export type { CheckReport } from "./check.ts";
export type {
  ChangeListener,
  Dialect,
  Driver,
  Row,
  SqlValue,
  TransactionOptions,
} from "./driver/types.ts";
export type { SqliteOptions } from "./driver/sqlite.ts";
export type { PostgresOptions } from "./driver/postgres.ts";
export {
  DEFAULT_PEER_SCOPES,
  type Peer,
  type PeerInput,
  type PeerKey,
  PeerStore,
  type PeerUpdate,
} from "./peers.ts";
export {
  type Identity,
  type IdentityProviderOptions,
  type PeerChange,
  type PeerChangeListener,
  StoreIdentityProvider,
} from "./identity.ts";
export {
  ed25519RawKey,
  fingerprintOf,
  isFingerprint,
  type ParsedPublicKey,
  parsePublicKey,
} from "./ssh_key.ts";
export { TOKEN_WINDOW_SECONDS, tokenKeyIdOf, verifySignedToken } from "./token.ts";
export {
  type CredentialInfo,
  CredentialStore,
  type EncryptedData,
  type Reencrypt,
} from "./credentials.ts";
export {
  type Attributes,
  type EdgeInput,
  type Graph,
  type ListNodesOptions,
  type MetaEdge,
  Metagraph,
  type MetaNode,
  type Neighbour,
  type NodeInput,
} from "./metagraph.ts";
export type {
  EdgeTypeDefinition,
  GraphType,
  GraphTypeDefinition,
  NodeTypeDefinition,
} from "./metagraph_types.ts";
export type { JsonSchema } from "./metagraph_schema.ts";
export type { JsonValue } from "./validate.ts";
export {
  type AppendResult,
  type ConsumerOffset,
  type EventInput,
  type ReadOptions,
  type StreamEvent,
  StreamWriter,
  type TopicInfo,
} from "./streams.ts";
export { StreamStore, StreamSubscription, type SubscribeOptions } from "./subscription.ts";
export {
  appendAudit,
  AUDIT_TOPIC,
  type AuditEvent,
  auditRecord,
  type AuthMethod,
  type PeerChangeKind,
} from "./audit.ts";
export { AuditSink, type AuditSinkOptions } from "./audit_sink.ts";
