/**
 * The built-in call operations every alknet node answers on its call
 * channel (`alknet-control` and the call carriers): `node/info`,
 * `node/ping` and `node/ticks`, defined structurally (core does not import
 * `@alknet/call`). `serve()` registers them on its `calls` registry;
 * `@alknet/call`'s `registerNodeOperations` registers the same definitions
 * on an `OperationRegistry`. They live in the SSH layer, the highest layer
 * of core that `@alknet/call` may import.
 *
 * @module
 */

/**
 * A call operation as core defines it (the node's built-ins `node/info`,
 * `node/ping`, `node/ticks`): the structural subset of `@alknet/call`'s
 * `OperationDefinition` that core needs.
 *
 * @example
 * ```ts
 * import type { NodeOperationDefinition } from "@alknet/core";
 * const echo: NodeOperationDefinition = {
 *   name: "demo/echo", type: "query", description: "Returns its input", handler: (x) => x,
 * };
 * console.log(echo.name); // "demo/echo"
 * ```
 */
export interface NodeOperationDefinition {
  /** `ns/op`. */
  name: string;
  /** `query` or `subscription`. */
  type: "query" | "subscription";
  /** Human-readable description. */
  description: string;
  /** JSON Schema of the input. */
  input_schema?: { [key: string]: unknown };
  /** JSON Schema of the output. */
  output_schema?: { [key: string]: unknown };
  /** Handler of a query. */
  handler?: (input: unknown, ctx: { signal: AbortSignal }) => unknown;
  /** Handler of a subscription. */
  subscribe?: (input: unknown, ctx: { signal: AbortSignal }) => AsyncIterable<unknown>;
}

/**
 * What `node/info` reports.
 *
 * @example
 * ```ts
 * import type { NodeInfoSource } from "@alknet/core/ssh";
 * const src: NodeInfoSource = { version: "0.1.0", listeners: () => ["tls://0.0.0.0:443"] };
 * console.log(src.listeners?.()); // ["tls://0.0.0.0:443"]
 * ```
 */
export interface NodeInfoSource {
  /** Software version, e.g. `"0.1.0"`. */
  version: string;
  /** The node identity's `SHA256:` fingerprint, when it has one (else `null` is reported). */
  fingerprint?: string;
  /** The node's listener URLs, read at each call (default: none). */
  listeners?: () => readonly string[];
  /** When the node started (default: now). */
  startedAt?: Date;
}

/**
 * Output of `node/info`.
 *
 * @example
 * ```ts
 * import type { NodeInfo } from "@alknet/core/ssh";
 * const info: NodeInfo = { version: "0.1.0", uptime_s: 12, fingerprint: null, listeners: [] };
 * console.log(info.uptime_s); // 12
 * ```
 */
export interface NodeInfo {
  /** Software version. */
  version: string;
  /** Seconds since the node started. */
  uptime_s: number;
  /** Node identity fingerprint, or null. */
  fingerprint: string | null;
  /** Listener URLs. */
  listeners: string[];
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
 * The built-in operations: `node/info` (query: version, uptime, identity
 * fingerprint, listeners), `node/ping` (query: returns its input) and
 * `node/ticks` (subscription: `{count, interval_ms}` → `{n}` `count` times,
 * `interval_ms` apart; an abort ends it at once with the signal's reason).
 *
 * @example
 * ```ts
 * import { nodeOperations } from "@alknet/core/ssh";
 * const ops = nodeOperations({ version: "0.1.0", listeners: () => ["tcp://127.0.0.1:2222"] });
 * console.log(ops.map((o) => o.name)); // ["node/info", "node/ping", "node/ticks"]
 * const info = ops[0].handler!(null, { signal: new AbortController().signal });
 * console.log(info); // { version: "0.1.0", uptime_s: 0, fingerprint: null, listeners: ["tcp://127.0.0.1:2222"] }
 * ```
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
      handler: (): NodeInfo => ({
        version: info.version,
        uptime_s: Math.floor((Date.now() - started) / 1000),
        fingerprint: info.fingerprint ?? null,
        listeners: [...(info.listeners?.() ?? [])],
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
