/**
 * Turns an operation definition into a routable entry: checks the name, the
 * type and the handler's kind, compiles the input, output and error-details
 * schemas, and fills in the defaults.
 *
 * @module
 */

import type { CallContext } from "./context.ts";
import { RegistrationError } from "./errors.ts";
import type { OperationDefinition, OperationEntry } from "./router.ts";
import type { SchemaCompiler, ValidationIssue } from "./schema.ts";
import type { OperationSpec } from "./spec.ts";

/** True for schemas that accept anything (`{}`, `true`): nothing to check. */
function trivial(schema: unknown): boolean {
  return schema === true ||
    (typeof schema === "object" && schema !== null && Object.keys(schema).length === 0);
}

const NAME_RE = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;

/**
 * The entry for `def`. Throws {@link RegistrationError} for a bad name, an
 * invalid schema, or a handler whose kind does not match `type` (a
 * `subscribe` handler for a query, an async generator as a query handler,
 * ...).
 */
export function compileOperation<I = unknown, O = unknown>(
  def: OperationDefinition<I, O>,
  schemas: SchemaCompiler,
): OperationEntry {
  const name = def.name;
  if (typeof name !== "string" || !NAME_RE.test(name)) {
    throw new RegistrationError(String(name), "names look like ns/op (letters, digits, . _ -)");
  }
  if (def.type !== "query" && def.type !== "mutation" && def.type !== "subscription") {
    throw new RegistrationError(name, `unknown operation type ${JSON.stringify(def.type)}`);
  }
  const visibility = def.visibility ?? "external";
  if (visibility !== "external" && visibility !== "internal") {
    throw new RegistrationError(name, `unknown visibility ${JSON.stringify(visibility)}`);
  }
  let run: (input: unknown, ctx: CallContext) => unknown;
  if (def.type === "subscription") {
    if (def.handler !== undefined) {
      throw new RegistrationError(
        name,
        "INVALID_OPERATION_TYPE: a subscription needs a `subscribe` handler, not `handler`",
        { wrongType: true },
      );
    }
    if (typeof def.subscribe !== "function") {
      throw new RegistrationError(name, "missing `subscribe` handler");
    }
    run = def.subscribe as (input: unknown, ctx: CallContext) => unknown;
  } else {
    if (def.subscribe !== undefined) {
      throw new RegistrationError(
        name,
        `INVALID_OPERATION_TYPE: a ${def.type} needs a \`handler\`, not \`subscribe\``,
        { wrongType: true },
      );
    }
    if (typeof def.handler !== "function") throw new RegistrationError(name, "missing `handler`");
    const ctorName = (def.handler as { constructor?: { name?: string } }).constructor?.name;
    if (ctorName === "AsyncGeneratorFunction" || ctorName === "GeneratorFunction") {
      throw new RegistrationError(
        name,
        `INVALID_OPERATION_TYPE: a generator handler streams items; declare type "subscription"`,
        { wrongType: true },
      );
    }
    run = def.handler as (input: unknown, ctx: CallContext) => unknown;
  }
  const input_schema = def.input_schema ?? {};
  const output_schema = def.output_schema ?? {};
  let validate;
  let validateOutput;
  try {
    validate = schemas.compile(input_schema);
    validateOutput = schemas.compile(output_schema);
  } catch (e) {
    throw new RegistrationError(name, `invalid schema: ${(e as Error).message}`);
  }
  const errors = (def.errors ?? []).map((e) => ({ ...e }));
  const errorCheck = new Map<string, ((v: unknown) => ValidationIssue[] | null) | null>();
  for (const e of errors) {
    if (typeof e.code !== "string" || e.code.length === 0) {
      throw new RegistrationError(name, "error codes must be non-empty strings");
    }
    try {
      errorCheck.set(
        e.code,
        e.details_schema === undefined ? null : schemas.compile(e.details_schema),
      );
    } catch (err) {
      throw new RegistrationError(
        name,
        `invalid details schema for ${e.code}: ${(err as Error).message}`,
      );
    }
  }
  const spec: OperationSpec = {
    name,
    type: def.type,
    visibility,
    input_schema,
    output_schema,
    errors,
    access: { ...(def.access ?? {}) },
  };
  if (def.description !== undefined) spec.description = def.description;
  const entry: OperationEntry = {
    spec,
    allow: [...(def.allow ?? [])],
    authority: def.authority,
    capabilities: Object.freeze({ ...(def.capabilities ?? {}) }),
    childPolicy: def.childPolicy ?? "abort-dependents",
    validateInput: validate,
    checkError(code, details) {
      if (!errorCheck.has(code)) return undefined;
      const check = errorCheck.get(code);
      return check ? check(details) : null;
    },
    run,
  };
  if (!trivial(output_schema)) entry.validateOutput = validateOutput;
  return entry;
}
