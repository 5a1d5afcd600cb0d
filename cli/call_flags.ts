/**
 * The connection flags every command that talks to a node's call protocol
 * takes (`alknet call`, `ops`, `graph`): parsing, their mapping onto
 * `connectCall` options, and errors turned into exit codes.
 *
 * Exit codes: 0 success, 2 usage error, 3 the call answered `call.error`
 * (the error object is printed as JSON on stderr), 4 connection or
 * authentication failure.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import type { PrivateKey } from "@alknet/core/auth";
import {
  type CallConnection,
  CallError,
  connectCall,
  type ConnectCallOptions,
  ConnectError,
  ConnectionClosedError,
} from "@alknet/call";
import { attachDashValues, configDir, UsageError } from "./args.ts";

export { UsageError };

/** Exit code: success. */
export const EXIT_OK = 0;
/** Exit code: the command line is wrong. */
export const EXIT_USAGE = 2;
/** Exit code: the operation answered an error. */
export const EXIT_CALL_ERROR = 3;
/** Exit code: the node could not be reached or refused the login. */
export const EXIT_CONNECT = 4;

/**
 * The help lines of the connection flags.
 */
export const CONNECT_HELP: string =
  `  --vault KEYSTORE             use the vault's identity key (m/74'/0'/0'/0') instead of --identity
  --identity KEY               OpenSSH private key: logs in on ssh://, mints a token elsewhere
                               (Ed25519 keys)
  --token TOKEN                a token or API key to send instead of minting one (not ssh://)
  --host-key-fingerprint FP    ssh://: pin the host key (SHA256:...)
  --known-hosts PATH           ssh://: known hosts file (default ~/.config/alknet/known_hosts)
  --user NAME                  ssh://: user name (OpenSSH servers need a real one)
  --tls-fingerprint FP         tls://, quic://, wss://: pin the certificate (SHA256:<hex>)
  --ca FILE                    tls://, quic://, wss://: trust this CA certificate (PEM)
  --insecure                   do not verify TLS certificates (testing only)
  --proxy URL                  reach the node through socks5://HOST:PORT or http://HOST:PORT
  --timeout MS                 call deadline in milliseconds (default 30000; none for subscriptions)`;

/** The flag for each `connectCall` option, to name in messages. */
const FLAG_OF: Record<string, string> = {
  identity: "--identity",
  token: "--token",
  apiKey: "--token",
  hostKeyFingerprint: "--host-key-fingerprint",
  knownHosts: "--known-hosts",
  user: "--user",
  tlsFingerprint: "--tls-fingerprint",
  tlsCa: "--ca",
  insecure: "--insecure",
  proxy: "--proxy",
};

const CONNECT_FLAGS = {
  identity: { type: "string", short: "i" },
  vault: { type: "string" },
  token: { type: "string" },
  "host-key-fingerprint": { type: "string" },
  "known-hosts": { type: "string" },
  user: { type: "string" },
  "tls-fingerprint": { type: "string" },
  ca: { type: "string" },
  insecure: { type: "boolean", default: false },
  proxy: { type: "string" },
  timeout: { type: "string" },
  node: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/**
 * The parsed connection flags; `--node URL` is put in front of the
 * positionals (it stands for the TARGET positional).
 */
export interface ConnectFlags {
  /** `--identity`. */
  identity?: string;
  /** `--vault`. */
  vault?: string;
  /** `--token`. */
  token?: string;
  /** `--host-key-fingerprint`. */
  hostKeyFingerprint?: string;
  /** `--known-hosts`. */
  knownHosts?: string;
  /** `--user`. */
  user?: string;
  /** `--tls-fingerprint`. */
  tlsFingerprint?: string;
  /** `--ca`. */
  ca?: string;
  /** `--insecure`. */
  insecure: boolean;
  /** `--proxy`. */
  proxy?: string;
  /** `--timeout` in ms. */
  timeout?: number;
  /** `--help`. */
  help: boolean;
  /** The positionals (`--node URL` first when given). */
  positionals: string[];
}

/** Values of a command's own flags, besides the connection flags. */
export type ExtraValues = Record<string, string | boolean | undefined>;

/**
 * Parses the connection flags and `extra` (a command's own `parseArgs`
 * options, single-valued) strictly; unknown flags are {@link UsageError}s.
 */
export function parseConnectFlags(
  args: string[],
  extra: NonNullable<ParseArgsConfig["options"]> = {},
): { flags: ConnectFlags; values: ExtraValues } {
  let parsed;
  const options = { ...extra, ...CONNECT_FLAGS };
  try {
    parsed = parseArgs({
      args: attachDashValues(args, options),
      allowPositionals: true,
      strict: true,
      options,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values as ExtraValues;
  const str = (k: string) => v[k] as string | undefined;
  let timeout: number | undefined;
  if (v.timeout !== undefined) {
    timeout = Number(v.timeout);
    if (!Number.isInteger(timeout) || timeout <= 0) {
      throw new UsageError(`--timeout must be a positive integer`);
    }
  }
  if (v.identity !== undefined && v.vault !== undefined) {
    throw new UsageError("--identity and --vault cannot be used together");
  }
  const node = str("node");
  const flags: ConnectFlags = {
    identity: str("identity"),
    vault: str("vault"),
    token: str("token"),
    hostKeyFingerprint: str("host-key-fingerprint"),
    knownHosts: str("known-hosts"),
    user: str("user"),
    tlsFingerprint: str("tls-fingerprint"),
    ca: str("ca"),
    insecure: v.insecure === true,
    proxy: str("proxy"),
    timeout,
    help: v.help === true,
    positionals: node === undefined ? parsed.positionals : [node, ...parsed.positionals],
  };
  return { flags, values: v };
}

/**
 * The identity key: from the vault (`--vault`) or a key file (`--identity`).
 */
export async function identityKey(flags: ConnectFlags): Promise<PrivateKey | string | undefined> {
  if (flags.vault !== undefined) {
    const { vaultKey } = await import("./vault_keys.ts");
    return await vaultKey(flags.vault, "identity");
  }
  return flags.identity;
}

/**
 * `connectCall` options for the flags and the target's scheme.
 */
export async function connectOptions(
  target: string,
  flags: ConnectFlags,
): Promise<ConnectCallOptions> {
  const ssh = /^ssh:\/\//i.test(target);
  const options: ConnectCallOptions = {
    identity: await identityKey(flags),
    token: flags.token,
    tlsFingerprint: flags.tlsFingerprint,
    tlsCa: flags.ca,
    insecure: flags.insecure || undefined,
    proxy: flags.proxy,
    hostKeyFingerprint: flags.hostKeyFingerprint,
    knownHosts: flags.knownHosts,
    user: flags.user,
  };
  if (ssh && flags.hostKeyFingerprint === undefined && flags.knownHosts === undefined) {
    options.knownHosts = `${configDir()}/known_hosts`;
    options.onHostKeyTrusted = (message) => console.error(`alknet: ${message}`);
  }
  if (ssh && options.identity === undefined) {
    throw new UsageError("ssh:// targets need --identity KEY or --vault KEYSTORE");
  }
  return options;
}

/** True for failures to reach or authenticate to the node (exit 4). */
function isConnectionFailure(e: unknown): boolean {
  if (e instanceof ConnectError || e instanceof ConnectionClosedError) return true;
  if (e instanceof CallError && e.code === "FORBIDDEN") {
    const d = e.details as { authentication?: string } | undefined;
    return d?.authentication === "failed";
  }
  return false;
}

/**
 * Prints an error the way the call commands do and returns the exit code:
 * 2 for usage errors (with `usage`), 4 for connection and authentication
 * failures, 3 (the error as JSON on stderr) for errors the call answered.
 */
export function reportError(e: unknown, command: string, usage: string): number {
  if (e instanceof UsageError) {
    console.error(`alknet ${command}: ${e.message}\n\n${usage}`);
    return EXIT_USAGE;
  }
  if (e instanceof ConnectError && (e.code === "invalid-target" || e.code === "options")) {
    const what = e.option === undefined
      ? e.reason
      : `${FLAG_OF[e.option] ?? e.option}: ${e.reason}`;
    console.error(`alknet ${command}: ${e.target}: ${what}\n\n${usage}`);
    return EXIT_USAGE;
  }
  if (isConnectionFailure(e)) {
    console.error(`alknet ${command}: ${(e as Error).message}`);
    return EXIT_CONNECT;
  }
  if (e instanceof CallError) {
    console.error(JSON.stringify(e.toPayload()));
    return EXIT_CALL_ERROR;
  }
  console.error(`alknet ${command}: ${e instanceof Error ? e.message : String(e)}`);
  return EXIT_CONNECT;
}

/**
 * Connects with the flags, runs `run`, closes, and turns errors into exit
 * codes ({@link reportError}).
 */
export async function withConnection(
  command: string,
  usage: string,
  target: string,
  flags: ConnectFlags,
  run: (conn: CallConnection) => Promise<number>,
): Promise<number> {
  let conn: CallConnection | undefined;
  try {
    conn = await connectCall(target, await connectOptions(target, flags));
    return await run(conn);
  } catch (e) {
    return reportError(e, command, usage);
  } finally {
    await conn?.close();
  }
}

/**
 * Writes one line to stdout, all of it.
 */
export async function writeLine(text: string): Promise<void> {
  const data = new TextEncoder().encode(text + "\n");
  let off = 0;
  while (off < data.length) off += await Deno.stdout.write(data.subarray(off));
}
