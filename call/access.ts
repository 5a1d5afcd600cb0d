/**
 * Access control for operations: scopes and resources of the
 * caller, or of a composing handler's declared authority, against an
 * operation's `access` requirements.
 *
 * @module
 */

/**
 * An authenticated caller: `{ id, scopes, resources }` (see `Identity`). The
 * same shape as `Identity` in `@alknet/core`, declared here so this package
 * stands alone; core's identities are accepted as they are.
 *
 * @example
 * ```ts
 * import type { Identity } from "@alknet/call";
 * const who: Identity = { id: "SHA256:abc", scopes: ["relay:connect"], resources: {} };
 * ```
 */
export interface Identity {
  /** Stable identifier: a key fingerprint, a peer id or an API key prefix. */
  id: string;
  /** Granted scopes. */
  scopes: string[];
  /** Resource names per resource type the scopes apply to. */
  resources: Record<string, string[]>;
}

/**
 * What an operation requires of its caller. Empty means anyone who reached
 * the node may call it.
 *
 * @example
 * ```ts
 * import type { AccessSpec } from "@alknet/call";
 * const access: AccessSpec = { scopes_any: ["admin", "ops"], resource_type: "vault", resource_action: "read" };
 * ```
 */
export interface AccessSpec {
  /** Every one of these scopes is required. */
  scopes_all?: string[];
  /** At least one of these scopes is required. */
  scopes_any?: string[];
  /** The caller needs resources of this type (`identity.resources[resource_type]`). */
  resource_type?: string;
  /** With `resource_type`: that list must name this action (or `*`). */
  resource_action?: string;
}

/**
 * Who is checked: an authenticated identity, or the authority a composing
 * handler declared at registration. Structurally compatible with
 * `Identity` from `@alknet/core`.
 *
 * @example
 * ```ts
 * import type { Principal } from "@alknet/call";
 * const authority: Principal = { scopes: ["vault:derive"] };
 * ```
 */
export interface Principal {
  /** Identity id (absent for an anonymous declared authority). */
  id?: string;
  /** Granted scopes; `*` grants every scope. */
  scopes: string[];
  /** Resource names per resource type. */
  resources?: Record<string, string[]>;
}

/**
 * Returns why `principal` may not call an operation with `access`, or null
 * when it may. A null principal (unauthenticated) passes only empty specs.
 *
 * @example
 * ```ts
 * import { accessDenial } from "@alknet/call";
 * const why = accessDenial({ scopes_all: ["admin"] }, { id: "me", scopes: ["user"] });
 * console.log(why); // "requires all of the scopes [admin]; missing [admin]"
 * ```
 */
export function accessDenial(access: AccessSpec, principal: Principal | null): string | null {
  const all = access.scopes_all ?? [];
  const any = access.scopes_any ?? [];
  const rtype = access.resource_type;
  if (all.length === 0 && any.length === 0 && rtype === undefined) return null;
  if (principal === null) return "requires an authenticated caller";
  const scopes = principal.scopes;
  const wildcard = scopes.includes("*");
  if (all.length > 0 && !wildcard) {
    const missing = all.filter((s) => !scopes.includes(s));
    if (missing.length > 0) {
      return `requires all of the scopes [${all.join(", ")}]; missing [${missing.join(", ")}]`;
    }
  }
  if (any.length > 0 && !wildcard && !any.some((s) => scopes.includes(s))) {
    return `requires one of the scopes [${any.join(", ")}]`;
  }
  if (rtype !== undefined) {
    const names = principal.resources?.[rtype] ?? [];
    const action = access.resource_action;
    if (action !== undefined) {
      if (!names.includes(action) && !names.includes("*")) {
        return `requires resource ${rtype}:${action}`;
      }
    } else if (names.length === 0) {
      return `requires a resource of type ${rtype}`;
    }
  }
  return null;
}
