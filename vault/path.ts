/**
 * Derivation paths (`m/44'/60'/0'/0/0`): a strict parser and a formatter.
 *
 * @module
 */

import { InvalidPath } from "./errors.ts";

/**
 * The hardened-index offset, 2^31.
 *
 * @example
 * ```ts
 * import { HARDENED_OFFSET } from "@alknet/vault";
 * console.log(HARDENED_OFFSET); // 2147483648
 * ```
 */
export const HARDENED_OFFSET = 0x80000000;

/**
 * Options of {@linkcode parsePath}.
 *
 * @example
 * ```ts
 * import { parsePath, type ParsePathOptions } from "@alknet/vault";
 * const ed25519: ParsePathOptions = { hardenedOnly: true };
 * console.log(parsePath("m/74'/0'/0'/0'", ed25519).length); // 4
 * ```
 */
export interface ParsePathOptions {
  /** Refuse unhardened indices (required for SLIP-0010 Ed25519). */
  hardenedOnly?: boolean;
}

const SEGMENT = /^(0|[1-9][0-9]*)(['h])?$/;

/**
 * Parses `m/…` into child indices (hardened ones carry the 2^31 offset).
 * Hardened segments end in `'` or `h`. Refused, with an `InvalidPath` saying
 * why: a missing `m`, empty segments, whitespace, non-decimal or zero-padded
 * numbers, indices ≥ 2^31 before hardening, and (with `hardenedOnly`)
 * unhardened indices.
 *
 * @example
 * ```ts
 * import { parsePath } from "@alknet/vault";
 * console.log(parsePath("m/74'/0h/1")); // [ 2147483722, 2147483648, 1 ]
 * ```
 */
export function parsePath(path: string, options: ParsePathOptions = {}): number[] {
  if (typeof path !== "string") throw new InvalidPath(String(path), "not a string");
  if (/\s/.test(path)) throw new InvalidPath(path, "contains whitespace");
  if (path === "") throw new InvalidPath(path, "empty; must start with 'm'");
  const parts = path.split("/");
  if (parts[0] !== "m") throw new InvalidPath(path, "must start with 'm'");
  const out: number[] = [];
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i];
    if (seg === "") throw new InvalidPath(path, `segment ${i} is empty`);
    const m = SEGMENT.exec(seg);
    if (!m) {
      throw new InvalidPath(
        path,
        `segment ${i} (${JSON.stringify(seg)}) is not a decimal index with optional ' or h`,
      );
    }
    if (m[1].length > 10 || Number(m[1]) >= HARDENED_OFFSET) {
      throw new InvalidPath(path, `segment ${i}: index must be below 2^31 before hardening`);
    }
    const hardened = m[2] !== undefined;
    if (!hardened && options.hardenedOnly) {
      throw new InvalidPath(
        path,
        `segment ${i} is not hardened; Ed25519 allows hardened indices only`,
      );
    }
    out.push(Number(m[1]) + (hardened ? HARDENED_OFFSET : 0));
  }
  return out;
}

/**
 * Formats child indices as a canonical path, hardened ones with `'`.
 *
 * @example
 * ```ts
 * import { formatPath, HARDENED_OFFSET } from "@alknet/vault";
 * console.log(formatPath([HARDENED_OFFSET + 74, 0])); // "m/74'/0"
 * ```
 */
export function formatPath(indices: readonly number[]): string {
  let out = "m";
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i > 0xffffffff) {
      throw new RangeError(`invalid child index ${i}`);
    }
    out += i >= HARDENED_OFFSET ? `/${i - HARDENED_OFFSET}'` : `/${i}`;
  }
  return out;
}

/**
 * The canonical form of a path (`h` becomes `'`), after validating it.
 *
 * @example
 * ```ts
 * import { canonicalPath } from "@alknet/vault";
 * console.log(canonicalPath("m/74h/0h")); // "m/74'/0'"
 * ```
 */
export function canonicalPath(path: string, options: ParsePathOptions = {}): string {
  return formatPath(parsePath(path, options));
}
