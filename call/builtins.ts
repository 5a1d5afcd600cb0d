/**
 * Built-in node operations: `node/info`, `node/ping` and `node/ticks`.
 *
 * @module
 */

import { CallError } from "./errors.ts";
import type { OperationRegistrar } from "./discovery.ts";

/**
 * Options of {@link registerNodeOperations}.
 *
 * @example
 * ```ts
 * import type { NodeInfoOptions } from "@alknet/call";
 * const opts: NodeInfoOptions = { version: "0.1.0", fingerprint: "SHA256:abc", listeners: ["tls://0.0.0.0:443"] };
 * ```
 */
export interface NodeInfoOptions {
  /** Software version, e.g. `"0.1.0"`. */
  version: string;
  /** The node identity's `SHA256:` fingerprint, when it has one. */
  fingerprint?: string;
  /** Listener URLs (`tls://0.0.0.0:443`, ...). */
  listeners?: string[];
  /** When the node started (default: now). */
  startedAt?: Date;
}

/**
 * Output of `node/info`.
 *
 * @example
 * ```ts
 * import type { NodeInfo } from "@alknet/call";
 * const info: NodeInfo = { version: "0.1.0", uptime_s: 12, fingerprint: null, listeners: [] };
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
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
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
 * Registers `node/info` (query), `node/ping` (query: returns its input) and
 * `node/ticks` (subscription: `{count, interval_ms}` → `{n}` count times).
 *
 * @example
 * ```ts
 * import { OperationRegistry, registerNodeOperations } from "@alknet/call";
 * const reg = new OperationRegistry();
 * registerNodeOperations(reg, { version: "0.1.0", listeners: ["tls://127.0.0.1:8443"] });
 * console.log(await reg.invoke("node/ping", { x: 1 })); // { x: 1 }
 * for await (const t of reg.subscribe("node/ticks", { count: 2, interval_ms: 1 })) console.log(t);
 * ```
 */
export function registerNodeOperations(
  registry: OperationRegistrar,
  options: NodeInfoOptions,
): void {
  const started = (options.startedAt ?? new Date()).getTime();
  registry.register<unknown, NodeInfo>({
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
      version: options.version,
      uptime_s: Math.floor((Date.now() - started) / 1000),
      fingerprint: options.fingerprint ?? null,
      listeners: [...(options.listeners ?? [])],
    }),
  });
  registry.register({
    name: "node/ping",
    type: "query",
    description: "Returns its input",
    handler: (input) => input,
  });
  registry.register<{ count: number; interval_ms?: number }, { n: number }>({
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
    subscribe: async function* ({ count, interval_ms = 0 }, ctx) {
      for (let n = 1; n <= count; n++) {
        if (n > 1 && interval_ms > 0) await sleep(interval_ms, ctx.signal);
        if (ctx.signal.aborted) throw ctx.signal.reason ?? new CallError("INTERNAL", "aborted");
        yield { n };
      }
    },
  });
}
