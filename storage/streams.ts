/**
 * Durable event streams: append-only topics with dense per-topic sequence
 * numbers (1, 2, 3, ... in commit order), per-consumer saved offsets, and
 * reads from any offset. Subscriptions (replay, then live) are in
 * `subscription.ts`.
 *
 * @module
 */

import type { Driver, SqlValue } from "./driver/types.ts";
import { StorageError } from "./errors.ts";
import { checkInteger, checkName, fromJsonText, type JsonValue, toJsonText } from "./validate.ts";

/**
 * An event to append: a type name and JSON data.
 *
 * @example
 * ```ts
 * import type { EventInput } from "@alknet/storage";
 * const event: EventInput = { type: "order.placed", data: { id: 7, total: 12.5 } };
 * console.log(event.type); // "order.placed"
 * ```
 */
export interface EventInput {
  /** What happened, e.g. `login.accepted` (1-200 characters). */
  type: string;
  /** The event's JSON data (default `null`). */
  data?: unknown;
}

/**
 * An event as stored.
 *
 * @example
 * ```ts
 * import { openStore, type StreamEvent } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * await store.streams.append("t", { type: "hello", data: "world" });
 * const [e]: StreamEvent[] = await store.streams.read("t");
 * console.log(e.topic, e.seq, e.type, e.data); // "t" 1 "hello" "world"
 * await store.close();
 * ```
 */
export interface StreamEvent {
  /** The topic it was appended to. */
  topic: string;
  /** Its position in the topic: 1 for the first event, then 2, 3, ... */
  seq: number;
  /** What happened. */
  type: string;
  /** The JSON data. */
  data: JsonValue;
  /** When it was appended (Unix milliseconds, the writer's clock). */
  at: number;
}

/**
 * The sequence numbers given to a batch.
 *
 * @example
 * ```ts
 * import { type AppendResult, openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * const r: AppendResult = await store.streams.appendMany("t", [{ type: "a" }, { type: "b" }]);
 * console.log(r); // { first: 1, last: 2 }
 * await store.close();
 * ```
 */
export interface AppendResult {
  /** The first event's `seq`. */
  first: number;
  /** The last event's `seq`. */
  last: number;
}

/**
 * Options of {@link StreamWriter.read}.
 *
 * @example
 * ```ts
 * import { openStore, type ReadOptions } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * for (let i = 0; i < 5; i++) await store.streams.append("t", { type: "tick", data: i });
 * const options: ReadOptions = { from: 3, limit: 2 };
 * console.log((await store.streams.read("t", options)).map((e) => e.seq)); // [ 3, 4 ]
 * await store.close();
 * ```
 */
export interface ReadOptions {
  /** The first `seq` to return (default 1). */
  from?: number;
  /** At most this many events (default 100, at most 10000). */
  limit?: number;
}

/**
 * A topic and how far it has grown.
 *
 * @example
 * ```ts
 * import { openStore, type TopicInfo } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * await store.streams.append("t", { type: "x" });
 * const topics: TopicInfo[] = await store.streams.topics();
 * console.log(topics); // [ { topic: "t", lastSeq: 1 } ]
 * await store.close();
 * ```
 */
export interface TopicInfo {
  /** The topic name. */
  topic: string;
  /** The last `seq` appended (0 if none). */
  lastSeq: number;
}

/**
 * A consumer's saved position in a topic.
 *
 * @example
 * ```ts
 * import { type ConsumerOffset, openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * await store.streams.commit("t", "mailer", 4);
 * const [c]: ConsumerOffset[] = await store.streams.consumers("t");
 * console.log(c.consumer, c.offset); // "mailer" 4
 * await store.close();
 * ```
 */
export interface ConsumerOffset {
  /** The consumer name. */
  consumer: string;
  /** The last `seq` the consumer committed (it resumes after it). */
  offset: number;
  /** When it was last committed (Unix milliseconds). */
  updatedAt: number;
}

/** The change channel a topic's appends are announced on. */
export function topicChannel(topic: string): string {
  return `stream:${topic}`;
}

function checkTopic(topic: unknown): string {
  return checkName("topic", topic, 200);
}

function checkEvent(e: EventInput, i: number): [string, string] {
  if (e === null || typeof e !== "object") {
    throw new StorageError("invalid-input", `event ${i} must be an object with a type`);
  }
  if (typeof e.type !== "string" || e.type.length === 0 || e.type.length > 200) {
    throw new StorageError("invalid-input", `event ${i} needs a type of 1-200 characters`);
  }
  return [e.type, toJsonText(`event ${i} data`, e.data === undefined ? null : e.data)];
}

const SQLITE_BUMP = "INSERT INTO stream_topics (topic, last_seq) VALUES (?, ?) " +
  "ON CONFLICT (topic) DO UPDATE SET last_seq = stream_topics.last_seq + excluded.last_seq " +
  "RETURNING last_seq";
const SQLITE_INSERT =
  "INSERT INTO stream_events (topic, seq, type, data, at) VALUES (?, ?, ?, ?, ?)";
// One statement: take the topic's row lock and numbers, insert the batch.
const PG_APPEND = "WITH c AS (INSERT INTO stream_topics (topic, last_seq) VALUES ($1, $2) " +
  "ON CONFLICT (topic) DO UPDATE SET last_seq = stream_topics.last_seq + excluded.last_seq " +
  "RETURNING last_seq) " +
  "INSERT INTO stream_events (topic, seq, type, data, at) " +
  "SELECT $1, c.last_seq - $2 + u.ord, u.type, u.data, $5 " +
  "FROM c, unnest($3::text[], $4::text[]) WITH ORDINALITY AS u(type, data, ord) " +
  "RETURNING seq";

/**
 * Appends a batch to `topic` on `db` (a transaction handle to make it part
 * of a larger write). All or nothing.
 */
export async function appendEvents(
  db: Driver,
  topic: string,
  events: readonly EventInput[],
): Promise<AppendResult> {
  checkTopic(topic);
  if (!Array.isArray(events) || events.length === 0) {
    throw new StorageError("invalid-input", "append needs at least one event");
  }
  const checked = events.map(checkEvent);
  const n = checked.length;
  const at = Date.now();
  if (db.dialect === "postgres") {
    const rows = await db.query<{ seq: number }>(PG_APPEND, [
      topic,
      n,
      checked.map((c) => c[0]),
      checked.map((c) => c[1]),
      at,
    ]);
    let last = 0;
    for (const r of rows) if (r.seq > last) last = r.seq;
    return { first: last - n + 1, last };
  }
  const run = async (tx: Driver): Promise<AppendResult> => {
    const [{ last_seq }] = await tx.query<{ last_seq: number }>(SQLITE_BUMP, [topic, n]);
    const last = Number(last_seq);
    const first = last - n + 1;
    const rows: SqlValue[][] = checked.map(([type, data], i) => [topic, first + i, type, data, at]);
    await tx.executeMany(SQLITE_INSERT, rows);
    await tx.notify(topicChannel(topic));
    return { first, last };
  };
  return db.inTransaction ? await run(db) : await db.transaction(run);
}

interface EventRow {
  seq: number;
  type: string;
  data: string;
  at: number;
}

/**
 * Appending, reading and consumer offsets; usable inside a transaction
 * (the outbox: a business write and its event commit together).
 *
 * @example
 * ```ts
 * import { openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * await store.streams.append("orders", { type: "order.placed", data: { id: 7 } });
 * const [event] = await store.streams.read("orders");
 * console.log(event.seq, event.type, event.data); // 1 "order.placed" { id: 7 }
 * await store.close();
 * ```
 */
export class StreamWriter {
  readonly #db: Driver;

  /** A writer on `db`; stores create these for you. */
  constructor(db: Driver) {
    this.#db = db;
  }

  /** Appends one event; resolves to its `seq`. */
  async append(topic: string, event: EventInput): Promise<number> {
    return (await appendEvents(this.#db, topic, [event])).last;
  }

  /** Appends events in order, all or nothing; resolves to their `seq` range. */
  appendMany(topic: string, events: readonly EventInput[]): Promise<AppendResult> {
    return appendEvents(this.#db, topic, events);
  }

  /** Events of `topic` from `options.from` (default 1), oldest first. */
  async read(topic: string, options: ReadOptions = {}): Promise<StreamEvent[]> {
    checkTopic(topic);
    const from = checkInteger("from", options.from ?? 1, 0);
    const limit = checkInteger("limit", options.limit ?? 100, 1, 10_000);
    const rows = await this.#db.query<EventRow>(
      "SELECT seq, type, data, at FROM stream_events WHERE topic = ? AND seq >= ? " +
        "ORDER BY seq LIMIT ?",
      [topic, from, limit],
    );
    return rows.map((r) => ({
      topic,
      seq: Number(r.seq),
      type: r.type,
      data: fromJsonText(r.data),
      at: Number(r.at),
    }));
  }

  /** The last `seq` of `topic` (0 when empty). */
  async head(topic: string): Promise<number> {
    checkTopic(topic);
    const rows = await this.#db.query<{ last_seq: number }>(
      "SELECT last_seq FROM stream_topics WHERE topic = ?",
      [topic],
    );
    return Number(rows[0]?.last_seq ?? 0);
  }

  /** Every topic with its last `seq`, by name. */
  async topics(): Promise<TopicInfo[]> {
    const rows = await this.#db.query<{ topic: string; last_seq: number }>(
      "SELECT topic, last_seq FROM stream_topics ORDER BY topic",
    );
    return rows.map((r) => ({ topic: r.topic, lastSeq: Number(r.last_seq) }));
  }

  /** The last `seq` `consumer` committed on `topic` (0 when none). */
  async offset(topic: string, consumer: string): Promise<number> {
    checkTopic(topic);
    checkName("consumer", consumer);
    const rows = await this.#db.query<{ seq: number }>(
      "SELECT seq FROM stream_offsets WHERE topic = ? AND consumer = ?",
      [topic, consumer],
    );
    return Number(rows[0]?.seq ?? 0);
  }

  /**
   * Saves that `consumer` has handled `topic` up to `seq`. Offsets only move
   * forward here (a late commit of an older `seq` changes nothing); use
   * {@link seek} to move back.
   */
  async commit(topic: string, consumer: string, seq: number): Promise<void> {
    checkTopic(topic);
    checkName("consumer", consumer);
    checkInteger("seq", seq, 0);
    await this.#db.execute(
      "INSERT INTO stream_offsets (topic, consumer, seq, updated_at) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (topic, consumer) DO UPDATE SET seq = excluded.seq, " +
        "updated_at = excluded.updated_at WHERE stream_offsets.seq < excluded.seq",
      [topic, consumer, seq, Date.now()],
    );
  }

  /** Sets `consumer`'s offset on `topic` to `seq`, backwards too (replay from `seq + 1`). */
  async seek(topic: string, consumer: string, seq: number): Promise<void> {
    checkTopic(topic);
    checkName("consumer", consumer);
    checkInteger("seq", seq, 0);
    await this.#db.execute(
      "INSERT INTO stream_offsets (topic, consumer, seq, updated_at) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (topic, consumer) DO UPDATE SET seq = excluded.seq, " +
        "updated_at = excluded.updated_at",
      [topic, consumer, seq, Date.now()],
    );
  }

  /** The consumers of `topic` and their offsets, by name. */
  async consumers(topic: string): Promise<ConsumerOffset[]> {
    checkTopic(topic);
    const rows = await this.#db.query<{ consumer: string; seq: number; updated_at: number }>(
      "SELECT consumer, seq, updated_at FROM stream_offsets WHERE topic = ? ORDER BY consumer",
      [topic],
    );
    return rows.map((r) => ({
      consumer: r.consumer,
      offset: Number(r.seq),
      updatedAt: Number(r.updated_at),
    }));
  }

  /**
   * Deletes the events of `topic` before `seq` (retention). Sequence numbers
   * are never reused; readers from an older offset start at the oldest kept
   * event. Resolves to how many were deleted.
   */
  trim(topic: string, before: number): Promise<number> {
    checkTopic(topic);
    checkInteger("before", before, 0);
    return this.#db.execute("DELETE FROM stream_events WHERE topic = ? AND seq < ?", [
      topic,
      before,
    ]);
  }
}
