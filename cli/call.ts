/**
 * `alknet call`, `alknet ops` and `alknet token`: talk to a node's call
 * protocol from the command line over any carrier `connectCall` takes
 * (`ssh://`, `tcp://`, `tls://`, `quic://`, `ws://`, `wss://`, `iroh://`).
 * This file only turns flags into `connectCall` options and errors into
 * exit codes.
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
import type { PrivateKey } from "@alknet/core/auth";
import {
  type CallConnection,
  CallError,
  connectCall,
  type ConnectCallOptions,
  ConnectError,
  ConnectionClosedError,
  type OperationSummary,
  type PeerInfo,
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
       alknet call --node TARGET OP [JSON] [options]
       alknet ops TARGET [options]       (or --node TARGET)
       alknet token --identity KEY

TARGET is ssh://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, quic://HOST:PORT,
ws://HOST:PORT, wss://HOST:PORT or iroh://NODEID[@HOST:PORT][?relay=off].
OP is an operation name such as node/ping; JSON is its input (default {}). On a mesh head,
w1/node/info calls worker w1's node/info and any/node/info any worker offering it;
alknet ops lists the head's and its workers' operations, then the workers.

options:
  --vault KEYSTORE             use the vault's identity key (m/74'/0'/0'/0') instead of --identity
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
  --timeout MS                 call deadline in milliseconds (default 30000; none for subscriptions)

exit codes: 0 ok, 2 usage, 3 the call answered an error, 4 connection or authentication failure`;

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

interface Flags {
  identity?: string;
  vault?: string;
  token?: string;
  hostKeyFingerprint?: string;
  knownHosts?: string;
  user?: string;
  tlsFingerprint?: string;
  ca?: string;
  insecure: boolean;
  proxy?: string;
  timeout?: number;
  help: boolean;
  positionals: string[];
}

/** `--node URL` stands for the TARGET positional. */
function withNode(flags: Flags, node: string | undefined): Flags {
  if (node === undefined) return flags;
  return { ...flags, positionals: [node, ...flags.positionals] };
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
        user: { type: "string" },
        "tls-fingerprint": { type: "string" },
        ca: { type: "string" },
        insecure: { type: "boolean", default: false },
        proxy: { type: "string" },
        timeout: { type: "string" },
        node: { type: "string" },
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
  return withNode({
    identity: v.identity,
    vault: v.vault,
    token: v.token,
    hostKeyFingerprint: v["host-key-fingerprint"],
    knownHosts: v["known-hosts"],
    user: v.user,
    tlsFingerprint: v["tls-fingerprint"],
    ca: v.ca,
    insecure: v.insecure ?? false,
    proxy: v.proxy,
    timeout,
    help: v.help ?? false,
    positionals: parsed.positionals,
  }, v.node);
}

/** The identity key: from the vault (`--vault`) or a key file (`--identity`). */
async function identityKey(flags: Flags): Promise<PrivateKey | string | undefined> {
  if (flags.vault !== undefined) {
    const { vaultKey } = await import("./vault_keys.ts");
    return await vaultKey(flags.vault, "identity");
  }
  return flags.identity;
}

function configDir(): string {
  const xdg = Deno.env.get("XDG_CONFIG_HOME");
  return `${xdg ?? `${Deno.env.get("HOME") ?? "."}/.config`}/alknet`;
}

/** `connectCall` options for the flags and the target's scheme. */
async function connectOptions(target: string, flags: Flags): Promise<ConnectCallOptions> {
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

function report(e: unknown, command: string): number {
  if (e instanceof UsageError) {
    console.error(`alknet ${command}: ${e.message}\n\n${CALL_USAGE}`);
    return EXIT_USAGE;
  }
  if (e instanceof ConnectError && (e.code === "invalid-target" || e.code === "options")) {
    const what = e.option === undefined
      ? e.reason
      : `${FLAG_OF[e.option] ?? e.option}: ${e.reason}`;
    console.error(`alknet ${command}: ${e.target}: ${what}\n\n${CALL_USAGE}`);
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
  target: string,
  flags: Flags,
  run: (conn: CallConnection) => Promise<number>,
): Promise<number> {
  let conn: CallConnection | undefined;
  try {
    conn = await connectCall(target, await connectOptions(target, flags));
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
  } catch (e) {
    return report(e, "call");
  }
  const [target, op] = flags.positionals;
  const timeoutMs = flags.timeout;
  return await withConnection("call", target, flags, async (conn) => {
    const name = op.replace(/^\//, "");
    try {
      await writeLine(JSON.stringify(await conn.call(name, input, { timeoutMs })));
    } catch (e) {
      // A subscription answers INVALID_OPERATION_TYPE to a call (before running): stream it.
      if (!(e instanceof CallError) || e.code !== "INVALID_OPERATION_TYPE") throw e;
      for await (const item of conn.subscribe(name, input, { timeoutMs })) {
        await writeLine(JSON.stringify(item));
      }
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
    // A mesh head also lists its workers (a node that has none prints nothing more).
    const peers = await conn.call<{ peers: PeerInfo[] }>("services/list-peers", {})
      .then((r) => r.peers, () => [] as PeerInfo[]);
    if (peers.length > 0) {
      const w = Math.max(6, ...peers.map((p) => p.id.length));
      await writeLine("");
      await writeLine(
        `${"WORKER".padEnd(w)}  ${"STATE".padEnd(5)}  OPS  SINCE                     ID`,
      );
      for (const p of peers) {
        const state = p.state ?? (p.open ? "live" : "gone");
        await writeLine(
          `${p.id.padEnd(w)}  ${state.padEnd(5)}  ${String(p.operations).padStart(3)}  ${
            (p.since ?? "").padEnd(24)
          }  ${p.identity ?? ""}`.trimEnd(),
        );
      }
    }
    return EXIT_OK;
  });
}

/**
 * Runs `alknet token --identity KEY`: prints a fresh signed token, valid
 * for ±300 s.
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
    const { mintToken, readPrivateKeyFile } = await import("@alknet/core/auth");
    const key = flags.vault !== undefined
      ? await identityKey(flags) as PrivateKey
      : await readPrivateKeyFile(flags.identity!);
    if (!key.seed) throw new UsageError(`the identity is a ${key.type} key, not Ed25519`);
    await writeLine(mintToken(key.seed));
    return EXIT_OK;
  } catch (e) {
    console.error(`alknet token: ${(e as Error).message}`);
    return EXIT_USAGE;
  }
}
