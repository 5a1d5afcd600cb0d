/**
 * `alknet call`, `alknet ops` and `alknet token`: talk to a node's call
 * protocol from the command line over `ws://`, `wss://`, `tls://` or
 * `ssh://` (the `alknet-control` channel).
 *
 * Exit codes: 0 success, 2 usage error, 3 the call answered `call.error`
 * (the error object is printed as JSON on stderr), 4 connection or
 * authentication failure.
 *
 * @example
 * ```sh
 * alknet token --identity ~/.ssh/id_alknet
 * alknet call ws://127.0.0.1:8080 node/ping '{"x":1}' --identity ~/.ssh/id_alknet
 * alknet call tls://node.example:443 node/ticks '{"count":3,"interval_ms":500}' --token "$TOKEN"
 * alknet ops ssh://node.example:22 --identity ~/.ssh/id_alknet --host-key-fingerprint SHA256:...
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { PrivateKey } from "@alknet/core";
import {
  CallConnection,
  CallError,
  connectCall,
  ConnectError,
  framedTransport,
  fromNodeDuplex,
  type OperationSummary,
} from "@alknet/call";

const EXIT_OK = 0;
const EXIT_USAGE = 2;
const EXIT_CALL_ERROR = 3;
const EXIT_CONNECT = 4;

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const CALL_USAGE = `usage: alknet call TARGET OP [JSON] [options]
       alknet ops TARGET [options]
       alknet token --identity KEY

TARGET is ws://HOST:PORT, wss://HOST:PORT, tls://HOST:PORT or ssh://HOST:PORT.
OP is an operation name such as node/ping; JSON is its input (default {}).

options:
  --vault KEYSTORE             use the vault's identity key (m/74'/0'/0'/0') instead of --identity
  --identity KEY               Ed25519 OpenSSH private key: mints a token (ws, wss, tls)
                               and authenticates the SSH session (ssh)
  --token TOKEN                use this token instead of minting one
  --host-key-fingerprint FP    pin the SSH host key (SHA256:...)
  --known-hosts PATH           known hosts file for ssh:// (default ~/.config/alknet/known_hosts)
  --ca FILE                    trust this CA certificate (PEM) for tls:// and wss://
  --insecure                   do not verify TLS certificates (testing only)
  --timeout MS                 call deadline in milliseconds (default 30000; none for subscriptions)

exit codes: 0 ok, 2 usage, 3 the call answered an error, 4 connection or authentication failure`;

interface Flags {
  identity?: string;
  vault?: string;
  token?: string;
  hostKeyFingerprint?: string;
  knownHosts?: string;
  ca?: string;
  insecure: boolean;
  timeout?: number;
  help: boolean;
  positionals: string[];
}

function parse(args: string[]): Flags {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        identity: { type: "string", short: "i" },
        vault: { type: "string" },
        token: { type: "string" },
        "host-key-fingerprint": { type: "string" },
        "known-hosts": { type: "string" },
        ca: { type: "string" },
        insecure: { type: "boolean", default: false },
        timeout: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
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
  return {
    identity: v.identity,
    vault: v.vault,
    token: v.token,
    hostKeyFingerprint: v["host-key-fingerprint"],
    knownHosts: v["known-hosts"],
    ca: v.ca,
    insecure: v.insecure ?? false,
    timeout,
    help: v.help ?? false,
    positionals: parsed.positionals,
  };
}

interface Target {
  scheme: "ws" | "wss" | "tls" | "ssh";
  host: string;
  port: number;
  url: URL;
}

function parseTarget(text: string): Target {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`TARGET must be a URL like ws://HOST:PORT, got '${text}'`);
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (scheme !== "ws" && scheme !== "wss" && scheme !== "tls" && scheme !== "ssh") {
    throw new UsageError(`unsupported TARGET scheme '${scheme}://' (use ws, wss, tls or ssh)`);
  }
  const defaults: Record<string, number> = { ws: 80, wss: 443, tls: 443, ssh: 22 };
  const port = url.port === "" ? defaults[scheme] : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new UsageError(`TARGET '${text}' has no host`);
  return { scheme, host, port, url };
}

/** The identity key: from the vault (`--vault`) or a key file (`--identity`). */
async function identityKey(flags: Flags): Promise<PrivateKey> {
  if (flags.vault !== undefined) {
    const { vaultKey } = await import("./vault_keys.ts");
    return await vaultKey(flags.vault, "identity");
  }
  const { readPrivateKeyFile } = await import("@alknet/core");
  try {
    return await readPrivateKeyFile(flags.identity!);
  } catch (e) {
    throw new UsageError(`cannot read identity ${flags.identity}: ${(e as Error).message}`);
  }
}

async function tokenFor(flags: Flags): Promise<string | undefined> {
  if (flags.token !== undefined) return flags.token;
  if (flags.identity === undefined && flags.vault === undefined) return undefined;
  const key = await identityKey(flags);
  if (!key.seed) throw new UsageError(`identity ${flags.identity} is not an Ed25519 key`);
  const { mintToken } = await import("@alknet/core");
  return mintToken(key.seed);
}

function configDir(): string {
  const xdg = Deno.env.get("XDG_CONFIG_HOME");
  return `${xdg ?? `${Deno.env.get("HOME") ?? "."}/.config`}/alknet`;
}

async function connect(target: Target, flags: Flags): Promise<CallConnection> {
  const caCerts = flags.ca ? [await readCa(flags.ca)] : undefined;
  if (target.scheme === "ssh") return await connectSsh(target, flags);
  const token = await tokenFor(flags);
  const url = new URL(target.url.toString());
  if (target.scheme !== "tls" && (url.pathname === "/" || url.pathname === "")) {
    url.pathname = "/alknet/call";
  }
  return await connectCall(url.toString(), { token, caCerts, insecure: flags.insecure });
}

async function readCa(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new UsageError(`cannot read --ca ${path}: ${(e as Error).message}`);
  }
}

async function connectSsh(target: Target, flags: Flags): Promise<CallConnection> {
  if (flags.identity === undefined && flags.vault === undefined) {
    throw new UsageError("ssh:// targets need --identity KEY or --vault KEYSTORE");
  }
  const core = await import("@alknet/core");
  const key = await identityKey(flags);
  const hostKey = flags.hostKeyFingerprint !== undefined
    ? { pinnedFingerprint: flags.hostKeyFingerprint }
    : { knownHostsPath: flags.knownHosts ?? `${configDir()}/known_hosts` };
  let session;
  try {
    session = await core.connectSsh({
      host: target.host,
      port: target.port,
      identity: key,
      hostKey,
    });
  } catch (e) {
    throw new ConnectError(`ssh://${target.host}:${target.port}`, (e as Error).message, {
      cause: e,
    });
  }
  let channel;
  try {
    channel = await session.openDirect("alknet-control", 0);
  } catch (e) {
    session.close();
    throw new ConnectError(`ssh://${target.host}:${target.port}`, (e as Error).message, {
      cause: e,
    });
  }
  const duplex = fromNodeDuplex(channel);
  return new CallConnection(
    framedTransport({
      ...duplex,
      close: () => {
        duplex.close?.();
        session.close();
      },
    }),
  );
}

function isConnectionFailure(e: unknown): boolean {
  if (e instanceof ConnectError) return true;
  if (e instanceof CallError) {
    if (e.code === "INTERNAL" && e.message === "connection closed") return true;
    const d = e.details as { authentication?: string } | undefined;
    if (e.code === "FORBIDDEN" && d?.authentication === "failed") return true;
  }
  return false;
}

function report(e: unknown, command: string): number {
  if (e instanceof UsageError) {
    console.error(`alknet ${command}: ${e.message}\n\n${CALL_USAGE}`);
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

async function withConnection(
  command: string,
  targetText: string,
  flags: Flags,
  run: (conn: CallConnection) => Promise<number>,
): Promise<number> {
  let conn: CallConnection | undefined;
  try {
    const target = parseTarget(targetText);
    conn = await connect(target, flags);
    return await run(conn);
  } catch (e) {
    return report(e, command);
  } finally {
    await conn?.close();
  }
}

async function writeLine(text: string): Promise<void> {
  const data = new TextEncoder().encode(text + "\n");
  let off = 0;
  while (off < data.length) off += await Deno.stdout.write(data.subarray(off));
}

/**
 * Runs `alknet call TARGET OP [JSON]`; resolves to the exit code. A
 * subscription prints one JSON line per item.
 *
 * @example
 * ```ts
 * import { callMain } from "./call.ts";
 * const code = await callMain(["--help"]);
 * console.log(code); // 0
 * ```
 */
export async function callMain(args: string[]): Promise<number> {
  let flags: Flags;
  let input: unknown = {};
  try {
    flags = parse(args);
    if (flags.help) {
      console.log(CALL_USAGE);
      return EXIT_OK;
    }
    const [target, op, json, ...extra] = flags.positionals;
    if (target === undefined || op === undefined) {
      throw new UsageError("TARGET and OP are required");
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (json !== undefined) {
      try {
        input = JSON.parse(json);
      } catch {
        throw new UsageError(`input is not valid JSON: ${json}`);
      }
    }
    parseTarget(target);
  } catch (e) {
    return report(e, "call");
  }
  const [target, op] = flags.positionals;
  const timeoutMs = flags.timeout;
  return await withConnection("call", target, flags, async (conn) => {
    const name = op.replace(/^\//, "");
    let type: string | undefined;
    try {
      const spec = await conn.call<{ type: string }>("services/schema", { name });
      type = spec.type;
    } catch (e) {
      if (isConnectionFailure(e)) throw e;
      // Unknown or hidden: let the call itself answer NOT_FOUND.
    }
    if (type === "subscription") {
      for await (const item of conn.subscribe(name, input, { timeoutMs })) {
        await writeLine(JSON.stringify(item));
      }
    } else {
      await writeLine(JSON.stringify(await conn.call(name, input, { timeoutMs })));
    }
    return EXIT_OK;
  });
}

/**
 * Runs `alknet ops TARGET`: lists the operations the node lets this caller
 * call, one per line (name, type, description).
 *
 * @example
 * ```ts
 * import { opsMain } from "./call.ts";
 * const code = await opsMain([]);
 * console.log(code); // 2: TARGET is required
 * ```
 */
export async function opsMain(args: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parse(args);
    if (flags.help) {
      console.log(CALL_USAGE);
      return EXIT_OK;
    }
    if (flags.positionals.length !== 1) throw new UsageError("ops takes exactly one TARGET");
    parseTarget(flags.positionals[0]);
  } catch (e) {
    return report(e, "ops");
  }
  return await withConnection("ops", flags.positionals[0], flags, async (conn) => {
    const { operations } = await conn.call<{ operations: OperationSummary[] }>("services/list", {});
    const width = Math.max(4, ...operations.map((o) => o.name.length));
    await writeLine(`${"NAME".padEnd(width)}  ${"TYPE".padEnd(12)}  DESCRIPTION`);
    for (const o of operations) {
      await writeLine(
        `${o.name.padEnd(width)}  ${o.type.padEnd(12)}  ${o.description ?? ""}`.trimEnd(),
      );
    }
    return EXIT_OK;
  });
}

/**
 * Runs `alknet token --identity KEY`: prints a fresh token (DESIGN 4.5),
 * valid for ±300 s.
 *
 * @example
 * ```ts
 * import { tokenMain } from "./call.ts";
 * const code = await tokenMain([]);
 * console.log(code); // 2: --identity is required
 * ```
 */
export async function tokenMain(args: string[]): Promise<number> {
  try {
    const flags = parse(args);
    if (flags.help) {
      console.log(
        "usage: alknet token --identity KEY\n\nPrints a fresh signed token for the call protocol.",
      );
      return EXIT_OK;
    }
    if (flags.identity === undefined && flags.vault === undefined) {
      throw new UsageError("--identity KEY or --vault KEYSTORE is required");
    }
    if (flags.positionals.length > 0) {
      throw new UsageError(`unexpected argument '${flags.positionals[0]}'`);
    }
    const token = await tokenFor({ ...flags, token: undefined });
    await writeLine(token!);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`alknet token: ${e.message}`);
      return EXIT_USAGE;
    }
    console.error(`alknet token: ${(e as Error).message}`);
    return EXIT_USAGE;
  }
}
