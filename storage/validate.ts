/**
 * Argument checks shared by every concern: names, JSON values, counts.
 *
 * @module
 */

import { StorageError } from "./errors.ts";

/**
 * A JSON value as stored and returned by the store.
 *
 * @example
 * ```ts
 * import type { JsonValue } from "@alknet/storage";
 * const value: JsonValue = { list: [1, "two", null, true], nested: { ok: false } };
 * console.log(JSON.stringify(value)); // '{"list":[1,"two",null,true],"nested":{"ok":false}}'
 * ```
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/;

/**
 * Throws `invalid-input` unless `value` is a name: 1 to `max` characters
 * of letters, digits and `. _ : @ / + -`, starting with a letter or digit.
 */
export function checkName(what: string, value: unknown, max = 200): string {
  if (
    typeof value !== "string" || value.length === 0 || value.length > max || !NAME_RE.test(value)
  ) {
    throw new StorageError(
      "invalid-input",
      `${what} ${JSON.stringify(value)} is not a valid name ` +
        `(1-${max} letters, digits or . _ : @ / + -, starting with a letter or digit)`,
    );
  }
  return value;
}

/** Throws `invalid-input` unless `value` is an integer in [min, max]. */
export function checkInteger(
  what: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new StorageError(
      "invalid-input",
      `${what} must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/** Throws `invalid-input` unless `value` is an array of strings (each 1-`max` characters). */
export function checkStrings(what: string, value: unknown, max = 200): string[] {
  if (
    !Array.isArray(value) ||
    value.some((s) => typeof s !== "string" || s.length === 0 || s.length > max)
  ) {
    throw new StorageError("invalid-input", `${what} must be a list of non-empty strings`);
  }
  return [...new Set(value as string[])];
}

/** Throws `invalid-input` unless `value` maps strings to string lists. */
export function checkResources(value: unknown): Record<string, string[]> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new StorageError("invalid-input", "resources must be an object of string lists");
  }
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(value)) out[k] = checkStrings(`resources.${k}`, v);
  return out;
}

/** JSON text of `value`; throws `invalid-input` when it has no JSON form. */
export function toJsonText(what: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new StorageError("invalid-input", `${what} is not JSON: ${(e as Error)?.message ?? e}`);
  }
  if (text === undefined) throw new StorageError("invalid-input", `${what} is not JSON`);
  return text;
}

/** Parses JSON text written by the store. */
export function fromJsonText<T = JsonValue>(text: unknown): T {
  return JSON.parse(String(text)) as T;
}
