/**
 * Registers the node's built-in call operations (`node/info`, `node/ping`,
 * `node/ticks`, defined in `../ssh/node_operations.ts` so that
 * `@alknet/call` uses the same definitions) on `serve()`'s `calls`
 * registry for the node's lifetime.
 *
 * @module
 */

import type { CallService } from "./call_service.ts";
import type { NodeOperationDefinition } from "../ssh/node_operations.ts";

export { nodeOperations } from "../ssh/node_operations.ts";

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
