/**
 * The audit trail a node with a store keeps on the `audit` topic: logins
 * accepted and refused, sessions opened and closed, peer changes, reloads.
 * Each kind has a fixed list of fields; anything else given is dropped, so
 * a tunnel destination can never end up in the trail.
 *
 * @module
 */

import { StorageError } from "./errors.ts";
import type { EventInput, StreamWriter } from "./streams.ts";

/**
 * The topic audit events go to.
 *
 * @example
 * ```ts
 * import { AUDIT_TOPIC, openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * console.log(AUDIT_TOPIC, await store.streams.head(AUDIT_TOPIC)); // "audit" 0
 * await store.close();
 * ```
 */
export const AUDIT_TOPIC = "audit";

/**
 * How a client proved who it is.
 *
 * @example
 * ```ts
 * import type { AuthMethod } from "@alknet/storage";
 * const method: AuthMethod = "token";
 * console.log(method); // "token"
 * ```
 */
export type AuthMethod = "publickey" | "cert" | "token" | "apikey";

/**
 * What happened to a peer record.
 *
 * @example
 * ```ts
 * import type { PeerChangeKind } from "@alknet/storage";
 * const change: PeerChangeKind = "disabled";
 * console.log(change); // "disabled"
 * ```
 */
export type PeerChangeKind =
  | "added"
  | "updated"
  | "enabled"
  | "disabled"
  | "removed"
  | "key-added"
  | "key-removed";

/**
 * One audit event. Never carries a tunnel destination.
 *
 * @example
 * ```ts
 * import type { AuditEvent } from "@alknet/storage";
 * const e: AuditEvent = { type: "session.opened", session: "s1", identity: "alice", remote: "192.0.2.7:50100", transport: "tls" };
 * console.log(e.type); // "session.opened"
 * ```
 */
export type AuditEvent =
  | {
    /** A login succeeded. */
    type: "login.accepted";
    /** The client's address, `ip:port`. */
    remote: string;
    /** How it authenticated. */
    method: AuthMethod;
    /** The identity id (a peer id, a fingerprint, an API key prefix). */
    identity: string;
    /** The key's `SHA256:` fingerprint, for key logins. */
    fingerprint?: string;
    /** The SSH user name given. */
    user?: string;
    /** The transport, e.g. `tcp`, `tls`, `quic`. */
    transport?: string;
  }
  | {
    /** A login was refused. */
    type: "login.refused";
    /** The client's address, `ip:port`. */
    remote: string;
    /** How it tried. */
    method: AuthMethod;
    /** Why it was refused. */
    reason: string;
    /** The offered key's fingerprint. */
    fingerprint?: string;
    /** The SSH user name given. */
    user?: string;
    /** The transport. */
    transport?: string;
  }
  | {
    /** A session began. */
    type: "session.opened";
    /** The node's id for the session. */
    session: string;
    /** The identity id. */
    identity: string;
    /** The client's address. */
    remote: string;
    /** The transport. */
    transport?: string;
  }
  | {
    /** A session ended. */
    type: "session.closed";
    /** The node's id for the session. */
    session: string;
    /** The identity id. */
    identity: string;
    /** Why it ended, e.g. `client`, `peer-disabled`, `shutdown`. */
    reason?: string;
    /** How long it lasted (milliseconds). */
    durationMs?: number;
  }
  | {
    /** A peer record changed (written by the store itself, in the same transaction). */
    type: "peer.changed";
    /** The peer id. */
    peer: string;
    /** What changed. */
    change: PeerChangeKind;
    /** The fingerprint, for key changes. */
    fingerprint?: string;
  }
  | {
    /** The node reloaded its configuration. */
    type: "config.reloaded";
    /** Whether the new configuration was taken. */
    ok: boolean;
    /** What changed (section names), when it was. */
    changes?: string[];
    /** Why it was refused, when it was. */
    error?: string;
  };

const FIELDS: Record<AuditEvent["type"], readonly string[]> = {
  "login.accepted": ["remote", "method", "identity", "fingerprint", "user", "transport"],
  "login.refused": ["remote", "method", "reason", "fingerprint", "user", "transport"],
  "session.opened": ["session", "identity", "remote", "transport"],
  "session.closed": ["session", "identity", "reason", "durationMs"],
  "peer.changed": ["peer", "change", "fingerprint"],
  "config.reloaded": ["ok", "changes", "error"],
};

const MAX_TEXT = 512;

function clean(value: unknown): unknown {
  if (typeof value === "string") return value.length > MAX_TEXT ? value.slice(0, MAX_TEXT) : value;
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) {
    return value.filter((v) => typeof v === "string").slice(0, 64).map(clean);
  }
  return undefined;
}

/**
 * The stream event for an audit event: its own type, and only the fields
 * that kind lists (strings cut at 512 characters).
 *
 * @example
 * ```ts
 * import { auditRecord } from "@alknet/storage";
 * const sneaky = { type: "session.closed", session: "s1", identity: "alice", destination: "db:5432" };
 * console.log(auditRecord(sneaky as never)); // { type: "session.closed", data: { session: "s1", identity: "alice" } }
 * ```
 */
export function auditRecord(event: AuditEvent): EventInput {
  const fields = FIELDS[event?.type as AuditEvent["type"]];
  if (!fields) {
    throw new StorageError("invalid-input", `unknown audit event type ${String(event?.type)}`);
  }
  const data: Record<string, unknown> = {};
  const source = event as unknown as Record<string, unknown>;
  for (const f of fields) {
    const v = clean(source[f]);
    if (v !== undefined) data[f] = v;
  }
  return { type: event.type, data };
}

/**
 * Appends an audit event to the `audit` topic; resolves to its `seq`. Pass
 * `tx.streams` to record it in the same transaction as the change it
 * describes.
 *
 * @example
 * ```ts
 * import { appendAudit, AUDIT_TOPIC, openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * await appendAudit(store.streams, {
 *   type: "login.refused", remote: "203.0.113.9:50122", method: "publickey", reason: "unknown key",
 * });
 * const [e] = await store.streams.read(AUDIT_TOPIC);
 * console.log(e.type); // "login.refused"
 * await store.close();
 * ```
 */
export function appendAudit(streams: StreamWriter, event: AuditEvent): Promise<number> {
  return streams.append(AUDIT_TOPIC, auditRecord(event));
}
