/**
 * Who may be a worker of a mesh head, and under which name: the scope
 * `mesh:worker`, worker name syntax, and the default name grant
 * ({@link defaultWorkerPolicy}).
 *
 * @module
 */

import { accessDenial, type Identity } from "./access.ts";

/**
 * The scope a worker's identity needs to register with a head
 * (`alknet-scopes="mesh:worker"` in `authorized_keys`).
 *
 * @example
 * ```ts
 * import { MESH_WORKER_SCOPE } from "@alknet/call";
 * console.log(MESH_WORKER_SCOPE); // "mesh:worker"
 * ```
 */
export const MESH_WORKER_SCOPE = "mesh:worker";

/** Names a worker cannot take: they route elsewhere at the head. */
const RESERVED = new Set(["any", "mesh", "services"]);

/**
 * Why `name` is not a valid worker name (one path segment of letters,
 * digits, `.`, `_`, `-`, at most 64 characters, not `any`, `mesh` or
 * `services`), or null when it is.
 *
 * @example
 * ```ts
 * import { workerNameProblem } from "@alknet/call";
 * console.log(workerNameProblem("w1"), workerNameProblem("a/b") !== null); // null true
 * ```
 */
export function workerNameProblem(name: unknown): string | null {
  if (typeof name !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    return "worker names are 1-64 letters, digits, '.', '_' or '-'";
  }
  if (RESERVED.has(name)) return `'${name}' is reserved`;
  return null;
}

/**
 * Decides whether `identity` may register as worker `name`: null to
 * allow, else the reason for refusing.
 *
 * @example
 * ```ts
 * import type { WorkerPolicy } from "@alknet/call";
 * const onlyW1: WorkerPolicy = (_identity, name) => name === "w1" ? null : "only w1 may register";
 * console.log(onlyW1(null, "w2")); // "only w1 may register"
 * ```
 */
export type WorkerPolicy = (identity: Identity | null, name: string) => string | null;

/**
 * The default {@link WorkerPolicy}. The identity needs the scope
 * `mesh:worker` (or `*`). The names it may claim:
 *
 * - `identity.resources["mesh:worker"]` when the identity has that list
 *   (a store peer's resources; `*` in it allows any name);
 * - else the names of scopes `mesh:worker:NAME` when it has any
 *   (`alknet-scopes="mesh:worker,mesh:worker:w1"` in `authorized_keys`);
 * - else any name.
 *
 * @example
 * ```ts
 * import { defaultWorkerPolicy } from "@alknet/call";
 * const w = { id: "SHA256:k", scopes: ["mesh:worker", "mesh:worker:w1"], resources: {} };
 * console.log(defaultWorkerPolicy(w, "w1"), defaultWorkerPolicy(w, "w2") !== null); // null true
 * const stranger = { id: "SHA256:s", scopes: ["relay:connect"], resources: {} };
 * console.log(defaultWorkerPolicy(stranger, "w1")); // requires all of the scopes [mesh:worker]; ...
 * ```
 */
export function defaultWorkerPolicy(identity: Identity | null, name: string): string | null {
  const denial = accessDenial({ scopes_all: [MESH_WORKER_SCOPE] }, identity);
  if (denial !== null) return denial;
  const listed = identity?.resources?.[MESH_WORKER_SCOPE];
  if (listed !== undefined && listed.length > 0) {
    return listed.includes(name) || listed.includes("*")
      ? null
      : `this identity may register as ${listed.join(", ")} only`;
  }
  const prefix = MESH_WORKER_SCOPE + ":";
  const named = (identity?.scopes ?? []).filter((s) => s.startsWith(prefix))
    .map((s) => s.slice(prefix.length));
  if (named.length > 0 && !named.includes(name) && !named.includes("*")) {
    return `this identity may register as ${named.join(", ")} only`;
  }
  return null;
}

/**
 * Output of `mesh/register`.
 *
 * @example
 * ```ts
 * import type { WorkerRegistration } from "@alknet/call";
 * const r: WorkerRegistration = { name: "w1", operations: 3 };
 * console.log(r.name);
 * ```
 */
export interface WorkerRegistration {
  /** The name the head serves the worker's operations under. */
  name: string;
  /** How many operations the head imported. */
  operations: number;
}
