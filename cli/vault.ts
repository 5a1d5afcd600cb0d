/**
 * `alknet vault` (being built).
 *
 * @module
 */

/** Runs `alknet vault`; resolves to the exit code. */
export function main(_args: string[]): Promise<number> {
  console.error("alknet vault: not implemented yet");
  return Promise.resolve(2);
}
