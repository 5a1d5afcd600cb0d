/**
 * The `logger` option of `serve()`: a {@link Logger}, a function that
 * receives one {@link LogRecord} per event, or `false` for silence.
 * And the shape of its `audit` hook ({@link NodeAuditEvent}).
 *
 * @module
 */

import { type LogFields, Logger } from "../util/log.ts";
import type { SessionAuditEvent } from "../ssh/server_types.ts";

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
 */
export function toLogger(option: LoggerOption | undefined): Logger {
  if (option === undefined) return new Logger();
  if (option === false) return new SilentLogger("text", () => {});
  if (option instanceof Logger) return option;
  return new RecordLogger(option);
}

/**
 * An audit event of a node: logins accepted and refused (SSH keys, tokens,
 * API keys), SSH sessions opened and closed, and configuration reloads.
 * Never a tunnel destination. `@alknet/storage`'s `appendAudit` takes it as
 * it is.
 *
 * @example
 * ```ts
 * import type { NodeAuditEvent } from "@alknet/core";
 * const e: NodeAuditEvent = { type: "config.reloaded", ok: true };
 * console.log(e.type); // "config.reloaded"
 * ```
 */
export type NodeAuditEvent = SessionAuditEvent | {
  /** The node reloaded its options (`reload()`). */
  type: "config.reloaded";
  /** Whether the new options were taken. */
  ok: boolean;
  /** What changed (section names), when the caller knows. */
  changes?: string[];
  /** Why they were refused. */
  error?: string;
};

/**
 * The `audit` option of `serve()` as a function that never throws (a
 * failing hook is ignored).
 */
export function toAuditHook(
  hook: ((event: NodeAuditEvent) => void) | undefined,
): (event: NodeAuditEvent) => void {
  if (!hook) return () => {};
  return (event) => {
    try {
      hook(event);
    } catch { /* the hook's failure is its own */ }
  };
}
