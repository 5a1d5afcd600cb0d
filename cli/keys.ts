/**
 * `alknet keygen` and `alknet fingerprint`.
 *
 * @module
 */

import { fingerprintOfKeyFile, generateEd25519Key } from "@alknet/core/auth";
import { parseFlags, pathExists, runCommand, UsageError } from "./args.ts";

const KEYGEN_USAGE = `usage: alknet keygen -f PATH [--force] [--comment TEXT]

Writes an Ed25519 key in OpenSSH format to PATH (mode 0600) and PATH.pub,
and prints its SHA256 fingerprint.`;

const FINGERPRINT_USAGE = `usage: alknet fingerprint PATH

Prints the SHA256 fingerprint of a public (.pub) or private key file.`;

/**
 * Runs `alknet keygen`; resolves to the exit code.
 */
export function keygen(args: string[]): Promise<number> {
  return runCommand("keygen", KEYGEN_USAGE, async () => {
    const { values, positionals } = parseFlags(args, {
      file: { type: "string", short: "f" },
      force: { type: "boolean" },
      comment: { type: "string", short: "C" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      console.log(KEYGEN_USAGE);
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const path = values.file;
    if (!path) throw new UsageError("-f PATH is required");
    if (!values.force) {
      for (const p of [path, `${path}.pub`]) {
        if (await pathExists(p)) throw new Error(`${p} already exists (use --force to overwrite)`);
      }
    }
    const comment = values.comment ?? `alknet@${Deno.hostname()}`;
    const key = generateEd25519Key(comment);
    await Deno.writeTextFile(path, key.privateText, { mode: 0o600 });
    await Deno.chmod(path, 0o600);
    await Deno.writeTextFile(`${path}.pub`, key.publicLine + "\n", { mode: 0o644 });
    console.log(`Wrote ${path} and ${path}.pub`);
    console.log(key.fingerprint);
    return 0;
  });
}

/**
 * Runs `alknet fingerprint`; resolves to the exit code.
 */
export function fingerprint(args: string[]): Promise<number> {
  return runCommand("fingerprint", FINGERPRINT_USAGE, async () => {
    const { values, positionals } = parseFlags(args, { help: { type: "boolean", short: "h" } });
    if (values.help) {
      console.log(FINGERPRINT_USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError("expected exactly one key file");
    console.log(await fingerprintOfKeyFile(positionals[0]));
    return 0;
  });
}
