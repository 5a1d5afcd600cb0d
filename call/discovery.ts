/**
 * Built-in discovery operations: `services/list`, `services/schema` and
 * `services/list-peers`. Registered by every `OperationRegistry` unless it
 * is created with `discovery: false`.
 *
 * @module
 */

import { accessDenial } from "./access.ts";
import { CallError } from "./errors.ts";
import { compileOperation } from "./operation_entry.ts";
import type { OperationDefinition, OperationEntry, OperationRouter } from "./router.ts";
import { SchemaCompiler } from "./schema.ts";
import type { OperationSpec, OperationType, PeerInfo } from "./spec.ts";

/**
 * Anything operations can be registered on (an `OperationRegistry`).
 *
 * @example
 * ```ts
 * import { OperationRegistry, type OperationRegistrar } from "@alknet/call";
 * const target: OperationRegistrar = new OperationRegistry({ discovery: false });
 * console.log(target.register({ name: "demo/x", type: "query", handler: () => 1 }).name);
 * ```
 */
export interface OperationRegistrar {
  /** Registers one operation and returns its spec. */
  register<I = unknown, O = unknown>(def: OperationDefinition<I, O>): OperationSpec;
}

/**
 * One line of `services/list`.
 *
 * @example
 * ```ts
 * import type { OperationSummary } from "@alknet/call";
 * const s: OperationSummary = { name: "node/ping", type: "query", description: "Returns its input" };
 * ```
 */
export interface OperationSummary {
  /** `ns/op`. */
  name: string;
  /** Query, mutation or subscription. */
  type: OperationType;
  /** Description, when the operation has one. */
  description?: string;
}

/**
 * Output of `services/list`.
 *
 * @example
 * ```ts
 * import type { ServiceList } from "@alknet/call";
 * const l: ServiceList = { operations: [{ name: "node/ping", type: "query" }] };
 * ```
 */
export interface ServiceList {
  /** External operations the caller may call, sorted by name. */
  operations: OperationSummary[];
}

/**
 * Output of `services/list-peers`.
 *
 * @example
 * ```ts
 * import type { PeerList } from "@alknet/call";
 * const p: PeerList = { peers: [{ id: "worker-1", operations: 3, open: true }] };
 * ```
 */
export interface PeerList {
  /** Peers in routing order. */
  peers: PeerInfo[];
}

/**
 * Registers the three discovery operations on `registry`.
 *
 * @example
 * ```ts
 * import { OperationRegistry } from "@alknet/call";
 * const reg = new OperationRegistry(); // discovery is registered by default
 * reg.register({ name: "demo/echo", type: "query", handler: (x) => x });
 * console.log(await reg.invoke("services/list", {}));
 * ```
 */
export function registerDiscovery(registry: OperationRegistrar): void {
  registry.register<unknown, ServiceList>({
    name: "services/list",
    type: "query",
    description: "External operations the caller may call",
    input_schema: { type: ["object", "null"] },
    output_schema: {
      type: "object",
      properties: { operations: { type: "array" } },
      required: ["operations"],
    },
    handler: (_input, ctx) => {
      const operations = ctx.env.list()
        .filter((s) => s.visibility === "external" && accessDenial(s.access, ctx.identity) === null)
        .map((s) => {
          const o: OperationSummary = { name: s.name, type: s.type };
          if (s.description !== undefined) o.description = s.description;
          return o;
        })
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return { operations };
    },
  });
  registry.register<{ name: string }, OperationSpec>({
    name: "services/schema",
    type: "query",
    description: "The full spec of one external operation",
    input_schema: {
      type: "object",
      properties: { name: { type: "string" } },
      required: ["name"],
    },
    output_schema: { type: "object" },
    handler: ({ name }, ctx) => {
      const spec = ctx.env.list().find((s) => s.name === name);
      if (spec === undefined || spec.visibility !== "external") {
        throw new CallError("NOT_FOUND", `no such operation: ${name}`);
      }
      return spec;
    },
  });
  registry.register<unknown, PeerList>({
    name: "services/list-peers",
    type: "query",
    description: "Peers whose operations this node routes to, in routing order",
    input_schema: { type: ["object", "null"] },
    output_schema: {
      type: "object",
      properties: { peers: { type: "array" } },
      required: ["peers"],
    },
    handler: (_input, ctx) => ({ peers: ctx.env.peers() }),
  });
}

let shared: OperationRouter | undefined;

/**
 * A router with only the discovery operations: what a connection made
 * without a `router` serves to its peer. One instance is shared (it holds
 * no state).
 */
export function discoveryRouter(): OperationRouter {
  if (shared) return shared;
  const schemas = new SchemaCompiler();
  const ops = new Map<string, OperationEntry>();
  registerDiscovery({
    register(def) {
      const entry = compileOperation(def, schemas);
      ops.set(entry.spec.name, entry);
      return entry.spec;
    },
  });
  return shared = {
    lookup: (name, peer) => (peer === undefined ? ops.get(name) : undefined),
    list: () => [...ops.values()],
    peers: () => [],
  };
}
