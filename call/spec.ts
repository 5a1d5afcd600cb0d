/**
 * What an operation is, as data: its kind, visibility, schemas, declared
 * errors and access requirements ({@link OperationSpec}, what
 * `services/schema` returns), and the peers an environment routes to.
 *
 * @module
 */

import type { AccessSpec } from "./access.ts";
import type { JsonSchema } from "./schema.ts";

/**
 * Queries and mutations answer once; subscriptions stream items.
 *
 * @example
 * ```ts
 * import type { OperationType } from "@alknet/call";
 * const t: OperationType = "subscription";
 * console.log(t);
 * ```
 */
export type OperationType = "query" | "mutation" | "subscription";

/**
 * `internal` operations are only reachable by composition, never from the wire.
 *
 * @example
 * ```ts
 * import type { Visibility } from "@alknet/call";
 * const v: Visibility = "internal";
 * console.log(v);
 * ```
 */
export type Visibility = "external" | "internal";

/**
 * An error code an operation may answer, with a schema for its `details`.
 *
 * @example
 * ```ts
 * import type { ErrorSpec } from "@alknet/call";
 * const e: ErrorSpec = { code: "OUT_OF_STOCK", details_schema: { type: "object", required: ["sku"] } };
 * console.log(e.code);
 * ```
 */
export interface ErrorSpec {
  /** The code, e.g. `OUT_OF_STOCK`. */
  code: string;
  /** What it means. */
  description?: string;
  /** Whether the caller may retry (default false). */
  retryable?: boolean;
  /** JSON Schema the `details` must satisfy. */
  details_schema?: JsonSchema;
}

/**
 * The public description of an operation, as `services/schema` returns it.
 *
 * @example
 * ```ts
 * import type { OperationSpec } from "@alknet/call";
 * const spec: OperationSpec = {
 *   name: "demo/echo", type: "query", visibility: "external",
 *   input_schema: {}, output_schema: {}, errors: [], access: {},
 * };
 * console.log(spec.name);
 * ```
 */
export interface OperationSpec {
  /** `ns/op`. */
  name: string;
  /** Query, mutation or subscription. */
  type: OperationType;
  /** External (callable from the wire) or internal (composition only). */
  visibility: Visibility;
  /** JSON Schema 2020-12 for the input. */
  input_schema: JsonSchema;
  /** JSON Schema 2020-12 for the output (each item for subscriptions). */
  output_schema: JsonSchema;
  /** Declared error codes. */
  errors: ErrorSpec[];
  /** Access requirements. */
  access: AccessSpec;
  /** Human-readable description. */
  description?: string;
}

/**
 * A peer attached to an environment, as `services/list-peers` reports it.
 *
 * @example
 * ```ts
 * import type { PeerInfo } from "@alknet/call";
 * const p: PeerInfo = { id: "worker-1", operations: 4, open: true };
 * console.log(p.id);
 * ```
 */
export interface PeerInfo {
  /** The peer's id. */
  id: string;
  /** How many operations it contributes. */
  operations: number;
  /** Whether its connection is still open. */
  open: boolean;
  /** For a mesh head's workers: `live`, or `gone` (disconnected; kept for a while). */
  state?: "live" | "gone";
  /** For a mesh head's workers: the identity id the worker registered with. */
  identity?: string;
  /** For a mesh head's workers: when it registered (or left), ISO 8601. */
  since?: string;
}
