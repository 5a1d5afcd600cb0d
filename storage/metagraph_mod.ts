/**
 * `@alknet/storage/metagraph`: the metagraph's schema validation and type
 * definition helpers, for tools that validate attributes outside a store.
 *
 * @example
 * ```ts
 * import { SchemaCache, validateAttributes } from "@alknet/storage/metagraph";
 * const cache = new SchemaCache();
 * const check = cache.validator({ type: "object", required: ["name"] });
 * try {
 *   validateAttributes(check, "node 'a'", {});
 * } catch (e) {
 *   console.log((e as Error).message); // "node 'a': /name is required"
 * }
 * ```
 *
 * @module
 */

export {
  type AttributeValidator,
  type JsonSchema,
  SchemaCache,
  schemaText,
  validateAttributes,
} from "./metagraph_schema.ts";
export {
  allows,
  type EdgeTypeDefinition,
  type GraphType,
  type GraphTypeDefinition,
  type NodeTypeDefinition,
} from "./metagraph_types.ts";
