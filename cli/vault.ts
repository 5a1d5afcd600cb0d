/**
 * `alknet vault`: create a keystore from a BIP39 mnemonic, show the node's
 * public keys, derive keys, seal and open secrets, and export SSH keys.
 *
 * The keystore passphrase comes from `--passphrase-fd N` (first line read
 * from that file descriptor), else `ALKNET_VAULT_PASSPHRASE`, else a prompt
 * on the terminal; with none of them the command fails with a clear error.
 * An optional BIP39 passphrase for `init` comes from
 * `ALKNET_MNEMONIC_PASSPHRASE` and is stored (sealed) in the keystore.
 *
 * `ALKNET_KEYSTORE_SCRYPT_LOG_N` (test only) lowers the scrypt cost used by
 * `init`; never set it for real keystores.
 *
 * @example
 * ```sh
 * export ALKNET_VAULT_PASSPHRASE='a long passphrase'
 * deno run -A cli.ts vault init --keystore ./node.keystore
 * deno run -A cli.ts vault show-keys --keystore ./node.keystore
 * echo -n secret | deno run -A cli.ts vault encrypt --keystore ./node.keystore > secret.json
 * deno run -A cli.ts vault export-ssh --keystore ./node.keystore --key identity -f ./id_alknet
 * ```
 *
 * @module
 */

import {
  ed25519PublicBlob,
  encodeOpenSshPrivateKey,
  fingerprint,
  publicKeyLine,
} from "@alknet/core/auth";
import {
  type DerivedKey,
  ETHEREUM_PATH,
  ethereumAddress,
  generateMnemonic,
  IDENTITY_PATH,
  isKeyVersion,
  isMnemonicWordCount,
  MnemonicSecret,
  type ScryptParams,
  SSH_HOST_PATH,
  toHex,
  validateMnemonic,
  Vault,
  wipe,
  writeFileAtomic,
  writeKeystoreFile,
} from "@alknet/vault";
import { parseFlags, pathExists, UsageError } from "./args.ts";
import {
  openVault,
  type PassphraseOptions,
  promptHidden,
  readFromFd,
  readPassphrase,
} from "./vault_unlock.ts";

const USAGE = `usage: alknet vault <command> [options]

commands:
  init        --keystore PATH [--words 12|15|18|21|24] [--import | --mnemonic-fd N] [--force]
              generate a mnemonic (printed once, for backup) or read one from
              stdin (--import) or file descriptor N, and write it sealed to a
              keystore (mode 0600)
  show-keys   --keystore PATH [--format text|json]
              identity and SSH host public keys, fingerprints, the identity's
              .pub line, and the Ethereum address
  derive      DERIVATION_PATH --keystore PATH [--curve ed25519|secp256k1]
              [--format text|json|openssh] [--private]
  encrypt     --keystore PATH [--key-version N]   stdin -> EncryptedData JSON
  decrypt     --keystore PATH                     EncryptedData JSON -> plaintext
  rotate      --keystore PATH --to N              EncryptedData JSON -> re-encrypted
  export-ssh  --keystore PATH --key identity|host -f FILE [--force] [--comment TEXT]
              write FILE (0600) and FILE.pub, print the fingerprint

common options:
  --passphrase-fd N   read the keystore passphrase from file descriptor N

environment:
  ALKNET_VAULT_PASSPHRASE       keystore passphrase (else --passphrase-fd, else a prompt)
  ALKNET_MNEMONIC_PASSPHRASE    optional BIP39 passphrase, for init
  ALKNET_KEYSTORE_SCRYPT_LOG_N  TEST ONLY: lower scrypt cost for init (default 17)`;

const encoder = new TextEncoder();

// ---------------------------------------------------------------------------
// Helpers

async function readStdin(): Promise<Uint8Array> {
  return new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
}

async function writeStdout(bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
}

function passphraseFd(value: string | undefined): PassphraseOptions {
  if (value === undefined) return {};
  if (!/^\d+$/.test(value)) throw new UsageError(`--passphrase-fd needs a number, got '${value}'`);
  return { passphraseFd: Number(value) };
}

function keyVersion(flag: string, value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!isKeyVersion(n)) {
    throw new UsageError(`${flag} must be an integer key version ≥ 2, got '${value}'`);
  }
  return n;
}

function requireKeystore(value: string | undefined): string {
  if (!value) throw new UsageError("--keystore PATH is required");
  return value;
}

function noPositionals(positionals: string[]): void {
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as string[]).includes(value)) {
    throw new UsageError(`${flag} must be one of ${allowed.join(", ")}, got '${value}'`);
  }
  return value as T;
}

const COMMON = {
  keystore: { type: "string" },
  "passphrase-fd": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function sshInfo(key: DerivedKey, comment: string) {
  const blob = ed25519PublicBlob(key.publicKey);
  return {
    path: key.path,
    public_key: toHex(key.publicKey),
    fingerprint: fingerprint(blob),
    ssh_public_key: publicKeyLine(blob, comment),
  };
}

function scryptParamsFromEnv(): ScryptParams | undefined {
  const raw = Deno.env.get("ALKNET_KEYSTORE_SCRYPT_LOG_N");
  if (raw === undefined || raw === "") return undefined;
  const logN = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(logN >= 1 && logN <= 24)) {
    throw new Error(`ALKNET_KEYSTORE_SCRYPT_LOG_N must be an integer from 1 to 24, got '${raw}'`);
  }
  if (logN < 17) {
    console.error(
      `alknet vault: warning: ALKNET_KEYSTORE_SCRYPT_LOG_N=${logN} weakens the keystore (test only)`,
    );
  }
  return { logN, r: 8, p: 1 };
}

// ---------------------------------------------------------------------------
// Subcommands

async function init(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    ...COMMON,
    words: { type: "string" },
    import: { type: "boolean" },
    "mnemonic-fd": { type: "string" },
    force: { type: "boolean" },
  });
  if (values.help) return help();
  noPositionals(positionals);
  const path = requireKeystore(values.keystore);
  let words = 24;
  if (values.words !== undefined) {
    words = /^\d+$/.test(values.words) ? Number(values.words) : NaN;
    if (!isMnemonicWordCount(words)) {
      throw new UsageError(`--words must be 12, 15, 18, 21 or 24, got '${values.words}'`);
    }
    if (values.import) throw new UsageError("--words and --import do not go together");
  }
  const fd = passphraseFd(values["passphrase-fd"]);
  if (!values.force && await pathExists(path)) {
    throw new Error(`keystore ${path} already exists (use --force to overwrite)`);
  }
  const params = scryptParamsFromEnv();
  let phrase: string;
  let mnemonicFd: number | undefined;
  if (values["mnemonic-fd"] !== undefined) {
    if (!/^\d+$/.test(values["mnemonic-fd"])) {
      throw new UsageError(`--mnemonic-fd needs a number, got '${values["mnemonic-fd"]}'`);
    }
    mnemonicFd = Number(values["mnemonic-fd"]);
  }
  if (mnemonicFd !== undefined && values.words !== undefined) {
    throw new UsageError("--words and --mnemonic-fd do not go together");
  }
  if (values.import || mnemonicFd !== undefined) {
    let input: string | undefined;
    if (mnemonicFd !== undefined) input = await readFromFd(mnemonicFd, "mnemonic");
    else if (Deno.stdin.isTerminal()) input = await promptHidden("Mnemonic: ");
    else {
      const bytes = await readStdin();
      input = new TextDecoder().decode(bytes);
      wipe(bytes);
    }
    phrase = validateMnemonic(input ?? "");
  } else {
    phrase = generateMnemonic(words as 12 | 15 | 18 | 21 | 24);
  }
  const passphrase = await readPassphrase(path, { ...fd, confirm: true });
  const secret = new MnemonicSecret(phrase, Deno.env.get("ALKNET_MNEMONIC_PASSPHRASE") ?? "");
  await writeKeystoreFile(path, secret, passphrase, { params, overwrite: values.force });
  const vault = new Vault();
  try {
    await vault.unlock(secret.mnemonic, secret.mnemonicPassphrase);
    const id = vault.deriveEd25519(IDENTITY_PATH);
    const idFingerprint = fingerprint(ed25519PublicBlob(id.publicKey));
    id.wipe();
    if (!values.import && mnemonicFd === undefined) {
      console.error(
        `Recovery phrase (${words} words) below. Write it down and keep it offline; ` +
          "it is shown only this once.",
      );
      console.log(phrase);
    }
    console.error(`Keystore written to ${path}`);
    console.error(`Identity ${idFingerprint}`);
  } finally {
    vault.lock();
  }
  return 0;
}

async function showKeys(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { ...COMMON, format: { type: "string" } });
  if (values.help) return help();
  noPositionals(positionals);
  const path = requireKeystore(values.keystore);
  const format = oneOf("--format", values.format, ["text", "json"], "text");
  const vault = await openVault(path, passphraseFd(values["passphrase-fd"]));
  try {
    const id = vault.deriveEd25519(IDENTITY_PATH);
    const host = vault.deriveEd25519(SSH_HOST_PATH);
    const eth = vault.deriveSecp256k1(ETHEREUM_PATH);
    const report = {
      identity: sshInfo(id, "alknet-identity"),
      host: sshInfo(host, "alknet-host"),
      ethereum: {
        path: eth.path,
        address: ethereumAddress(eth.publicKey),
        public_key: toHex(eth.publicKey),
      },
    };
    for (const k of [id, host, eth]) k.wipe();
    if (format === "json") {
      console.log(JSON.stringify(report, null, 2));
    } else {
      const lines: string[] = [];
      for (
        const [title, k] of [["identity", report.identity], ["ssh host", report.host]] as const
      ) {
        lines.push(`${title.padEnd(10)} ${k.path}`);
        lines.push(`  public key   ${k.public_key}`);
        lines.push(`  fingerprint  ${k.fingerprint}`);
        lines.push(`  ssh          ${k.ssh_public_key}`);
      }
      lines.push(`${"ethereum".padEnd(10)} ${report.ethereum.path}`);
      lines.push(`  address      ${report.ethereum.address}`);
      lines.push(`  public key   ${report.ethereum.public_key}`);
      console.log(lines.join("\n"));
    }
  } finally {
    vault.lock();
  }
  return 0;
}

async function derive(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    ...COMMON,
    curve: { type: "string" },
    format: { type: "string" },
    private: { type: "boolean" },
  });
  if (values.help) return help();
  if (positionals.length === 0) throw new UsageError("a derivation path (m/...) is required");
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const path = requireKeystore(values.keystore);
  const curve = oneOf("--curve", values.curve, ["ed25519", "secp256k1"], "ed25519");
  const format = oneOf("--format", values.format, ["text", "json", "openssh"], "text");
  if (format === "openssh" && curve !== "ed25519") {
    throw new UsageError("--format openssh needs --curve ed25519");
  }
  const vault = await openVault(path, passphraseFd(values["passphrase-fd"]));
  try {
    const key = curve === "ed25519"
      ? vault.deriveEd25519(positionals[0])
      : vault.deriveSecp256k1(positionals[0]);
    try {
      if (format === "openssh") {
        if (values.private) {
          await writeStdout(encoder.encode(encodeOpenSshPrivateKey(key.privateKey, key.path)));
        } else {
          console.log(publicKeyLine(ed25519PublicBlob(key.publicKey), key.path));
        }
      } else if (format === "json") {
        const out: Record<string, string> = {
          path: key.path,
          curve: key.curve,
          public_key: toHex(key.publicKey),
        };
        if (values.private) out.private_key = toHex(key.privateKey);
        console.log(JSON.stringify(out));
      } else {
        const lines = [`path         ${key.path}`, `curve        ${key.curve}`];
        lines.push(`public key   ${toHex(key.publicKey)}`);
        if (curve === "ed25519") {
          lines.push(`fingerprint  ${fingerprint(ed25519PublicBlob(key.publicKey))}`);
        } else {
          lines.push(`address      ${ethereumAddress(key.publicKey)}`);
        }
        if (values.private) lines.push(`private key  ${toHex(key.privateKey)}`);
        console.log(lines.join("\n"));
      }
    } finally {
      key.wipe();
    }
  } finally {
    vault.lock();
  }
  return 0;
}

async function encrypt(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    ...COMMON,
    "key-version": { type: "string" },
  });
  if (values.help) return help();
  noPositionals(positionals);
  const path = requireKeystore(values.keystore);
  const version = values["key-version"] === undefined
    ? undefined
    : keyVersion("--key-version", values["key-version"]);
  const vault = await openVault(path, passphraseFd(values["passphrase-fd"]));
  try {
    const plaintext = await readStdin();
    try {
      console.log(JSON.stringify(await vault.encrypt(plaintext, version)));
    } finally {
      wipe(plaintext);
    }
  } finally {
    vault.lock();
  }
  return 0;
}

async function decrypt(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, COMMON);
  if (values.help) return help();
  noPositionals(positionals);
  const path = requireKeystore(values.keystore);
  const vault = await openVault(path, passphraseFd(values["passphrase-fd"]));
  try {
    const blob = new TextDecoder().decode(await readStdin()).trim();
    const plaintext = await vault.decrypt(blob);
    try {
      await writeStdout(plaintext);
    } finally {
      wipe(plaintext);
    }
  } finally {
    vault.lock();
  }
  return 0;
}

async function rotate(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { ...COMMON, to: { type: "string" } });
  if (values.help) return help();
  noPositionals(positionals);
  const path = requireKeystore(values.keystore);
  if (values.to === undefined) throw new UsageError("--to N is required");
  const to = keyVersion("--to", values.to);
  const vault = await openVault(path, passphraseFd(values["passphrase-fd"]));
  try {
    const blob = new TextDecoder().decode(await readStdin()).trim();
    console.log(JSON.stringify(await vault.rotate(blob, to)));
  } finally {
    vault.lock();
  }
  return 0;
}

async function exportSsh(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    ...COMMON,
    key: { type: "string" },
    file: { type: "string", short: "f" },
    force: { type: "boolean" },
    comment: { type: "string", short: "C" },
  });
  if (values.help) return help();
  noPositionals(positionals);
  const path = requireKeystore(values.keystore);
  if (values.key === undefined) throw new UsageError("--key identity|host is required");
  const which = oneOf("--key", values.key, ["identity", "host"], "identity");
  const file = values.file;
  if (!file) throw new UsageError("-f FILE is required");
  if (!values.force) {
    for (const p of [file, `${file}.pub`]) {
      if (await pathExists(p)) throw new Error(`${p} already exists (use --force to overwrite)`);
    }
  }
  const vault = await openVault(path, passphraseFd(values["passphrase-fd"]));
  try {
    const key = vault.deriveEd25519(which === "identity" ? IDENTITY_PATH : SSH_HOST_PATH);
    try {
      const comment = values.comment ?? `alknet-${which}`;
      const blob = ed25519PublicBlob(key.publicKey);
      const priv = encoder.encode(encodeOpenSshPrivateKey(key.privateKey, comment));
      try {
        await writeFileAtomic(file, priv, { mode: 0o600 });
      } finally {
        wipe(priv);
      }
      await writeFileAtomic(`${file}.pub`, encoder.encode(publicKeyLine(blob, comment) + "\n"), {
        mode: 0o644,
      });
      console.error(`Wrote ${file} and ${file}.pub (${which} key, ${key.path})`);
      console.log(fingerprint(blob));
    } finally {
      key.wipe();
    }
  } finally {
    vault.lock();
  }
  return 0;
}

function help(): number {
  console.log(USAGE);
  return 0;
}

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  init,
  "show-keys": showKeys,
  derive,
  encrypt,
  decrypt,
  rotate,
  "export-ssh": exportSsh,
};

/**
 * Runs `alknet vault`; resolves to the exit code: 0 ok, 2 usage error, 1 any
 * other failure (with a one-line error on stderr).
 */
export async function main(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) {
    console.error(
      "alknet vault: a command is required (init, show-keys, derive, encrypt, " +
        "decrypt, rotate, export-ssh); see alknet vault --help",
    );
    return 2;
  }
  if (sub === "--help" || sub === "-h" || sub === "help") return help();
  const run = SUBCOMMANDS[sub];
  if (!run) {
    console.error(`alknet vault: unknown command '${sub}'; see alknet vault --help`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`alknet vault ${sub}: ${e.message} (see alknet vault --help)`);
      return 2;
    }
    const message = e instanceof Error ? e.message : String(e);
    console.error(`alknet vault ${sub}: ${message.split("\n")[0]}`);
    return 1;
  }
}
