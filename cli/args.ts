/**
 * Small helpers shared by the CLI commands: strict flag parsing that reports
 * usage errors, the config directory, and error printing.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * A command line that cannot be understood; commands exit with code 2.
 */
export class UsageError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * `args` with the value of a string option that starts with a dash joined
 * to it (`--token -Ab…` → `--token=-Ab…`): `parseArgs` refuses such a value
 * as ambiguous, and a token or key id can start with `-` (base64url). A
 * value that is one of `options`' own short flags (`-L`) is left alone: a
 * forgotten value stays an error.
 */
export function attachDashValues(
  args: string[],
  options: NonNullable<ParseArgsConfig["options"]>,
): string[] {
  const shorts = new Set<string>();
  for (const o of Object.values(options)) if (o.short) shorts.add(`-${o.short}`);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    const opt = a.startsWith("--") ? options[a.slice(2)] : undefined;
    if (
      opt?.type === "string" && next !== undefined && next.startsWith("-") &&
      !next.startsWith("--") && !shorts.has(next)
    ) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/**
 * Parses `args` strictly against `options`; unknown flags and missing values
 * become {@link UsageError}s. A value starting with a dash is taken (see
 * {@link attachDashValues}).
 */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: T,
): ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
> {
  try {
    return parseArgs({
      args: attachDashValues(args, options),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, ""));
  }
}

/**
 * alknet's configuration directory: `$XDG_CONFIG_HOME/alknet`, else
 * `~/.config/alknet`.
 */
export function configDir(): string {
  const xdg = Deno.env.get("XDG_CONFIG_HOME");
  if (xdg) return `${xdg}/alknet`;
  return `${Deno.env.get("HOME") ?? "."}/.config/alknet`;
}

/**
 * alknet's data directory: `$XDG_DATA_HOME/alknet`, else
 * `~/.local/share/alknet`.
 */
export function dataDir(): string {
  const xdg = Deno.env.get("XDG_DATA_HOME");
  if (xdg) return `${xdg}/alknet`;
  return `${Deno.env.get("HOME") ?? "."}/.local/share/alknet`;
}

/**
 * The message of a library error that names an option (`OptionError` of
 * `@alknet/core`: `option` is set and the message starts with it), with the
 * option replaced by the command's flag from `flags`; other errors keep
 * their message.
 */
export function flagMessage(e: unknown, flags: Record<string, string>): string {
  const message = (e as Error)?.message ?? String(e);
  const option = (e as { option?: unknown })?.option;
  if (typeof option !== "string" || !(option in flags)) return message;
  return message.startsWith(`${option}: `)
    ? `${flags[option]}: ${message.slice(option.length + 2)}`
    : `${flags[option]}: ${message}`;
}

/**
 * Runs a command body and turns errors into an exit code: usage errors print
 * the usage and give 2, anything else prints one line and gives 1. Errors
 * naming a library option are reported with the flag from `flags`.
 */
export async function runCommand(
  name: string,
  usage: string,
  body: () => Promise<number>,
  flags: Record<string, string> = {},
): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`alknet ${name}: ${e.message}\n\n${usage}`);
      return 2;
    }
    console.error(`alknet ${name}: ${flagMessage(e, flags)}`);
    return 1;
  }
}

/**
 * Resolves at the first SIGINT or SIGTERM.
 */
export function waitForShutdownSignal(): Promise<void> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const handler = () => {
      for (const s of signals) Deno.removeSignalListener(s, handler);
      resolve();
    };
    for (const s of signals) Deno.addSignalListener(s, handler);
  });
}

/**
 * True when something exists at `path` (a dangling symlink counts).
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
