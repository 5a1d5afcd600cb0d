/**
 * `alknet config` (being built).
 *
 * @module
 */

/** Runs `alknet config`; resolves to the exit code. */
export function main(_args: string[]): Promise<number> {
  console.error("alknet config: not implemented yet");
  return Promise.resolve(2);
}
