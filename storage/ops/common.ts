/**
 * The shapes the storage operations share, structurally compatible with
 * `@alknet/call`'s `OperationDefinition` (no import of it), and the mapping
 * of store errors to call error codes.
 *
 * @module
 */

import { StorageError, type StorageErrorCode } from "../errors.ts";
import type { JsonSchema } from "../metagraph_schema.ts";

/**
 * The caller as the call protocol sees it (`Identity` of `@alknet/call`).
 *
 * @example
 * ```ts
 * import type { OperationCaller } from "@alknet/storage/ops";
 * const admin: OperationCaller = { id: "alice", scopes: ["admin:peers"] };
 * console.log(admin.scopes); // [ "admin:peers" ]
 * ```
 */
export interface OperationCaller {
  /** Identity id. */
  id: string;
  /** Granted scopes (`*` grants all). */
  scopes: string[];
}

/**
 * What a handler uses from `@alknet/call`'s `CallContext`.
 *
 * @example
 * ```ts
 * import type { OperationContext } from "@alknet/storage/ops";
 * const ctx: OperationContext = { identity: { id: "alice", scopes: ["*"] }, signal: new AbortController().signal };
 * console.log(ctx.identity?.id); // "alice"
 * ```
 */
export interface OperationContext {
  /** The authenticated caller, or null. */
  readonly identity: OperationCaller | null;
  /** Aborted when the call is. */
  readonly signal: AbortSignal;
}

/**
 * One declared error of an operation.
 *
 * @example
 * ```ts
 * import { STORAGE_OPERATION_ERRORS, type OperationErrorSpec } from "@alknet/storage/ops";
 * const spec: OperationErrorSpec = STORAGE_OPERATION_ERRORS.EXISTS;
 * console.log(spec.code); // "EXISTS"
 * ```
 */
export interface OperationErrorSpec {
  /** The code. */
  code: string;
  /** When it is answered. */
  description: string;
  /** Whether retrying may succeed. */
  retryable?: boolean;
}

/**
 * An operation definition in `@alknet/call`'s shape: register it with
 * `registry.register(op)`.
 *
 * @example
 * ```ts
 * import { openStore } from "@alknet/storage";
 * import { type StorageOperation, storageOperations } from "@alknet/storage/ops";
 * const store = await openStore(":memory:");
 * const list: StorageOperation | undefined = storageOperations(store).find((o) => o.name === "peers/list");
 * console.log(list?.type, list?.access.scopes_any); // "query" [ "admin:peers", "peers:read" ]
 * await store.close();
 * ```
 */
export interface StorageOperation {
  /** `ns/op`. */
  name: string;
  /** Query, mutation or subscription. */
  type: "query" | "mutation" | "subscription";
  /** What it does. */
  description: string;
  /** JSON Schema of the input. */
  input_schema: JsonSchema;
  /** JSON Schema of the output (of each item, for subscriptions). */
  output_schema: JsonSchema;
  /** The error codes it may answer besides the protocol's own. */
  errors: OperationErrorSpec[];
  /** Scopes required: any one of them. */
  access: { scopes_any: string[] };
  /** The handler of a query or mutation. */
  handler?: (input: unknown, ctx: OperationContext) => Promise<unknown>;
  /** The handler of a subscription. */
  subscribe?: (input: unknown, ctx: OperationContext) => AsyncIterable<unknown>;
}

/**
 * Builds the error a handler throws for a store failure; pass
 * `(code, message, details) => new CallError(code, message, { details })`
 * so the call protocol answers it with its code.
 *
 * @example
 * ```ts
 * import type { ErrorFactory } from "@alknet/storage/ops";
 * // In a node: (code, message, details) => new CallError(code, message, { details })
 * const toError: ErrorFactory = (code, message) => Object.assign(new Error(message), { code });
 * console.log((toError("NOT_FOUND", "no such peer") as Error & { code: string }).code); // "NOT_FOUND"
 * ```
 */
export type ErrorFactory = (code: string, message: string, details?: unknown) => Error;

const CODES: Record<StorageErrorCode, string> = {
  "bad-location": "INTERNAL",
  "unavailable": "UNAVAILABLE",
  "schema-too-new": "INTERNAL",
  "migration-failed": "INTERNAL",
  "not-found": "NOT_FOUND",
  "exists": "EXISTS",
  "conflict": "CONFLICT",
  "in-use": "IN_USE",
  "invalid-input": "INVALID_INPUT",
  "invalid-schema": "INVALID_SCHEMA",
  "invalid-attributes": "INVALID_ATTRIBUTES",
  "not-allowed": "NOT_ALLOWED",
  "rotate-failed": "INTERNAL",
  "busy": "BUSY",
  "closed": "UNAVAILABLE",
  "internal": "INTERNAL",
};

/**
 * The call error code for a store error code.
 *
 * @example
 * ```ts
 * import { callCode } from "@alknet/storage/ops";
 * console.log(callCode("not-found"), callCode("invalid-attributes")); // "NOT_FOUND" "INVALID_ATTRIBUTES"
 * ```
 */
export function callCode(code: StorageErrorCode): string {
  return CODES[code];
}

/**
 * Every non-protocol code the storage operations may answer.
 *
 * @example
 * ```ts
 * import { STORAGE_OPERATION_ERRORS } from "@alknet/storage/ops";
 * console.log(STORAGE_OPERATION_ERRORS.BUSY.retryable); // true
 * ```
 */
export const STORAGE_OPERATION_ERRORS: Record<string, OperationErrorSpec> = {
  EXISTS: { code: "EXISTS", description: "a record with that name or key already exists" },
  CONFLICT: { code: "CONFLICT", description: "the write clashes with another record" },
  IN_USE: { code: "IN_USE", description: "other records still refer to it" },
  INVALID_SCHEMA: { code: "INVALID_SCHEMA", description: "the JSON Schema does not compile" },
  INVALID_ATTRIBUTES: {
    code: "INVALID_ATTRIBUTES",
    description: "attributes do not fit their type; details lists {path, message}",
  },
  NOT_ALLOWED: { code: "NOT_ALLOWED", description: "the edge type does not join these node types" },
  BUSY: { code: "BUSY", description: "the database is busy", retryable: true },
  UNAVAILABLE: { code: "UNAVAILABLE", description: "the store is unreachable", retryable: true },
};

/** The declared errors for a list of codes. */
export function errors(...codes: string[]): OperationErrorSpec[] {
  return [...codes, "BUSY", "UNAVAILABLE"].map((c) => STORAGE_OPERATION_ERRORS[c]);
}

/** Wraps a handler so store errors become `toError(code, message, details)`. */
export function guard<I, O>(
  toError: ErrorFactory,
  fn: (input: I, ctx: OperationContext) => Promise<O>,
): (input: unknown, ctx: OperationContext) => Promise<O> {
  return async (input: unknown, ctx: OperationContext) => {
    try {
      return await fn(input as I, ctx);
    } catch (e) {
      if (e instanceof StorageError) {
        throw toError(
          callCode(e.code),
          e.message,
          e.issues.length ? { issues: e.issues } : undefined,
        );
      }
      throw e;
    }
  };
}

/** Whether the caller holds one of `scopes` (or `*`). */
export function holds(ctx: OperationContext, scopes: readonly string[]): boolean {
  const granted = ctx.identity?.scopes ?? [];
  return granted.includes("*") || scopes.some((s) => granted.includes(s));
}

/** An object schema with these properties, `required` listing the needed ones. */
export function object(
  properties: Record<string, JsonSchema>,
  required: string[] = [],
): JsonSchema {
  return { type: "object", properties, required, additionalProperties: false };
}

/** Common property schemas. */
export const S = {
  name: { type: "string", minLength: 1, maxLength: 200 } as JsonSchema,
  text: { type: "string" } as JsonSchema,
  strings: { type: "array", items: { type: "string" } } as JsonSchema,
  int: { type: "integer", minimum: 0 } as JsonSchema,
  bool: { type: "boolean" } as JsonSchema,
  resources: {
    type: "object",
    additionalProperties: { type: "array", items: { type: "string" } },
  } as JsonSchema,
  attributes: { type: "object" } as JsonSchema,
  any: {} as JsonSchema,
};
