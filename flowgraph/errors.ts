/**
 * The one error class of `@alknet/flowgraph`, with a machine-readable `code`.
 *
 * @module
 */

/**
 * What went wrong. Branch on this, never on the message text.
 *
 * - `NODE_EXISTS`, `NODE_NOT_FOUND`, `EDGE_EXISTS`, `EDGE_NOT_FOUND`: graph edits.
 * - `SELF_LOOP`: an edge from a node to itself (never allowed).
 * - `CYCLE`: an edge that would close a cycle in an acyclic graph, or a
 *   topological order asked of a cyclic graph; `cycle` names it.
 * - `INVALID_JSON`: a graph or snapshot in JSON form is malformed.
 * - `INVALID_SPEC`, `DUPLICATE_OPERATION`: operation specs.
 * - `INVALID_EVENT`, `UNKNOWN_CALL`, `DUPLICATE_CALL`, `INVALID_TRANSITION`: call events.
 * - `OVERFLOW`: a watcher fell too far behind the events.
 * - `INVALID_OPTION`: an option out of range.
 * - `RENDER_FAILED`: Graphviz could not render the DOT text.
 *
 * @example
 * ```ts
 * import type { FlowgraphErrorCode } from "@alknet/flowgraph";
 * const code: FlowgraphErrorCode = "CYCLE";
 * ```
 */
export type FlowgraphErrorCode =
  | "NODE_EXISTS"
  | "NODE_NOT_FOUND"
  | "EDGE_EXISTS"
  | "EDGE_NOT_FOUND"
  | "SELF_LOOP"
  | "CYCLE"
  | "INVALID_JSON"
  | "INVALID_SPEC"
  | "DUPLICATE_OPERATION"
  | "INVALID_EVENT"
  | "UNKNOWN_CALL"
  | "DUPLICATE_CALL"
  | "INVALID_TRANSITION"
  | "OVERFLOW"
  | "INVALID_OPTION"
  | "RENDER_FAILED";

/**
 * Extra, structured facts about a {@link FlowgraphError}.
 *
 * @example
 * ```ts
 * import type { FlowgraphErrorDetails } from "@alknet/flowgraph";
 * const d: FlowgraphErrorDetails = { cycle: ["a", "b", "a"] };
 * ```
 */
export interface FlowgraphErrorDetails {
  /** For `CYCLE`: the nodes of the cycle in order, the first repeated at the end. */
  cycle?: readonly string[];
  /** The node key or call id the error is about. */
  key?: string;
  /** What caused it (another error). */
  cause?: unknown;
}

/**
 * The error every function of this package throws for a refused request.
 *
 * @example
 * ```ts
 * import { FlowGraph, FlowgraphError } from "@alknet/flowgraph";
 * const g = new FlowGraph({ acyclic: true });
 * g.addNode("a", {});
 * g.addNode("b", {});
 * g.addEdge("a", "b", {});
 * try {
 *   g.addEdge("b", "a", {});
 * } catch (e) {
 *   if (e instanceof FlowgraphError && e.code === "CYCLE") console.log(e.cycle); // ["b", "a", "b"]
 * }
 * ```
 */
export class FlowgraphError extends Error {
  /** What went wrong. */
  readonly code: FlowgraphErrorCode;
  /** For `CYCLE`: the cycle, first node repeated at the end. */
  readonly cycle?: readonly string[];
  /** The node key or call id concerned. */
  readonly key?: string;

  /** An error with a code, a message and optional details. */
  constructor(code: FlowgraphErrorCode, message: string, details: FlowgraphErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "FlowgraphError";
    this.code = code;
    if (details.cycle !== undefined) this.cycle = details.cycle;
    if (details.key !== undefined) this.key = details.key;
  }
}
