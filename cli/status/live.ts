/**
 * The status page's live feed: server-sent events carrying the counts, the
 * newest calls and the call graph as SVG whenever calls start and end.
 * Renders at most every `intervalMs`, once for all viewers, and only while
 * someone watches (the node pays nothing otherwise).
 *
 * @module
 */

import type { CallRecorder } from "@alknet/flowgraph";
import { type LiveState, liveState } from "./model.ts";

/**
 * Options of {@link LiveFeed}.
 */
export interface LiveFeedOptions {
  /** The node's call recorder (null: recording is off; counts only). */
  recorder: CallRecorder | null;
  /** SSH sessions open now. */
  sessions: () => number;
  /** Shortest time between two updates (default 250 ms). */
  intervalMs?: number;
  /** How often running calls' durations and the counts are refreshed (default 2 s). */
  tickMs?: number;
  /** Viewers at most (default 32); more are answered 503. */
  maxViewers?: number;
}

const encoder = new TextEncoder();
const KEEPALIVE = encoder.encode(": keepalive\n\n");

/**
 * Server-sent events for the status page (`event: state`, data a
 * {@link LiveState}).
 */
export class LiveFeed {
  readonly #o: Required<LiveFeedOptions>;
  readonly #viewers = new Set<ReadableStreamDefaultController<Uint8Array>>();
  #unsubscribe: (() => void) | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing = false;
  #again = false;
  #last = 0;
  #lastSessions = -1;
  #quiet = 0;
  #closed = false;

  /** A feed over `options.recorder`. */
  constructor(options: LiveFeedOptions) {
    this.#o = { intervalMs: 250, tickMs: 2000, maxViewers: 32, ...options };
  }

  /** Viewers connected now. */
  get viewers(): number {
    return this.#viewers.size;
  }

  /** The state now (rendered afresh). */
  state(): Promise<LiveState> {
    return liveState(this.#o.recorder, this.#o.sessions);
  }

  /** A `text/event-stream` response that starts with the state now. */
  stream(): Response {
    if (this.#closed || this.#viewers.size >= this.#o.maxViewers) {
      return new Response("too many viewers\n", { status: 503 });
    }
    let me: ReadableStreamDefaultController<Uint8Array> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        me = controller;
        this.#join(controller);
      },
      cancel: () => {
        if (me !== undefined) this.#leave(me);
      },
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /** Ends every stream and stops listening to the recorder. */
  close(): void {
    this.#closed = true;
    for (const v of [...this.#viewers]) {
      this.#leave(v);
      try {
        v.close();
      } catch { /* already closed */ }
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #join(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#viewers.add(controller);
    if (this.#viewers.size === 1) {
      this.#unsubscribe = this.#o.recorder?.subscribe(() => this.#dirty());
      this.#ticker = setInterval(() => this.#tick(), this.#o.tickMs);
    }
    this.#last = 0; // the newcomer gets the state now
    this.#dirty();
  }

  #leave(controller: ReadableStreamDefaultController<Uint8Array>): void {
    if (!this.#viewers.delete(controller) || this.#viewers.size > 0) return;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  #tick(): void {
    const sessions = this.#o.sessions();
    const live = (this.#o.recorder?.live ?? 0) > 0;
    if (live || sessions !== this.#lastSessions) return this.#dirty();
    if (++this.#quiet * this.#o.tickMs >= 15_000) {
      this.#quiet = 0;
      this.#send(KEEPALIVE);
    }
  }

  #dirty(): void {
    if (this.#closed || this.#viewers.size === 0) return;
    if (this.#flushing) {
      this.#again = true;
      return;
    }
    if (this.#timer !== undefined) return;
    const wait = Math.max(0, this.#last + this.#o.intervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, wait);
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    this.#again = false;
    try {
      const state = await this.state();
      this.#last = Date.now();
      this.#lastSessions = state.counts.sessions;
      this.#quiet = 0;
      this.#send(encoder.encode(`event: state\ndata: ${JSON.stringify(state)}\n\n`));
    } catch {
      this.#last = Date.now(); // a failed render waits for the next change
    } finally {
      this.#flushing = false;
      if (this.#again) this.#dirty();
    }
  }

  #send(bytes: Uint8Array): void {
    for (const v of [...this.#viewers]) {
      try {
        // A viewer that reads nothing for a long while is let go.
        if ((v.desiredSize ?? 0) < -64) throw new Error("viewer too slow");
        v.enqueue(bytes);
      } catch {
        this.#leave(v);
        try {
          v.close();
        } catch { /* already closed */ }
      }
    }
  }
}
