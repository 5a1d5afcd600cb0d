/**
 * `alknet call`, `alknet ops` and `alknet token` (being built).
 *
 * @module
 */

function notYet(name: string): Promise<number> {
  console.error(`alknet ${name}: not implemented yet`);
  return Promise.resolve(2);
}

/** Runs `alknet call`; resolves to the exit code. */
export function callMain(_args: string[]): Promise<number> {
  return notYet("call");
}

/** Runs `alknet ops`; resolves to the exit code. */
export function opsMain(_args: string[]): Promise<number> {
  return notYet("ops");
}

/** Runs `alknet token`; resolves to the exit code. */
export function tokenMain(_args: string[]): Promise<number> {
  return notYet("token");
}
