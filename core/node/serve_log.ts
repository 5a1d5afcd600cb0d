/**
 * The `logger` option of `serve()`: a {@link Logger}, a function that
 * receives one {@link LogRecord} per event, or `false` for silence.
 *
 * @module
 */

import { type LogFields, Logger } from "../util/log.ts";

/**
 * One log event, as a function logger receives it.
 *
 * @example
 * ```ts
 * import type { LogRecord } from "@alknet/core";
 * const show = (r: LogRecord) => console.log(r.event, r.fields.remote ?? "", r.line);
 * console.log(typeof show); // "function"
 * ```
 */
export interface LogRecord {
  /** ISO 8601 time of the event. */
  ts: string;
  /** The event name, e.g. `auth` or `conn opened`. */
  event: string;
  /** The event's fields (never tunnel destinations or secrets). */
  fields: LogFields;
  /** The same event as one `key=value` text line, as alknet writes it on stderr. */
  line: string;
}

/**
 * A function logger.
 *
 * @example
 * ```ts
 * import type { LogFunction } from "@alknet/core";
 * const log: LogFunction = (r) => console.log(r.line);
 * console.log(typeof log); // "function"
 * ```
 */
export type LogFunction = (record: LogRecord) => void;

/**
 * What `serve({ logger })` accepts: a {@link Logger}, a {@link LogFunction}
 * or `false` (no logs). Absent means text lines on stderr.
 *
 * @example
 * ```ts
 * import type { LoggerOption } from "@alknet/core";
 * const quiet: LoggerOption = false;
 * console.log(quiet); // false
 * ```
 */
export type LoggerOption = Logger | LogFunction | false;

class SilentLogger extends Logger {
  override event(): void {}
}

class RecordLogger extends Logger {
  readonly #fn: LogFunction;
  readonly #text: Logger;
  #last = "";

  constructor(fn: LogFunction) {
    super("text", () => {});
    this.#fn = fn;
    this.#text = new Logger("text", (line) => this.#last = line);
  }

  override event(event: string, fields: LogFields = {}): void {
    this.#text.event(event, fields);
    const line = this.#last;
    const kept: LogFields = {};
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) kept[k] = v;
    this.#fn({ ts: line.slice(0, line.indexOf(" ")), event, fields: kept, line });
  }
}

/**
 * Turns a `logger` option into a {@link Logger}.
 *
 * @example
 * ```ts
 * import { toLogger } from "./serve_log.ts";
 * const events: string[] = [];
 * toLogger((r) => events.push(r.event)).event("conn opened", { remote: "127.0.0.1:1" });
 * toLogger(false).event("never seen");
 * console.log(events); // [ "conn opened" ]
 * ```
 */
export function toLogger(option: LoggerOption | undefined): Logger {
  if (option === undefined) return new Logger();
  if (option === false) return new SilentLogger("text", () => {});
  if (option instanceof Logger) return option;
  return new RecordLogger(option);
}
