/**
 * A call's status and the table of transitions between statuses.
 *
 * @module
 */

/**
 * Where a call is: `pending` (requested, checks not passed yet), `running`
 * (its handler started), then one of the terminal statuses `completed`,
 * `failed` (with an error code) or `aborted`.
 *
 * @example
 * ```ts
 * import type { CallStatus } from "@alknet/flowgraph";
 * const s: CallStatus = "running";
 * ```
 */
export type CallStatus = "pending" | "running" | "completed" | "failed" | "aborted";

/**
 * The valid transitions. A call refused by a check (`NOT_FOUND`,
 * `FORBIDDEN`, `INVALID_INPUT`...) fails while pending; an abort can come
 * before or after the handler starts; terminal statuses are final.
 *
 * | from      | to                             |
 * |-----------|--------------------------------|
 * | pending   | running, failed, aborted       |
 * | running   | completed, failed, aborted     |
 * | completed | —                              |
 * | failed    | —                              |
 * | aborted   | —                              |
 *
 * @example
 * ```ts
 * import { CALL_TRANSITIONS } from "@alknet/flowgraph";
 * console.log(CALL_TRANSITIONS.pending); // ["running", "failed", "aborted"]
 * ```
 */
export const CALL_TRANSITIONS: Readonly<Record<CallStatus, readonly CallStatus[]>> = Object.freeze({
  pending: Object.freeze(["running", "failed", "aborted"] as const),
  running: Object.freeze(["completed", "failed", "aborted"] as const),
  completed: Object.freeze([] as const),
  failed: Object.freeze([] as const),
  aborted: Object.freeze([] as const),
});

/**
 * True when a call may go from `from` to `to`.
 *
 * @example
 * ```ts
 * import { canTransition } from "@alknet/flowgraph";
 * console.log(canTransition("pending", "running"), canTransition("completed", "running")); // true false
 * ```
 */
export function canTransition(from: CallStatus, to: CallStatus): boolean {
  return CALL_TRANSITIONS[from].includes(to);
}

/**
 * True for `completed`, `failed` and `aborted`.
 *
 * @example
 * ```ts
 * import { isTerminal } from "@alknet/flowgraph";
 * console.log(isTerminal("running"), isTerminal("aborted")); // false true
 * ```
 */
export function isTerminal(status: CallStatus): boolean {
  return status === "completed" || status === "failed" || status === "aborted";
}
