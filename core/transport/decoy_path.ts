/**
 * The path of a request to the stealth decoy, decoded and normalised as
 * nginx 1.22 does it.
 *
 * @module
 */

/**
 * Decodes and normalises a request path as nginx does: `%XX` decoded (a bad
 * escape or `%00` is an error), slashes merged, `.` and `..` segments
 * resolved (climbing above the root is an error), `#` ends the path.
 * Returns `null` for a path nginx refuses with 400.
 *
 * @example
 * ```ts
 * import { normalizeDecoyPath } from "@alknet/core/transport";
 * console.log(normalizeDecoyPath("//a/./b/../%69ndex.html")); // "/a/index.html"
 * console.log(normalizeDecoyPath("/../x")); // null
 * ```
 */
export function normalizeDecoyPath(raw: string): string | null {
  const hash = raw.indexOf("#");
  const text = hash >= 0 ? raw.slice(0, hash) : raw;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x25) {
      bytes.push(c & 0xff);
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
    const v = parseInt(hex, 16);
    if (v === 0) return null;
    bytes.push(v);
    i += 2;
  }
  const segments: string[] = [];
  const parts = String.fromCharCode(...bytes).split("/");
  const trailing = parts.length > 1 && (parts.at(-1) === "" || parts.at(-1) === "." ||
    parts.at(-1) === "..");
  for (const seg of parts.slice(1)) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (segments.length === 0) return null;
      segments.pop();
      continue;
    }
    segments.push(seg);
  }
  const path = "/" + segments.join("/");
  return trailing && segments.length > 0 ? path + "/" : path;
}
