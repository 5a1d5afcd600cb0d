/**
 * `AuditSink`: a node's audit hook is called synchronously on every login
 * and session; the sink queues the events and writes them in batches (one
 * transaction per batch, in order), so a login never waits for the
 * database and a burst of logins costs a few writes.
 *
 * @module
 */

import { AUDIT_TOPIC, type AuditEvent, auditRecord } from "./audit.ts";
import type { EventInput, StreamWriter } from "./streams.ts";

/**
 * Options of {@link AuditSink}.
 *
 * @example
 * ```ts
 * import type { AuditSinkOptions } from "@alknet/storage";
 * const options: AuditSinkOptions = { maxQueued: 1000, onError: (e, lost) => console.error(lost, e) };
 * console.log(options.maxQueued); // 1000
 * ```
 */
export interface AuditSinkOptions {
  /** Events waiting beyond this are dropped (and reported through `onError`); default 10 000. */
  maxQueued?: number;
  /** Events per write, at most (default 500). */
  maxBatch?: number;
  /** A write failed (its events are lost) or events were dropped; `lost` says how many. */
  onError?: (error: Error, lost: number) => void;
}

/**
 * Queues audit events and appends them to the `audit` topic in batches.
 *
 * @example
 * ```ts
 * import { AuditSink, openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * const sink = new AuditSink(store.streams);
 * // serve({ identity, audit: (e) => sink.write(e), ... })
 * sink.write({ type: "login.accepted", remote: "192.0.2.1:5000", method: "publickey", identity: "alice" });
 * sink.write({ type: "session.opened", session: "s1", identity: "alice", remote: "192.0.2.1:5000" });
 * await sink.flush();
 * console.log((await store.streams.read("audit")).map((e) => e.type)); // [ "login.accepted", "session.opened" ]
 * await store.close();
 * ```
 */
export class AuditSink {
  readonly #streams: StreamWriter;
  readonly #maxQueued: number;
  readonly #maxBatch: number;
  readonly #onError: (error: Error, lost: number) => void;
  #queue: EventInput[] = [];
  #running: Promise<void> | null = null;
  #dropped = 0;

  /** A sink writing to `streams` (a store's, or a transaction's). */
  constructor(streams: StreamWriter, options: AuditSinkOptions = {}) {
    this.#streams = streams;
    this.#maxQueued = options.maxQueued ?? 10_000;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#onError = options.onError ?? (() => {});
  }

  /** How many events are waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Queues one event (only the fields its kind lists are kept; an unknown
   * kind is reported and dropped). Never throws, never waits.
   */
  write(event: AuditEvent): void {
    let record: EventInput;
    try {
      record = auditRecord(event);
    } catch (e) {
      this.#report(e, 1);
      return;
    }
    if (this.#queue.length >= this.#maxQueued) {
      this.#dropped++;
      return;
    }
    this.#queue.push(record);
    this.#running ??= this.#drain();
  }

  /** Resolves once every event queued so far has been written (or reported lost). */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    // Let the events of the current tick join the first batch.
    await Promise.resolve();
    try {
      while (this.#queue.length > 0) {
        if (this.#dropped > 0) {
          this.#report(new Error("audit queue full: events dropped"), this.#dropped);
          this.#dropped = 0;
        }
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          await this.#streams.appendMany(AUDIT_TOPIC, batch);
        } catch (e) {
          this.#report(e, batch.length);
        }
      }
    } finally {
      this.#running = null;
    }
  }

  #report(e: unknown, lost: number): void {
    try {
      this.#onError(e instanceof Error ? e : new Error(String(e)), lost);
    } catch { /* the reporter's failure is its own */ }
  }
}
