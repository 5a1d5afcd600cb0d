/**
 * `alknet config check FILE`: validate a configuration file (with the
 * `ALKNET_*` environment applied) and print the effective configuration with
 * secrets redacted. Exit 0 when valid, 2 when invalid or misused; errors go
 * to stderr as `file:line: key: problem`.
 *
 * @module
 */

import {
  buildDynamic,
  ConfigError,
  formatIssue,
  loadConfig,
  renderConfig,
} from "@alknet/core/config";

const USAGE = `usage: alknet config check FILE

  Validates FILE (TOML) with the ALKNET_* environment applied, reads the
  authorized_keys file it names, and prints the effective configuration
  (secrets redacted). Exit status: 0 valid, 2 invalid.`;

/**
 * Output sinks, replaceable for tests.
 */
export interface ConfigCliIo {
  /** Standard output (one call per block of text). */
  out(text: string): void;
  /** Standard error (one call per line). */
  err(text: string): void;
  /** Environment to apply (default: the process environment). */
  env?: Record<string, string | undefined>;
}

const defaultIo: ConfigCliIo = {
  out: (s) => console.log(s),
  err: (s) => console.error(s),
};

/**
 * Runs `alknet config`; resolves to the exit code.
 */
export async function main(args: string[], io: ConfigCliIo = defaultIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h" || sub === "help") {
    io.out(USAGE);
    return 0;
  }
  if (sub !== "check" || rest.length !== 1 || rest[0].startsWith("-")) {
    io.err(
      `alknet config: ${
        sub === undefined
          ? "missing subcommand"
          : sub !== "check"
          ? `unknown subcommand '${sub}'`
          : "expected exactly one FILE"
      }`,
    );
    io.err(USAGE);
    return 2;
  }
  const file = rest[0];
  try {
    const loadOpts = io.env ? { path: file, env: io.env } : { path: file };
    const { config } = await loadConfig(loadOpts);
    const warnings: string[] = [];
    await buildDynamic(config, { warn: (m) => warnings.push(m) });
    for (const w of warnings) io.err(`warning: ${w}`);
    io.out(`# effective configuration (${file}; flags > ALKNET_* env > file > defaults)`);
    io.out(renderConfig(config).trimEnd());
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const issue of e.issues) io.err(`error: ${formatIssue(issue)}`);
      io.err(
        `alknet config: ${file} is invalid (${e.issues.length} problem${
          e.issues.length === 1 ? "" : "s"
        })`,
      );
      return 2;
    }
    io.err(`alknet config: ${(e as Error)?.message ?? String(e)}`);
    return 2;
  }
}
