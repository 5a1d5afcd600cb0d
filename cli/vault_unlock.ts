/**
 * Unlocking a vault keystore for the CLI: the passphrase from
 * `--passphrase-fd N` (first line of that file descriptor), else
 * `ALKNET_VAULT_PASSPHRASE`, else a hidden prompt on the terminal; then the
 * keystore opened and the node's keys derived.
 *
 * @module
 */

import { IDENTITY_PATH, readKeystoreFile, SSH_HOST_PATH, Vault } from "@alknet/vault";

const encoder = new TextEncoder();

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

export async function readFromFd(fd: number, what = "passphrase"): Promise<string> {
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

export async function promptHidden(message: string): Promise<string | undefined> {
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

export async function openVault(keystorePath: string, options: PassphraseOptions): Promise<Vault> {
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
