/**
 * The node's built-in call operations, defined structurally (core does not
 * import `@alknet/call`): `node/info`, `node/ping` and `node/ticks`.
 * `serve()` registers them on its `calls` registry for the node's lifetime.
 *
 * @module
 */

import type { CallService, NodeOperationDefinition } from "./call_service.ts";

/**
 * What `node/info` reports.
 */
export interface NodeInfoSource {
  /** Software version. */
  version: string;
  /** The host key's `SHA256:` fingerprint. */
  fingerprint: string;
  /** The node's listener URLs (read at each call). */
  listeners: () => string[];
  /** When the node started (default: now). */
  startedAt?: Date;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The built-in operations: `node/info` (version, uptime, host key
 * fingerprint, listeners), `node/ping` (returns its input) and `node/ticks`
 * (a subscription yielding `{n}` `count` times, `interval_ms` apart).
 */
export function nodeOperations(info: NodeInfoSource): NodeOperationDefinition[] {
  const started = (info.startedAt ?? new Date()).getTime();
  return [
    {
      name: "node/info",
      type: "query",
      description: "Version, uptime, identity fingerprint and listeners of this node",
      input_schema: { type: ["object", "null"] },
      output_schema: {
        type: "object",
        properties: {
          version: { type: "string" },
          uptime_s: { type: "number" },
          fingerprint: { type: ["string", "null"] },
          listeners: { type: "array", items: { type: "string" } },
        },
        required: ["version", "uptime_s", "fingerprint", "listeners"],
      },
      handler: () => ({
        version: info.version,
        uptime_s: Math.floor((Date.now() - started) / 1000),
        fingerprint: info.fingerprint,
        listeners: [...info.listeners()],
      }),
    },
    {
      name: "node/ping",
      type: "query",
      description: "Returns its input",
      handler: (input) => input,
    },
    {
      name: "node/ticks",
      type: "subscription",
      description: "Emits {n} count times, interval_ms apart",
      input_schema: {
        type: "object",
        properties: {
          count: { type: "integer", minimum: 0, maximum: 1_000_000 },
          interval_ms: { type: "integer", minimum: 0, maximum: 3_600_000 },
        },
        required: ["count"],
        additionalProperties: false,
      },
      output_schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
      subscribe: async function* (input, ctx) {
        const { count, interval_ms = 0 } = input as { count: number; interval_ms?: number };
        for (let n = 1; n <= count; n++) {
          if (n > 1 && interval_ms > 0) await sleep(interval_ms, ctx.signal);
          if (ctx.signal.aborted) throw ctx.signal.reason;
          yield { n };
        }
      },
    },
  ];
}

/**
 * Registers the built-in operations on `calls` (when it can register),
 * skipping names already taken; returns a function that removes the ones it
 * added.
 */
export function registerNodeOperationsOn(
  calls: CallService,
  operations: NodeOperationDefinition[],
): () => void {
  if (typeof calls.register !== "function") return () => {};
  const added: string[] = [];
  for (const op of operations) {
    if (calls.spec?.(op.name) !== undefined) continue;
    calls.register(op);
    added.push(op.name);
  }
  return () => {
    for (const name of added) calls.unregister?.(name);
  };
}
