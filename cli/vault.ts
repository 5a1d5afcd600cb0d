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
  readKeystoreFile,
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
// Passphrases

/** Where to read the keystore passphrase from. */
export interface PassphraseOptions {
  /** A file descriptor to read the passphrase from (its first line). */
  passphraseFd?: number;
}

function stripNewline(text: string): string {
  const nl = text.search(/\r?\n/);
  return nl === -1 ? text : text.slice(0, nl);
}

function denoCacheDir(): string {
  const explicit = Deno.env.get("DENO_DIR");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? ""}/.cache`;
  return `${xdg}/deno`;
}

async function readFromFd(fd: number, what = "passphrase"): Promise<string> {
  const fail = (why: string) =>
    new Error(`cannot read the ${what} from file descriptor ${fd}: ${why}`);
  const link = `/dev/fd/${fd}`;
  let info: Deno.FileInfo;
  let target = "";
  try {
    info = await Deno.stat(link);
    target = await Deno.readLink(link).catch(() => "");
  } catch {
    throw fail("it is not open");
  }
  // Refuse descriptors the runtime opened for itself (sockets, event fds, its cache files):
  // only an inherited pipe, file or terminal makes sense here.
  const cache = denoCacheDir();
  if (
    !(info.isFifo || info.isFile || info.isCharDevice) || (info.isFile && target.startsWith(cache))
  ) {
    throw fail("it is not an inherited pipe, file or terminal");
  }
  try {
    return stripNewline(await Deno.readTextFile(link));
  } catch (e) {
    throw fail((e as Error).message);
  }
}

async function readLineRaw(
  read: (buf: Uint8Array) => Promise<number | null>,
): Promise<string> {
  const bytes: number[] = [];
  const buf = new Uint8Array(64);
  try {
    for (;;) {
      const n = await read(buf);
      if (n === null || n === 0) break;
      let done = false;
      for (const b of buf.subarray(0, n)) {
        if (b === 0x0d || b === 0x0a) {
          done = true;
          break;
        }
        if (b === 0x03) throw new Error("interrupted");
        if (b === 0x04 && bytes.length === 0) throw new Error("no passphrase entered");
        if (b === 0x7f || b === 0x08) bytes.pop();
        else bytes.push(b);
      }
      if (done) break;
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  } finally {
    bytes.fill(0);
    buf.fill(0);
  }
}

async function promptHidden(message: string): Promise<string | undefined> {
  if (Deno.stdin.isTerminal()) {
    // Echo goes off before the prompt appears, so nothing typed after it is echoed.
    Deno.stdin.setRaw(true);
    try {
      await Deno.stderr.write(encoder.encode(message));
      return await readLineRaw((b) => Deno.stdin.read(b));
    } finally {
      Deno.stdin.setRaw(false);
      await Deno.stderr.write(encoder.encode("\n"));
    }
  }
  // stdin carries data (e.g. `encrypt`): ask on the controlling terminal.
  let tty: Deno.FsFile;
  try {
    tty = await Deno.open("/dev/tty", { read: true, write: true });
  } catch {
    return undefined;
  }
  const stty = (arg: string) =>
    new Deno.Command("stty", { args: ["-F", "/dev/tty", arg], stdout: "null", stderr: "null" })
      .output().catch(() => undefined);
  try {
    await stty("-echo");
    try {
      await tty.write(encoder.encode(message));
      return await readLineRaw((b) => tty.read(b));
    } finally {
      await stty("echo");
      await tty.write(encoder.encode("\n"));
    }
  } finally {
    tty.close();
  }
}

/**
 * The keystore passphrase: from `--passphrase-fd`, else
 * `ALKNET_VAULT_PASSPHRASE`, else a hidden prompt on the terminal (asked twice
 * when `confirm` is set). Throws when there is no source.
 */
export async function readPassphrase(
  keystorePath: string,
  options: PassphraseOptions & { confirm?: boolean } = {},
): Promise<string> {
  let pass: string | undefined;
  if (options.passphraseFd !== undefined) pass = await readFromFd(options.passphraseFd);
  else pass = Deno.env.get("ALKNET_VAULT_PASSPHRASE");
  if (pass === undefined) {
    pass = await promptHidden(`Passphrase for ${keystorePath}: `);
    if (pass !== undefined && options.confirm) {
      const again = await promptHidden("Repeat the passphrase: ");
      if (again !== pass) throw new Error("the passphrases do not match");
    }
  }
  if (pass === undefined) {
    throw new Error(
      `no passphrase for keystore ${keystorePath}: set ALKNET_VAULT_PASSPHRASE, ` +
        "pass --passphrase-fd N, or run on a terminal",
    );
  }
  if (pass === "") throw new Error(`empty passphrase for keystore ${keystorePath}`);
  return pass;
}

async function openVault(keystorePath: string, options: PassphraseOptions): Promise<Vault> {
  const passphrase = await readPassphrase(keystorePath, options);
  const secret = await readKeystoreFile(keystorePath, passphrase);
  const vault = new Vault();
  await vault.unlock(secret.mnemonic, secret.mnemonicPassphrase);
  return vault;
}

/**
 * Opens a keystore (passphrase from `--passphrase-fd` via `options`,
 * `ALKNET_VAULT_PASSPHRASE`, or a terminal prompt) and returns the 32-byte
 * Ed25519 seeds of the node identity (`m/74'/0'/0'/0'`) and SSH host key
 * (`m/74'/0'/1'/0'`). The caller owns the arrays and should `fill(0)` them
 * when done; the vault is locked before returning.
 *
 * @example Needs a keystore file and its passphrase:
 * ```ts ignore
 * import { loadVaultKeys } from "./vault.ts";
 * import { encodeOpenSshPrivateKey } from "@alknet/core";
 * const { identitySeed, hostSeed } = await loadVaultKeys("./node.keystore");
 * const hostKeyText = encodeOpenSshPrivateKey(hostSeed, "alknet host");
 * identitySeed.fill(0);
 * hostSeed.fill(0);
 * ```
 */
export async function loadVaultKeys(
  keystorePath: string,
  options: PassphraseOptions = {},
): Promise<{ identitySeed: Uint8Array; hostSeed: Uint8Array }> {
  const vault = await openVault(keystorePath, options);
  try {
    const id = vault.deriveEd25519(IDENTITY_PATH);
    const host = vault.deriveEd25519(SSH_HOST_PATH);
    const out = { identitySeed: id.privateKey.slice(), hostSeed: host.privateKey.slice() };
    id.wipe();
    host.wipe();
    return out;
  } finally {
    vault.lock();
  }
}

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
