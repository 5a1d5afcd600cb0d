/**
 * `alknet peers`: who may log in, kept in the database a node serves with
 * `alknet serve --db`. Changes reach running nodes by themselves (within a
 * second; a disabled or removed peer's sessions are closed). Works on a
 * local database or on a node (`--node URL`, scope `admin:peers`).
 *
 * @example
 * ```sh
 * alknet peers add alice --key alice.pub --scopes relay:connect --db /var/lib/alknet/alknet.db
 * alknet peers list
 * alknet peers disable alice --node ssh://node.example:2222 --identity ~/.alknet/admin
 * ```
 *
 * @module
 */

import type { PeerWire } from "@alknet/storage/ops";
import { writeLine } from "./call_flags.ts";
import { UsageError } from "./args.ts";
import {
  columns,
  listFlag,
  LOCATION_HELP,
  pickSubcommand,
  runStoreCommand,
  type StoreClient,
  type StoreCommandContext,
} from "./store_command.ts";

const USAGE =
  `usage: alknet peers add NAME (--key FILE.pub | --fingerprint SHA256:...)... [--scopes a,b]
                       [--display-name TEXT] [--disabled]
       alknet peers list [--json]
       alknet peers show NAME
       alknet peers enable|disable|remove NAME
       alknet peers add-key NAME --key FILE.pub
       alknet peers remove-key NAME --fingerprint SHA256:...
       alknet peers set-scopes NAME --scopes a,b
  (each takes --db LOCATION, or --node URL with connection options)

A peer is a stable name with SSH keys (Ed25519 keys also sign call-protocol tokens), scopes
(default relay:connect; admin:peers manages peers through a node) and an enabled flag.
Running nodes follow changes by themselves; disabling or removing a peer refuses it and
closes its open sessions.

options:
  --key FILE.pub               an OpenSSH public key file (repeatable; every line is a key)
  --fingerprint SHA256:...     a bare key fingerprint (SSH logins only; repeatable)
  --scopes a,b                 granted scopes (comma-separated)
  --display-name TEXT          a human-readable name
  --disabled                   add the peer disabled
  --json                       print JSON
${LOCATION_HELP}

exit codes: 0 ok, 2 usage, 3 the operation answered an error, 4 database or node unreachable`;

const FLAGS = {
  key: { type: "string", multiple: true },
  fingerprint: { type: "string", multiple: true },
  scopes: { type: "string" },
  "display-name": { type: "string" },
  disabled: { type: "boolean" },
  json: { type: "boolean" },
} as const;

async function keyLines(files: unknown): Promise<string[]> {
  const keys: string[] = [];
  for (const file of (files as string[] | undefined) ?? []) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (e) {
      throw new UsageError(`--key ${file}: ${(e as Error).message}`);
    }
    const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    if (lines.length === 0) throw new UsageError(`--key ${file}: no public key in the file`);
    keys.push(...lines);
  }
  return keys;
}

function peerLine(p: PeerWire): string[] {
  return [
    p.peer_id,
    p.enabled ? "yes" : "no",
    p.scopes.join(",") || "-",
    p.keys.map((k) => k.fingerprint).join(",") || "-",
  ];
}

async function print(p: PeerWire | PeerWire[], json: boolean): Promise<void> {
  const list = Array.isArray(p) ? p : [p];
  if (json) return await writeLine(JSON.stringify(p));
  await writeLine(columns([["PEER", "ENABLED", "SCOPES", "KEYS"], ...list.map(peerLine)]));
}

function one(ctx: StoreCommandContext, what: string): string {
  const [name, ...extra] = ctx.positionals;
  if (name === undefined) throw new UsageError(`${what} needs NAME`);
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  return name;
}

type Sub = (client: StoreClient, ctx: StoreCommandContext) => Promise<number>;

const SUBCOMMANDS: Record<string, Sub> = {
  add: async (client, ctx) => {
    const name = one(ctx, "add");
    const v = ctx.values;
    const keys = await keyLines(v.key);
    const fingerprints = (v.fingerprint as string[] | undefined) ?? [];
    if (keys.length + fingerprints.length === 0) {
      throw new UsageError("add needs --key FILE.pub or --fingerprint SHA256:...");
    }
    const peer = await client.call<PeerWire>("peers/add", {
      peer_id: name,
      keys,
      fingerprints,
      scopes: listFlag("--scopes", v.scopes),
      display_name: v["display-name"],
      enabled: v.disabled ? false : undefined,
    });
    await print(peer, v.json === true);
    return 0;
  },
  list: async (client, ctx) => {
    if (ctx.positionals.length) throw new UsageError(`unexpected argument '${ctx.positionals[0]}'`);
    await print(await client.call<PeerWire[]>("peers/list", {}), ctx.values.json === true);
    return 0;
  },
  show: async (client, ctx) => {
    const peer = await client.call<PeerWire>("peers/get", { peer_id: one(ctx, "show") });
    await print(peer, ctx.values.json === true);
    if (ctx.values.json) return 0;
    for (const k of peer.keys) {
      await writeLine(`key ${k.fingerprint} ${k.type ?? "(fingerprint only)"} ${k.comment}`.trim());
    }
    return 0;
  },
  enable: async (client, ctx) => {
    await print(
      await client.call<PeerWire>("peers/enable", { peer_id: one(ctx, "enable") }),
      ctx.values.json === true,
    );
    return 0;
  },
  disable: async (client, ctx) => {
    await print(
      await client.call<PeerWire>("peers/disable", { peer_id: one(ctx, "disable") }),
      ctx.values.json === true,
    );
    return 0;
  },
  remove: async (client, ctx) => {
    const name = one(ctx, "remove");
    await client.call("peers/remove", { peer_id: name });
    await writeLine(`removed ${name}`);
    return 0;
  },
  "add-key": async (client, ctx) => {
    const name = one(ctx, "add-key");
    const keys = [
      ...await keyLines(ctx.values.key),
      ...(ctx.values.fingerprint as string[] | undefined ?? []),
    ];
    if (keys.length === 0) throw new UsageError("add-key needs --key FILE.pub or --fingerprint");
    let peer: PeerWire | undefined;
    for (const key of keys) {
      peer = await client.call<PeerWire>("peers/add-key", { peer_id: name, key });
    }
    await print(peer!, ctx.values.json === true);
    return 0;
  },
  "remove-key": async (client, ctx) => {
    const name = one(ctx, "remove-key");
    const fps = (ctx.values.fingerprint as string[] | undefined) ?? [];
    if (fps.length === 0) throw new UsageError("remove-key needs --fingerprint SHA256:...");
    let peer: PeerWire | undefined;
    for (const fingerprint of fps) {
      peer = await client.call<PeerWire>("peers/remove-key", { peer_id: name, fingerprint });
    }
    await print(peer!, ctx.values.json === true);
    return 0;
  },
  "set-scopes": async (client, ctx) => {
    const name = one(ctx, "set-scopes");
    const scopes = listFlag("--scopes", ctx.values.scopes);
    if (!scopes) throw new UsageError("set-scopes needs --scopes a,b");
    await print(
      await client.call<PeerWire>("peers/update", { peer_id: name, scopes }),
      ctx.values.json === true,
    );
    return 0;
  },
};

/**
 * Runs `alknet peers SUBCOMMAND ...`; resolves to the exit code.
 */
export async function main(args: string[]): Promise<number> {
  const picked = pickSubcommand("peers", args, USAGE, SUBCOMMANDS);
  if (typeof picked === "number") return picked;
  const { sub, run, rest } = picked;
  return await runStoreCommand(rest, { command: `peers ${sub}`, usage: USAGE, flags: FLAGS }, run);
}
