/**
 * Output validation: what the dispatcher does with a result (or a
 * subscription item) that does not match the operation's `output_schema`.
 * `error` answers `INTERNAL`, `warn` reports it once per operation and sends
 * the output anyway, `off` does not check.
 *
 * @module
 */

import { CallError } from "./errors.ts";
import type { ValidationIssue } from "./schema.ts";

/**
 * How outputs are checked against `output_schema`: `error` (a mismatch
 * answers `INTERNAL` with the issues in `details`), `warn` (the default: the
 * first mismatch of each operation is reported, the output is sent
 * unchanged) or `off`.
 *
 * @example
 * ```ts
 * import { OperationRegistry, type OutputValidation } from "@alknet/call";
 * const mode: OutputValidation = "error"; // what tests use
 * const registry = new OperationRegistry({ validateOutput: mode });
 * registry.register({ name: "demo/n", type: "query", output_schema: { type: "number" }, handler: () => "x" });
 * await registry.invoke("demo/n", null).catch((e) => console.log(e.code)); // "INTERNAL"
 * ```
 */
export type OutputValidation = "error" | "warn" | "off";

/**
 * Told about an output that does not match its schema (in `warn` mode).
 *
 * @example
 * ```ts
 * import { OperationRegistry, type InvalidOutputReporter } from "@alknet/call";
 * const report: InvalidOutputReporter = (name, issues) => console.log(name, issues[0].message);
 * const registry = new OperationRegistry({ validateOutput: "warn", onInvalidOutput: report });
 * registry.register({ name: "demo/n", type: "query", output_schema: { type: "number" }, handler: () => "x" });
 * console.log(await registry.invoke("demo/n", null)); // "demo/n must be number", then "x"
 * ```
 */
export type InvalidOutputReporter = (operation: string, issues: ValidationIssue[]) => void;

const VALUES = new Set(["error", "warn", "off"]);
let fromEnv: OutputValidation | null | undefined;

/**
 * The default mode: `ALKNET_VALIDATE_OUTPUT` (`error`, `warn` or `off`) when
 * set and readable, else `warn`. Read once per process.
 *
 * @example
 * ```ts
 * import { defaultOutputValidation } from "@alknet/call";
 * console.log(defaultOutputValidation()); // "warn" unless ALKNET_VALIDATE_OUTPUT says otherwise
 * ```
 */
export function defaultOutputValidation(): OutputValidation {
  if (fromEnv === undefined) {
    fromEnv = null;
    try {
      const v = Deno.env.get("ALKNET_VALIDATE_OUTPUT");
      if (v !== undefined && VALUES.has(v)) fromEnv = v as OutputValidation;
    } catch {
      // no permission to read the environment: the built-in default
    }
  }
  return fromEnv ?? "warn";
}

const warned = new Set<string>();

function warnOnce(operation: string, issues: ValidationIssue[]): void {
  if (warned.has(operation)) return;
  warned.add(operation);
  const first = issues[0];
  console.warn(
    `alknet call: the output of ${operation} does not match its output_schema ` +
      `(${first ? `${first.path || "/"} ${first.message}` : "invalid"}); reported once`,
  );
}

/** What the dispatcher needs to check one output. */
export interface OutputCheck {
  /** The mode. */
  mode: OutputValidation;
  /** Reporter for `warn` (default: `console.warn`, once per operation). */
  report?: InvalidOutputReporter;
}

/**
 * Checks `value` with `validate` under `check`: the error to answer
 * instead, or null to send the value.
 */
export function checkOutput(
  operation: string,
  value: unknown,
  validate: (v: unknown) => ValidationIssue[] | null,
  check: OutputCheck,
): CallError | null {
  if (check.mode === "off") return null;
  const issues = validate(value);
  if (issues === null) return null;
  if (check.mode === "warn") {
    try {
      (check.report ?? warnOnce)(operation, issues);
    } catch {
      // a reporter must not break calls
    }
    return null;
  }
  return new CallError("INTERNAL", `the output of ${operation} does not match its output_schema`, {
    details: { errors: issues },
  });
}
