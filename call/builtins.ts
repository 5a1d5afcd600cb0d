/**
 * Built-in node operations: `node/info`, `node/ping` and `node/ticks`, as
 * core defines them (`nodeOperations` of `@alknet/core/ssh`, which
 * `serve()` registers too), on a call registry.
 *
 * @module
 */

import { type NodeInfo, nodeOperations } from "@alknet/core/ssh";
import type { OperationRegistrar } from "./discovery.ts";

export type { NodeInfo };

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
  /** Listener URLs (`tls://0.0.0.0:443`, ...), read at each `node/info`. */
  listeners?: string[];
  /** When the node started (default: now). */
  startedAt?: Date;
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
  const { version, fingerprint, startedAt } = options;
  const listeners = () => options.listeners ?? [];
  for (const op of nodeOperations({ version, fingerprint, listeners, startedAt })) {
    registry.register(op);
  }
}
