/**
 * Redaction: objects holding secrets render as `[REDACTED]` under
 * `JSON.stringify`, `String()`, template literals, `Deno.inspect`,
 * `console.log` and Node's `util.inspect`.
 *
 * @module
 */

/**
 * The text every secret-holding object renders as.
 *
 * @example
 * ```ts
 * import { REDACTED } from "@alknet/vault";
 * console.log(REDACTED); // "[REDACTED]"
 * ```
 */
export const REDACTED = "[REDACTED]";

/**
 * A base class whose instances render as `[REDACTED]` everywhere. Subclasses
 * keep their secrets in `#private` fields so no enumeration reaches them.
 *
 * @example
 * ```ts
 * import { Redacted } from "@alknet/vault";
 * class Box extends Redacted { #secret = new Uint8Array([1, 2, 3]); }
 * const b = new Box();
 * console.log(JSON.stringify({ b }), String(b), Deno.inspect(b)); // {"b":"[REDACTED]"} [REDACTED] [REDACTED]
 * ```
 */
export class Redacted {
  /** `JSON.stringify` renders the object as `"[REDACTED]"`. */
  toJSON(): string {
    return REDACTED;
  }
  /** `String()` and template literals render `[REDACTED]`. */
  toString(): string {
    return REDACTED;
  }
  /** Primitive conversion also yields `[REDACTED]`. */
  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
  /** `Deno.inspect` and `console.log` render `[REDACTED]`. */
  [Symbol.for("Deno.customInspect")](): string {
    return REDACTED;
  }
  /** Node's `util.inspect` renders `[REDACTED]`. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return REDACTED;
  }
}
