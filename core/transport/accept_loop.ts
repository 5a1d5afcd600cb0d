/**
 * The accept loop every listener runs: it keeps accepting until its owner
 * stops it. A failed accept (`EMFILE`/`ENFILE` when the process is out of
 * file descriptors, `ECONNABORTED`, `ENOBUFS`, ...) is retried after a pause
 * that starts at 5 ms and doubles up to 1 s (Go's net/http does the same).
 * It is logged once per burst: `accept failed` at the first failure, and
 * `accept resumed failures=N` at the first success after a second without
 * failures (under sustained pressure accepts fail and succeed in turn; that
 * is one burst, not hundreds of log lines). Only `stop()` (or a listener
 * that no longer exists) ends the loop.
 *
 * @module
 */

import type { Logger } from "../util/log.ts";

/**
 * Anything with an `accept()` (a `Deno.Listener`, a `Deno.QuicListener`).
 *
 * @example
 * ```ts
 * import type { Acceptor } from "@alknet/core/transport";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const acceptor: Acceptor<Deno.Conn> = listener; // a Deno listener is one
 * console.log(typeof acceptor.accept); // "function"
 * listener.close();
 * ```
 */
export interface Acceptor<T> {
  /** Waits for the next connection. */
  accept(): Promise<T>;
}

/**
 * What {@link startAcceptLoop} needs besides the acceptor.
 *
 * @example
 * ```ts
 * import type { AcceptLoopOptions } from "@alknet/core/transport";
 * const o: AcceptLoopOptions = { transport: "tls", addr: "0.0.0.0:443" };
 * console.log(o.transport);
 * ```
 */
export interface AcceptLoopOptions {
  /** Where `accept failed` / `accept resumed` lines go. */
  logger?: Logger;
  /** The listener's transport, for the log. */
  transport: string;
  /** The listener's address, for the log. */
  addr: string;
  /** First pause after a failed accept, in milliseconds (default 5). */
  minDelayMs?: number;
  /** Longest pause, in milliseconds (default 1000). */
  maxDelayMs?: number;
  /** A burst ends after this long without a failed accept, in milliseconds (default 1000). */
  quietMs?: number;
  /** Called with each pause before it is taken (to observe the back-off). */
  onPause?: (ms: number) => void;
}

/**
 * A running accept loop.
 *
 * @example
 * ```ts
 * import type { AcceptLoop } from "@alknet/core/transport";
 * const stopBoth = (a: AcceptLoop, b: AcceptLoop) => Promise.all([a.stop(), b.stop()]);
 * console.log(typeof stopBoth); // "function"
 * ```
 */
export interface AcceptLoop {
  /** Resolves when the loop has ended. */
  readonly done: Promise<void>;
  /** Failed accepts so far (all bursts). */
  readonly failures: number;
  /**
   * Ends the loop: no connection is handed on after this. Close the
   * listener too (before or after) so a pending `accept()` returns.
   */
  stop(): Promise<void>;
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === "string" && code !== "") return code;
  return e instanceof Error ? e.name : "unknown";
}

/**
 * Accepts connections from `acceptor` and hands each to `onAccept` until
 * `stop()`. `onAccept` must not throw (a throw is caught and ignored) and
 * owns the connection it gets.
 *
 * @example
 * ```ts
 * import { Logger, startAcceptLoop } from "@alknet/core/transport";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const loop = startAcceptLoop(listener, (conn) => conn.close(), {
 *   transport: "tcp",
 *   addr: "127.0.0.1",
 *   logger: new Logger("text", () => {}),
 * });
 * listener.close();
 * await loop.stop();
 * ```
 */
export function startAcceptLoop<T>(
  acceptor: Acceptor<T>,
  onAccept: (conn: T) => void,
  options: AcceptLoopOptions,
): AcceptLoop {
  const minDelay = options.minDelayMs ?? 5;
  const maxDelay = options.maxDelayMs ?? 1000;
  const quiet = options.quietMs ?? 1000;
  let stopped = false;
  let wake: (() => void) | undefined;
  let total = 0;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });
  const done = (async () => {
    let burst = 0;
    let delay = 0;
    let lastFailure = 0;
    while (!stopped) {
      let conn: T;
      try {
        conn = await acceptor.accept();
      } catch (e) {
        if (stopped) break;
        if (e instanceof Deno.errors.BadResource) {
          // The listener is gone (closed underneath us): nothing left to accept from.
          options.logger?.event("accept stopped", {
            addr: options.addr,
            transport: options.transport,
            error: errorCode(e),
          });
          break;
        }
        total++;
        burst++;
        lastFailure = Date.now();
        delay = delay === 0 ? minDelay : Math.min(delay * 2, maxDelay);
        if (burst === 1) {
          options.logger?.event("accept failed", {
            addr: options.addr,
            transport: options.transport,
            error: errorCode(e),
          });
        }
        options.onPause?.(delay);
        await pause(delay);
        continue;
      }
      if (stopped) {
        try {
          (conn as { close?: () => void }).close?.();
        } catch { /* closed */ }
        break;
      }
      if (burst > 0 && Date.now() - lastFailure >= quiet) {
        options.logger?.event("accept resumed", {
          addr: options.addr,
          transport: options.transport,
          failures: burst,
        });
        burst = 0;
      }
      delay = 0;
      try {
        onAccept(conn);
      } catch { /* the handler owns its failures */ }
    }
  })();
  return {
    done,
    get failures() {
      return total;
    },
    stop() {
      stopped = true;
      wake?.();
      return done;
    },
  };
}
