/**
 * placeholder
 * @module
 */
export * from "./errors.ts";
export * from "./graph.ts";
export type { FlowGraphJSON } from "./json.ts";
