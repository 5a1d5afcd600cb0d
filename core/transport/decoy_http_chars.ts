/**
 * The byte classes of the stealth decoy's HTTP/1.x request parser
 * (`decoy_http.ts`), shared by its request-line and header-line scanners.
 *
 * @module
 */

/** Carriage return. */
export const CR = 13;
/** Line feed. */
export const LF = 10;
/** Space. */
export const SP = 32;

/** `A`-`Z` or `a`-`z`. */
export function isAlpha(c: number): boolean {
  const l = c | 0x20;
  return l >= 97 && l <= 122;
}

/** `0`-`9`. */
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** A control byte or space (as nginx's parser counts them). */
export function isCtl(c: number): boolean {
  return c <= 0x20 || c === 0x7f;
}
