/**
 * What a listener holds for a connection until its peer has proven itself:
 * a place among the source address's unauthenticated connections and the
 * pre-auth clock started at accept ({@link PreauthGuard}), and, on HTTP,
 * the header and idle deadlines nginx applies ({@link httpDeadlines}).
 * Internal to the listeners (not exported by `@alknet/core/transport`).
 *
 * @module
 */

import type { ByteConn } from "./stream.ts";
import type { UnauthenticatedSlot } from "./limits.ts";

/**
 * One accepted connection's unauthenticated state: the slot and the
 * pre-auth clock. `authenticated()` and `closed()` free the slot and stop
 * the clock; `handOver()` stops only the clock (the protocol that now owns
 * the connection keeps a clock of its own, or has none: HTTP).
 */
export class PreauthGuard {
  /** When the connection was accepted (`Date.now()`). */
  readonly acceptedAt: number;
  #slot: UnauthenticatedSlot;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #done = false;

  /**
   * Takes `slot` and starts the clock: `onTimeout` runs `deadlineMs` after
   * `acceptedAt` (default now) unless stopped.
   */
  constructor(
    slot: UnauthenticatedSlot,
    deadlineMs: number,
    onTimeout: () => void,
    acceptedAt: number = Date.now(),
  ) {
    this.#slot = slot;
    this.acceptedAt = acceptedAt;
    this.deadlineMs = deadlineMs;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.claim()) onTimeout();
    }, this.remainingMs);
  }

  /** The pre-auth deadline, in milliseconds from accept. */
  readonly deadlineMs: number;

  /** Milliseconds left until the pre-auth deadline (0 when passed). */
  get remainingMs(): number {
    return Math.max(0, this.deadlineMs - (Date.now() - this.acceptedAt));
  }

  /** True once the peer authenticated or the connection closed. */
  get done(): boolean {
    return this.#done;
  }

  /** The peer proved itself: frees the slot, stops the clock. */
  authenticated = (): void => {
    this.#finish();
  };

  /** The connection closed: frees the slot, stops the clock. */
  closed = (): void => {
    this.#finish();
  };

  /**
   * Claims the end of the connection for one deadline: true for the first
   * caller only (who then logs why and closes it), so two deadlines that
   * fire together never both report. Frees the slot and stops the clock.
   */
  claim(): boolean {
    if (this.#done) return false;
    this.#finish();
    return true;
  }

  /** Stops the clock but keeps the slot (another deadline owns the connection now). */
  handOver(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.handOver();
    this.#slot.release();
  }
}

/** Why {@link httpDeadlines} closed a connection. */
export type HttpDeadline = "header" | "idle";

/**
 * A connection with HTTP deadlines, and the switch that lifts them.
 */
export interface HttpGuarded {
  /** Reads and writes go through to the connection. */
  conn: ByteConn;
  /** Lifts both deadlines (the client authenticated, e.g. over a WebSocket). */
  disarm(): void;
}

/**
 * Wraps a connection that carries HTTP: it is closed (and `onTimeout`
 * told why) when the header of its first request (up to the first empty
 * line; HTTP/2's preface has one too) has not arrived within
 * `headerMs`, or when nothing was read or written for `idleMs`. Like
 * nginx's `client_header_timeout` and `keepalive_timeout`.
 */
export function httpDeadlines(
  conn: ByteConn,
  options: {
    headerMs: number;
    idleMs: number;
    onTimeout: (why: HttpDeadline) => void;
    /** Bytes already read from the connection (peeked), scanned first. */
    seen?: Uint8Array;
  },
): HttpGuarded {
  // 0: inside a line, 1: just after a line feed, 2: after a line feed and a carriage return.
  let state = 0;
  let headerDone = false;
  let armed = true;
  let last = Date.now();
  const expire = (why: HttpDeadline) => {
    if (!armed) return;
    armed = false;
    clearTimeout(headerTimer);
    clearTimeout(idleTimer);
    options.onTimeout(why);
    try {
      conn.close();
    } catch { /* closed */ }
  };
  const headerTimer = setTimeout(() => expire("header"), options.headerMs);
  let idleTimer: ReturnType<typeof setTimeout>;
  const checkIdle = () => {
    const quiet = Date.now() - last;
    if (quiet >= options.idleMs) expire("idle");
    else idleTimer = setTimeout(checkIdle, options.idleMs - quiet);
  };
  idleTimer = setTimeout(checkIdle, options.idleMs);
  const disarm = () => {
    armed = false;
    clearTimeout(headerTimer);
    clearTimeout(idleTimer);
  };
  const scan = (p: Uint8Array, n: number) => {
    for (let i = 0; i < n && !headerDone; i++) {
      const b = p[i];
      if (b === 10) {
        if (state === 0) state = 1;
        else {
          headerDone = true;
          clearTimeout(headerTimer);
        }
      } else state = b === 13 && state === 1 ? 2 : 0;
    }
  };
  if (options.seen) scan(options.seen, options.seen.length);
  const wrapped: ByteConn = {
    async read(p) {
      const n = await conn.read(p);
      if (n === null) {
        disarm();
        return null;
      }
      if (armed) {
        last = Date.now();
        if (!headerDone) scan(p, n);
      }
      return n;
    },
    async write(p) {
      const n = await conn.write(p);
      if (armed) last = Date.now();
      return n;
    },
    closeWrite: conn.closeWrite ? () => conn.closeWrite!() : undefined,
    close() {
      disarm();
      conn.close();
    },
  };
  return { conn: wrapped, disarm };
}
