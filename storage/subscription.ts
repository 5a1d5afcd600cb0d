/**
 * Following a topic: replay from an offset, then wait for new events, woken
 * by appends from any process. Delivery is at-least-once when the consumer
 * commits each event after handling it.
 *
 * @module
 */

import type { ChangeHub } from "./changes.ts";
import type { Driver } from "./driver/types.ts";
import { StorageError } from "./errors.ts";
import { type StreamEvent, StreamWriter, topicChannel } from "./streams.ts";
import { checkInteger, checkName } from "./validate.ts";

/**
 * Options of {@link StreamStore.subscribe}.
 *
 * @example
 * ```ts
 * import type { SubscribeOptions } from "@alknet/storage";
 * const resume: SubscribeOptions = { consumer: "mailer", signal: AbortSignal.timeout(60_000) };
 * console.log(resume.consumer); // "mailer"
 * ```
 */
export interface SubscribeOptions {
  /**
   * A durable consumer name: without `from`, delivery resumes after its
   * saved offset. Commit with {@link StreamSubscription.commit} (or
   * `streams.commit`) after handling each event.
   */
  consumer?: string;
  /** The first `seq` to deliver (default: after the consumer's offset, else 1). */
  from?: number;
  /** Ends the subscription. */
  signal?: AbortSignal;
  /** Events read per query while catching up (default 256). */
  batchSize?: number;
}

/**
 * A live view of a topic: iterate it with `for await`; it ends when closed
 * or aborted.
 *
 * @example
 * ```ts
 * import { openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * await store.streams.append("jobs", { type: "job", data: 1 });
 * const sub = store.streams.subscribe("jobs", { consumer: "worker" });
 * for await (const event of sub) {
 *   console.log(event.seq, event.data); // 1 1
 *   await sub.commit(event.seq);
 *   break;
 * }
 * console.log(await store.streams.offset("jobs", "worker")); // 1
 * await store.close();
 * ```
 */
export class StreamSubscription implements AsyncIterable<StreamEvent> {
  /** The topic followed. */
  readonly topic: string;
  /** The consumer name, if any. */
  readonly consumer: string | undefined;
  readonly #streams: StreamStore;
  readonly #hub: ChangeHub;
  readonly #options: SubscribeOptions;
  readonly #stopped = new AbortController();
  #started = false;

  /** Use {@link StreamStore.subscribe}. */
  constructor(streams: StreamStore, hub: ChangeHub, topic: string, options: SubscribeOptions) {
    this.topic = checkName("topic", topic, 200);
    if (options.consumer !== undefined) checkName("consumer", options.consumer);
    if (options.from !== undefined) checkInteger("from", options.from, 1);
    checkInteger("batchSize", options.batchSize ?? 256, 1, 10_000);
    this.consumer = options.consumer;
    this.#streams = streams;
    this.#hub = hub;
    this.#options = options;
  }

  /** Saves the consumer's offset (only forward); needs a `consumer`. */
  async commit(seq: number): Promise<void> {
    if (this.consumer === undefined) {
      throw new StorageError("invalid-input", "this subscription has no consumer to commit for");
    }
    await this.#streams.commit(this.topic, this.consumer, seq);
  }

  /** Ends the iteration (a pending `next()` resolves as done). */
  close(): void {
    this.#stopped.abort();
  }

  /** Replays, then follows; may be iterated once. */
  [Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    if (this.#started) {
      throw new StorageError("invalid-input", "a subscription can be iterated only once");
    }
    this.#started = true;
    return this.#follow();
  }

  async *#follow(): AsyncGenerator<StreamEvent> {
    const { signal, consumer, batchSize = 256 } = this.#options;
    const stopped = this.#stopped.signal;
    let dirty = true;
    let wake: (() => void) | null = null;
    const poke = () => {
      dirty = true;
      wake?.();
    };
    const hub = this.#hub;
    const ended = () => stopped.aborted || (signal?.aborted ?? false) || hub.closed;
    signal?.addEventListener("abort", poke);
    stopped.addEventListener("abort", poke);
    let unsubscribe: (() => Promise<void>) | null = null;
    try {
      unsubscribe = await hub.subscribe(topicChannel(this.topic), poke);
      let next = this.#options.from ??
        (consumer === undefined ? 1 : await this.#streams.offset(this.topic, consumer) + 1);
      while (!ended()) {
        dirty = false;
        let batch: StreamEvent[];
        try {
          batch = await this.#streams.read(this.topic, { from: next, limit: batchSize });
        } catch (e) {
          if (hub.closed) return;
          throw e;
        }
        for (const event of batch) {
          if (ended()) return;
          next = event.seq + 1;
          yield event;
        }
        if (batch.length === batchSize || dirty) continue;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (dirty || ended()) resolve();
        });
        wake = null;
      }
    } finally {
      signal?.removeEventListener("abort", poke);
      stopped.removeEventListener("abort", poke);
      await unsubscribe?.();
    }
  }
}

/**
 * {@link StreamWriter} plus subscriptions: the `streams` of a store.
 *
 * @example
 * ```ts
 * import { openStore } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * const controller = new AbortController();
 * const seen: number[] = [];
 * const done = (async () => {
 *   for await (const e of store.streams.subscribe("ticks", { signal: controller.signal })) {
 *     seen.push(e.data as number);
 *     if (seen.length === 3) controller.abort();
 *   }
 * })();
 * for (const n of [1, 2, 3]) await store.streams.append("ticks", { type: "tick", data: n });
 * await done;
 * console.log(seen); // [ 1, 2, 3 ]
 * await store.close();
 * ```
 */
export class StreamStore extends StreamWriter {
  readonly #hub: ChangeHub;

  /** Streams on `db`, woken through `hub`; stores create this for you. */
  constructor(db: Driver, hub: ChangeHub) {
    super(db);
    this.#hub = hub;
  }

  /**
   * Follows `topic`: first the events from the start position (see
   * {@link SubscribeOptions}), then each new one as it commits, from any
   * process, until closed or aborted.
   */
  subscribe(topic: string, options: SubscribeOptions = {}): StreamSubscription {
    return new StreamSubscription(this, this.#hub, topic, options);
  }
}
