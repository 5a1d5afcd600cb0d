/**
 * `alknet credentials`: named secrets kept in the database sealed by the
 * vault (AES-256-GCM under a key derived from the keystore's mnemonic):
 * the database only ever holds `EncryptedData`. `set`, `get` and `rotate`
 * unlock the keystore locally; `list` and `remove` also work on a node
 * (`--node URL`, scope `admin:credentials` or `credentials:read`), which
 * answers metadata only.
 *
 * @example
 * ```sh
 * export ALKNET_VAULT_PASSPHRASE='...'
 * printf %s "$DB_PASSWORD" | alknet credentials set db-password --keystore ./node.keystore
 * alknet credentials get db-password --keystore ./node.keystore
 * alknet credentials rotate --to 3 --keystore ./node.keystore
 * ```
 *
 * @module
 */

import { readKeystoreFile, Vault, wipe } from "@alknet/vault";
import type { EncryptedData } from "@alknet/storage";
import { writeLine } from "./call_flags.ts";
import { UsageError } from "./args.ts";
import { readPassphrase } from "./vault_unlock.ts";
import {
  columns,
  LOCATION_HELP,
  pickSubcommand,
  runStoreCommand,
  type StoreClient,
  type StoreCommandContext,
} from "./store_command.ts";

const USAGE = `usage: alknet credentials set NAME --keystore PATH [--key-version N] [--file FILE]
       alknet credentials get NAME --keystore PATH
       alknet credentials list [--json]
       alknet credentials remove NAME
       alknet credentials rotate --to N --keystore PATH
  (each takes --db LOCATION; list and remove also --node URL with connection options)

set reads the secret from stdin (or --file) and stores it sealed by the vault; get prints it.
rotate re-encrypts every credential under key version N in one transaction: all or none.
The keystore passphrase comes from --passphrase-fd N, ALKNET_VAULT_PASSPHRASE or a prompt.

options:
  --keystore PATH              the vault keystore (alknet vault init makes one)
  --passphrase-fd N            read the keystore passphrase from file descriptor N
  --key-version N              seal under this key version (default: the vault's current)
  --to N                       rotate: the key version to re-encrypt under
  --file FILE                  set: read the secret from FILE instead of stdin
  --json                       list: print JSON
${LOCATION_HELP}

exit codes: 0 ok, 1 the vault failed, 2 usage, 3 the operation answered an error,
4 database or node unreachable`;

const FLAGS = {
  keystore: { type: "string" },
  "passphrase-fd": { type: "string" },
  "key-version": { type: "string" },
  to: { type: "string" },
  file: { type: "string" },
  json: { type: "boolean" },
} as const;

/** The vault failed (wrong passphrase, unreadable keystore, bad blob): exit 1. */
class VaultFailure extends Error {}

function version(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isInteger(n)) throw new UsageError(`${flag} must be an integer key version`);
  return n;
}

async function withVault<T>(ctx: StoreCommandContext, fn: (v: Vault) => Promise<T>): Promise<T> {
  const path = ctx.values.keystore as string | undefined;
  if (!path) throw new UsageError("--keystore PATH is required");
  const fd = ctx.values["passphrase-fd"] as string | undefined;
  if (fd !== undefined && !/^\d+$/.test(fd)) {
    throw new UsageError(`--passphrase-fd needs a number, got '${fd}'`);
  }
  const vault = new Vault();
  try {
    const passphrase = await readPassphrase(path, {
      passphraseFd: fd === undefined ? undefined : Number(fd),
    });
    const secret = await readKeystoreFile(path, passphrase);
    await vault.unlock(secret.mnemonic, secret.mnemonicPassphrase);
  } catch (e) {
    throw new VaultFailure((e as Error).message);
  }
  try {
    return await fn(vault);
  } finally {
    vault.lock();
  }
}

function one(ctx: StoreCommandContext, what: string): string {
  const [name, ...extra] = ctx.positionals;
  if (name === undefined) throw new UsageError(`${what} needs NAME`);
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  return name;
}

async function readSecret(file: string | undefined): Promise<Uint8Array> {
  if (file !== undefined) return await Deno.readFile(file);
  return new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
}

async function writeAll(bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
}

type Sub = (client: StoreClient, ctx: StoreCommandContext) => Promise<number>;

interface CredentialWire {
  name: string;
  key_version: number;
  created_at: number;
  updated_at: number;
}

const LOCAL: Record<string, Sub> = {
  set: async (client, ctx) => {
    const name = one(ctx, "set");
    const keyVersion = version("--key-version", ctx.values["key-version"]);
    const plaintext = await readSecret(ctx.values.file as string | undefined);
    try {
      if (plaintext.length === 0) throw new UsageError("the secret is empty");
      const blob = await withVault(ctx, (v) =>
        v.encrypt(plaintext, keyVersion).catch((e) => {
          throw new VaultFailure((e as Error).message);
        }));
      await client.store!.credentials.set(name, blob as EncryptedData);
    } finally {
      wipe(plaintext);
    }
    await writeLine(`stored ${name}`);
    return 0;
  },
  get: async (client, ctx) => {
    const name = one(ctx, "get");
    const blob = await client.store!.credentials.get(name);
    if (!blob) {
      // The same answer as the operations give.
      await client.call("credentials/info", { name });
      throw new UsageError(`no credential '${name}'`);
    }
    await withVault(ctx, async (v) => {
      let plaintext: Uint8Array;
      try {
        plaintext = await v.decrypt(blob);
      } catch (e) {
        throw new VaultFailure(`credential '${name}': ${(e as Error).message}`);
      }
      try {
        await writeAll(plaintext);
      } finally {
        wipe(plaintext);
      }
    });
    return 0;
  },
  rotate: async (client, ctx) => {
    if (ctx.positionals.length) throw new UsageError(`unexpected argument '${ctx.positionals[0]}'`);
    const to = version("--to", ctx.values.to);
    if (to === undefined) throw new UsageError("rotate needs --to N");
    const n = await withVault(
      ctx,
      (v) =>
        client.store!.credentials.rotate(async (_name, blob) =>
          await v.rotate(blob, to) as EncryptedData
        ),
    );
    await writeLine(`re-encrypted ${n} credential(s) under key version ${to}`);
    return 0;
  },
};

const ANYWHERE: Record<string, Sub> = {
  list: async (client, ctx) => {
    if (ctx.positionals.length) throw new UsageError(`unexpected argument '${ctx.positionals[0]}'`);
    const list = await client.call<CredentialWire[]>("credentials/list", {});
    if (ctx.values.json) return await writeLine(JSON.stringify(list)).then(() => 0);
    const when = (ms: number) => new Date(ms).toISOString();
    await writeLine(columns([
      ["NAME", "KEY_VERSION", "UPDATED"],
      ...list.map((c) => [c.name, String(c.key_version), when(c.updated_at)]),
    ]));
    return 0;
  },
  remove: async (client, ctx) => {
    const name = one(ctx, "remove");
    await client.call("credentials/remove", { name });
    await writeLine(`removed ${name}`);
    return 0;
  },
};

/**
 * Runs `alknet credentials SUBCOMMAND ...`; resolves to the exit code.
 */
export async function main(args: string[]): Promise<number> {
  const picked = pickSubcommand("credentials", args, USAGE, { ...ANYWHERE, ...LOCAL });
  if (typeof picked === "number") return picked;
  const { sub, run, rest } = picked;
  const command = `credentials ${sub}`;
  try {
    return await runStoreCommand(
      rest,
      { command, usage: USAGE, flags: FLAGS, localOnly: sub in LOCAL },
      async (client, ctx) => {
        try {
          return await run(client, ctx);
        } catch (e) {
          if (!(e instanceof VaultFailure)) throw e;
          console.error(`alknet ${command}: ${e.message}`);
          return 1;
        }
      },
    );
  } catch (e) {
    console.error(`alknet ${command}: ${(e as Error).message}`);
    return 1;
  }
}
