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

import type { PrivateKey } from "@alknet/core/auth";
import { CallError, type OperationSummary, type PeerInfo } from "@alknet/call";
import {
  CONNECT_HELP,
  type ConnectFlags as Flags,
  EXIT_OK,
  EXIT_USAGE,
  identityKey,
  parseConnectFlags,
  reportError,
  UsageError,
  withConnection as connected,
  writeLine,
} from "./call_flags.ts";

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
${CONNECT_HELP}

exit codes: 0 ok, 2 usage, 3 the call answered an error, 4 connection or authentication failure`;

function parse(args: string[]): Flags {
  return parseConnectFlags(args).flags;
}

function report(e: unknown, command: string): number {
  return reportError(e, command, CALL_USAGE);
}

function withConnection(
  command: string,
  target: string,
  flags: Flags,
  run: Parameters<typeof connected>[4],
): Promise<number> {
  return connected(command, CALL_USAGE, target, flags, run);
}

/**
 * Runs `alknet call TARGET OP [JSON]`; resolves to the exit code. A
 * subscription prints one JSON line per item.
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
