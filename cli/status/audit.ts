/**
 * The status page's hook for audit events: read the latest events of the
 * `audit` topic from a store object (`store.streams`, as `@alknet/storage`'s
 * `Store` has it) or, when the node serves the `streams/*` operations,
 * through its registry in-process. Without either the page says the node
 * has no store.
 *
 * @module
 */

/**
 * One audit event as the page shows it: no addresses, no destinations.
 */
export interface AuditRow {
  /** Position in the topic. */
  seq: number;
  /** When (epoch ms). */
  at: number;
  /** `login.accepted`, `session.opened`, ... */
  type: string;
  /** The identity, fingerprint or peer it concerns, when it names one. */
  who?: string;
}

/**
 * The part of a store the page reads (`@alknet/storage`'s `Store` fits).
 */
export interface AuditStoreLike {
  /** The store's event streams. */
  streams: {
    /** The last `seq` of a topic (0 when empty). */
    head(topic: string): Promise<number>;
    /** Events from `from`, at most `limit`. */
    read(
      topic: string,
      options: { from?: number; limit?: number },
    ): Promise<readonly { seq: number; at: number; type: string; data: unknown }[]>;
  };
}

/**
 * The part of a registry the page uses when the node serves `streams/*`.
 */
export interface AuditRegistryLike {
  /** The spec of an operation, when registered. */
  spec(name: string): unknown;
  /** Calls an operation in-process as `identity`. */
  invoke(
    name: string,
    input: unknown,
    options: { identity: { id: string; scopes: string[]; resources: Record<string, string[]> } },
  ): Promise<unknown>;
}

/**
 * Reads the newest audit events, newest first.
 */
export type AuditReader = (limit: number) => Promise<AuditRow[]>;

const TOPIC = "audit";
/** Who the page reads `streams/*` as: reading streams and the audit topic, nothing more. */
const READER = { id: "alknet-status-page", scopes: ["streams:read", "audit:read"], resources: {} };

function rowOf(e: { seq: number; at: number; type: string; data: unknown }): AuditRow {
  const row: AuditRow = { seq: e.seq, at: e.at, type: e.type };
  const d = e.data as Record<string, unknown> | null;
  const who = d?.identity ?? d?.fingerprint ?? d?.peer;
  if (typeof who === "string") row.who = who;
  return row;
}

/**
 * The reader for the node's audit events: from `store` when given, else
 * through `registry` when it serves `streams/read` and `streams/topics`,
 * else null (the node has no store).
 */
export function auditReader(
  from: { store?: AuditStoreLike; registry?: AuditRegistryLike },
): AuditReader | null {
  const { store, registry } = from;
  if (store !== undefined) {
    return async (limit) => {
      const last = await store.streams.head(TOPIC);
      if (last === 0) return [];
      const events = await store.streams.read(TOPIC, {
        from: Math.max(1, last - limit + 1),
        limit,
      });
      return events.map(rowOf).reverse();
    };
  }
  if (
    registry !== undefined && registry.spec("streams/read") !== undefined &&
    registry.spec("streams/topics") !== undefined
  ) {
    return async (limit) => {
      const topics = await registry.invoke("streams/topics", {}, { identity: READER }) as {
        topic: string;
        last_seq: number;
      }[];
      const last = topics.find((t) => t.topic === TOPIC)?.last_seq ?? 0;
      if (last === 0) return [];
      const events = await registry.invoke(
        "streams/read",
        { topic: TOPIC, from: Math.max(1, last - limit + 1), limit },
        { identity: READER },
      ) as { seq: number; at: number; type: string; data: unknown }[];
      return events.map(rowOf).reverse();
    };
  }
  return null;
}
