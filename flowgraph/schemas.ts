/**
 * JSON Schemas (2020-12) of what a node serves from this package, for the
 * `output_schema` of `flow/operations` and `flow/calls` when it registers
 * them.
 *
 * @module
 */

const callStatus = { enum: ["pending", "running", "completed", "failed", "aborted"] };

/**
 * One call event ({@link CallEventLike}).
 *
 * @example
 * ```ts
 * import { CALL_EVENT_SCHEMA } from "@alknet/flowgraph";
 * console.log(CALL_EVENT_SCHEMA.required); // ["type", "id", "operation", "at"]
 * ```
 */
export const CALL_EVENT_SCHEMA: { readonly [keyword: string]: unknown } = {
  type: "object",
  properties: {
    type: { enum: ["requested", "running", "completed", "failed", "aborted"] },
    id: { type: "string", minLength: 1 },
    parentId: { type: "string" },
    operation: { type: "string" },
    at: { type: "number" },
    code: { type: "string" },
  },
  required: ["type", "id", "operation", "at"],
};

/**
 * One call record ({@link CallRecord}).
 *
 * @example
 * ```ts
 * import { CALL_RECORD_SCHEMA } from "@alknet/flowgraph";
 * console.log(CALL_RECORD_SCHEMA.type); // "object"
 * ```
 */
export const CALL_RECORD_SCHEMA: { readonly [keyword: string]: unknown } = {
  type: "object",
  properties: {
    id: { type: "string", minLength: 1 },
    operation: { type: "string" },
    parentId: { type: "string" },
    status: callStatus,
    requestedAt: { type: "number" },
    runningAt: { type: "number" },
    endedAt: { type: "number" },
    code: { type: "string" },
  },
  required: ["id", "operation", "status", "requestedAt"],
};

/**
 * A call-graph snapshot ({@link CallGraphSnapshot}): the output of a
 * snapshot query.
 *
 * @example
 * ```ts
 * import { CALL_GRAPH_SNAPSHOT_SCHEMA } from "@alknet/flowgraph";
 * console.log(CALL_GRAPH_SNAPSHOT_SCHEMA.required); // ["at", "calls"]
 * ```
 */
export const CALL_GRAPH_SNAPSHOT_SCHEMA: { readonly [keyword: string]: unknown } = {
  type: "object",
  properties: {
    at: { type: "number" },
    calls: { type: "array", items: CALL_RECORD_SCHEMA },
  },
  required: ["at", "calls"],
};

/**
 * One item of the `flow/calls` subscription ({@link FlowCallsItem}).
 *
 * @example
 * ```ts
 * import { FLOW_CALLS_ITEM_SCHEMA } from "@alknet/flowgraph";
 * console.log(FLOW_CALLS_ITEM_SCHEMA.required); // ["kind"]
 * ```
 */
export const FLOW_CALLS_ITEM_SCHEMA: { readonly [keyword: string]: unknown } = {
  type: "object",
  properties: { kind: { enum: ["snapshot", "event"] } },
  required: ["kind"],
  oneOf: [
    {
      properties: { kind: { const: "snapshot" }, snapshot: CALL_GRAPH_SNAPSHOT_SCHEMA },
      required: ["snapshot"],
    },
    { properties: { kind: { const: "event" }, event: CALL_EVENT_SCHEMA }, required: ["event"] },
  ],
};

/**
 * The operation graph as JSON ({@link OperationGraphJSON}): the output of
 * `flow/operations`.
 *
 * @example
 * ```ts
 * import { OPERATION_GRAPH_SCHEMA } from "@alknet/flowgraph";
 * console.log(OPERATION_GRAPH_SCHEMA.required); // ["acyclic", "nodes", "edges"]
 * ```
 */
export const OPERATION_GRAPH_SCHEMA: { readonly [keyword: string]: unknown } = {
  type: "object",
  properties: {
    acyclic: { type: "boolean" },
    nodes: {
      type: "array",
      items: {
        type: "object",
        properties: {
          key: { type: "string" },
          attributes: {
            type: "object",
            properties: {
              name: { type: "string" },
              type: { enum: ["query", "mutation", "subscription"] },
              visibility: { enum: ["external", "internal"] },
              description: { type: "string" },
              peer: { type: "string" },
            },
            required: ["name"],
          },
        },
        required: ["key", "attributes"],
      },
    },
    edges: {
      type: "array",
      items: {
        type: "object",
        properties: {
          source: { type: "string" },
          target: { type: "string" },
          attributes: {
            type: "object",
            properties: {
              compatible: { type: "boolean" },
              fields: { type: "array", items: { type: "string" } },
              path: { type: "string" },
              reason: { type: "string" },
            },
            required: ["compatible", "fields"],
          },
        },
        required: ["source", "target", "attributes"],
      },
    },
  },
  required: ["acyclic", "nodes", "edges"],
};

/**
 * The input of `flow/calls`: whether to start with a snapshot.
 *
 * @example
 * ```ts
 * import { FLOW_CALLS_INPUT_SCHEMA } from "@alknet/flowgraph";
 * console.log(FLOW_CALLS_INPUT_SCHEMA.type); // ["object", "null"]
 * ```
 */
export const FLOW_CALLS_INPUT_SCHEMA: { readonly [keyword: string]: unknown } = {
  type: ["object", "null"],
  properties: { snapshot: { type: "boolean" } },
  additionalProperties: false,
};
