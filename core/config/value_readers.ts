/**
 * Reading typed values out of a parsed TOML document: each reader returns
 * the value, or reports `key: message` and returns undefined, so one pass
 * collects every problem of a file.
 *
 * @module
 */

import type { IssueReporter } from "./schema.ts";

/** Where the readers report a problem. */
type Report = IssueReporter;

/** True for a TOML table (a plain object, not an array or a date). */
export function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** How a value is named in a report ("a string", "an array", ...). */
export function typeName(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v instanceof Date) return "a date";
  if (v === null) return "null";
  if (typeof v === "object") return "a table";
  return `a ${typeof v}`;
}

/** A non-empty string, or a report. */
export function str(v: unknown, key: string, report: Report): string | undefined {
  if (typeof v === "string" && v !== "") return v;
  report(key, `must be a non-empty string, not ${typeName(v)}`);
  return undefined;
}

/** An array of non-empty strings (non-empty unless `allowEmpty`), or a report. */
export function strList(
  v: unknown,
  key: string,
  report: Report,
  allowEmpty = false,
): string[] | undefined {
  if (!Array.isArray(v)) {
    report(key, `must be an array of strings, not ${typeName(v)}`);
    return undefined;
  }
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== "string" || v[i] === "") {
      report(`${key}[${i}]`, `must be a non-empty string, not ${typeName(v[i])}`);
      return undefined;
    }
  }
  if (!allowEmpty && v.length === 0) {
    report(key, "must not be empty");
    return undefined;
  }
  return [...v] as string[];
}

/** A safe integer of at least `min`, or a report. */
export function int(v: unknown, key: string, report: Report, min = 0): number | undefined {
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n === "number" && Number.isSafeInteger(n) && n >= min) return n;
  report(key, `must be an integer >= ${min}, not ${typeof v === "number" ? v : typeName(v)}`);
  return undefined;
}

/** A boolean, or a report. */
export function bool(v: unknown, key: string, report: Report): boolean | undefined {
  if (typeof v === "boolean") return v;
  report(key, `must be true or false, not ${typeName(v)}`);
  return undefined;
}

/** One of the `allowed` strings, or a report. */
export function oneOf<T extends string>(
  v: unknown,
  key: string,
  allowed: readonly T[],
  report: Report,
): T | undefined {
  if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
  report(
    key,
    `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, not ${
      JSON.stringify(v, (_k, x) => typeof x === "bigint" ? `${x}` : x) ?? typeName(v)
    }`,
  );
  return undefined;
}

/** Reports every key of `t` that is not in `allowed`. */
export function unknownKeys(
  t: Record<string, unknown>,
  allowed: readonly string[],
  prefix: string,
  report: Report,
): void {
  for (const k of Object.keys(t)) {
    if (!allowed.includes(k)) {
      report(prefix ? `${prefix}.${k}` : k, `unknown key (allowed: ${allowed.join(", ")})`);
    }
  }
}

/** A date-time with an offset (TOML date or RFC 3339 string) as Unix milliseconds, or a report. */
export function expiry(v: unknown, key: string, report: Report): number | undefined {
  if (v instanceof Date) {
    const local = (v as Date & { isLocal?: () => boolean }).isLocal?.() ?? false;
    if (local || isNaN(v.getTime())) {
      report(key, "must be a date-time with an offset, e.g. 2027-01-01T00:00:00Z");
      return undefined;
    }
    return v.getTime();
  }
  if (
    typeof v === "string" &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(v)
  ) {
    const t = Date.parse(v);
    if (!isNaN(t)) return t;
  }
  report(key, `must be a date-time with an offset, e.g. 2027-01-01T00:00:00Z, not ${typeName(v)}`);
  return undefined;
}
