/**
 * One-line structured logs on stderr: `key=value` text or JSON lines, with
 * stable field names (docs/reference/wire-formats.md, log lines). Tunnel destinations, DNS names and byte
 * counts never go through here.
 *
 * @module
 */

/**
 * Log output format.
 *
 * @example
 * ```ts
 * import { type LogFormat, Logger } from "@alknet/core/transport";
 * const format: LogFormat = "json"; // one JSON object per line
 * new Logger(format, console.log).event("conn opened", { transport: "tcp" });
 * ```
 */
export type LogFormat = "text" | "json";

/**
 * Field values a log line may carry.
 *
 * @example
 * ```ts
 * import { type LogFields, Logger } from "@alknet/core/transport";
 * const fields: LogFields = { remote: "192.0.2.1:50000", transport: "tls", ok: true };
 * new Logger("text", console.log).event("conn opened", fields); // a key=value line
 * ```
 */
export type LogFields = Record<string, string | number | boolean | undefined>;

/**
 * Where finished lines go (stderr by default; tests capture them).
 *
 * @example
 * ```ts
 * import { Logger, type LogSink } from "@alknet/core/transport";
 * const lines: string[] = [];
 * const sink: LogSink = (line) => lines.push(line);
 * new Logger("text", sink).event("conn closed", { transport: "tcp" });
 * console.log(lines.length); // 1
 * ```
 */
export type LogSink = (line: string) => void;

const encoder = new TextEncoder();
const stderrSink: LogSink = (line) => {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch { /* stderr closed */ }
};

function quote(v: string): string {
  return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
}

/**
 * Writes events as single lines: `<iso time> <event> key=value ...` or
 * `{"ts":...,"event":...,...}`. `undefined` fields are left out.
 *
 * @example
 * ```ts
 * import { Logger } from "@alknet/core/transport";
 * const lines: string[] = [];
 * const log = new Logger("text", (l) => lines.push(l));
 * log.event("auth", { result: "accept", remote: "127.0.0.1:5000", method: "publickey" });
 * console.log(lines[0].includes("auth result=accept")); // true
 * ```
 */
export class Logger {
  /** Creates a logger writing `format` lines to `sink` (stderr by default). */
  constructor(readonly format: LogFormat = "text", readonly sink: LogSink = stderrSink) {}

  /** Logs one event with its fields. */
  event(event: string, fields: LogFields = {}): void {
    const ts = new Date().toISOString();
    if (this.format === "json") {
      const space = event.indexOf(" ");
      const obj: Record<string, unknown> = space < 0
        ? { ts, event }
        : { ts, event: event.slice(0, space), action: event.slice(space + 1) };
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) obj[k] = v;
      this.sink(JSON.stringify(obj));
      return;
    }
    let line = `${ts} ${event}`;
    for (const [k, v] of Object.entries(fields)) {
      if (v !== undefined) line += ` ${k}=${quote(String(v))}`;
    }
    this.sink(line);
  }

  /** Logs a human-readable notice (`event=notice msg="..."`). */
  notice(message: string, fields: LogFields = {}): void {
    this.event("notice", { msg: message, ...fields });
  }

  /** Logs a warning (`event=warn msg="..."`). */
  warn(message: string, fields: LogFields = {}): void {
    this.event("warn", { msg: message, ...fields });
  }
}
