/**
 * End-to-end tests of `alknet vault` run as `deno run -A cli.ts vault ...`.
 * Keystores use a low scrypt cost through ALKNET_KEYSTORE_SCRYPT_LOG_N (test only).
 */

import assert from "node:assert/strict";
import { ETHEREUM_PATH, IDENTITY_PATH, SSH_HOST_PATH, toHex, Vault } from "@alknet/vault";
import { ed25519 } from "@noble/curves/ed25519.js";
import { loadVaultKeys } from "../cli/vault_unlock.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const ABOUT =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  bytes: Uint8Array;
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {
    ALKNET_KEYSTORE_SCRYPT_LOG_N: "6",
    NO_COLOR: "1",
  };
  for (const k of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  return env;
}

async function vault(
  args: string[],
  opts: { stdin?: string | Uint8Array; env?: Record<string, string>; passphrase?: string | null } =
    {},
): Promise<Result> {
  const env = { ...baseEnv(), ...opts.env };
  if (opts.passphrase !== null) env.ALKNET_VAULT_PASSPHRASE = opts.passphrase ?? "test pass";
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "vault", ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env,
  }).spawn();
  const w = child.stdin.getWriter();
  if (opts.stdin !== undefined) {
    await w.write(
      typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin,
    );
  }
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    bytes: out.stdout,
  };
}

async function run(cmd: string, args: string[]): Promise<Result> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    bytes: out.stdout,
  };
}

function oneLineError(r: Result, re: RegExp): void {
  const lines = r.stderr.trim().split("\n").filter((l) => !l.includes("(test only)"));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], re);
}

async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "alknet_vault_cli_" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("vault init: prints a fresh phrase once, writes a 0600 keystore, refuses to overwrite", async () => {
  await withDir(async (dir) => {
    const ks = `${dir}/node.keystore`;
    const r = await vault(["init", "--keystore", ks, "--words", "12"]);
    assert.equal(r.code, 0, r.stderr);
    const phrase = r.stdout.trim();
    assert.equal(phrase.split(" ").length, 12);
    assert.match(r.stderr, /shown only this once/);
    assert.equal((await Deno.stat(ks)).mode! & 0o777, 0o600);
    const text = await Deno.readTextFile(ks);
    for (const word of phrase.split(" ")) assert.ok(!text.includes(` ${word} `));
    assert.ok(!text.includes(phrase));
    // The keystore opens to the same identity as the phrase.
    const v = new Vault();
    await v.unlock(phrase);
    const shown = JSON.parse(
      (await vault(["show-keys", "--keystore", ks, "--format", "json"])).stdout,
    );
    assert.equal(shown.identity.public_key, toHex(v.deriveEd25519(IDENTITY_PATH).publicKey));
    const again = await vault(["init", "--keystore", ks]);
    assert.equal(again.code, 1);
    oneLineError(again, /already exists \(use --force to overwrite\)/);
    assert.equal(await Deno.readTextFile(ks), text);
    const forced = await vault(["init", "--keystore", ks, "--force", "--words", "24"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout.trim().split(" ").length, 24);
  });
});

Deno.test("vault init --import, show-keys text and json, BIP39 passphrase", async () => {
  await withDir(async (dir) => {
    const ks = `${dir}/ks`;
    const r = await vault(["init", "--import", "--keystore", ks], { stdin: ABOUT + "\n" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, ""); // an imported phrase is not echoed
    const json = JSON.parse(
      (await vault(["show-keys", "--keystore", ks, "--format", "json"])).stdout,
    );
    const v = new Vault();
    await v.unlock(ABOUT);
    const id = v.deriveEd25519(IDENTITY_PATH);
    const host = v.deriveEd25519(SSH_HOST_PATH);
    assert.equal(json.identity.path, IDENTITY_PATH);
    assert.equal(json.identity.public_key, toHex(id.publicKey));
    assert.match(json.identity.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.match(json.identity.ssh_public_key, /^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ alknet-identity$/);
    assert.equal(json.host.public_key, toHex(host.publicKey));
    assert.equal(json.ethereum.path, ETHEREUM_PATH);
    assert.equal(json.ethereum.address, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
    const text = await vault(["show-keys", "--keystore", ks]);
    assert.equal(text.code, 0);
    assert.ok(text.stdout.includes(json.identity.fingerprint));
    assert.ok(text.stdout.includes(json.identity.ssh_public_key));
    assert.ok(text.stdout.includes(json.host.fingerprint));
    assert.ok(text.stdout.includes("0x9858EfFD232B4033E47d90003D41EC34EcaEda94"));
    assert.ok(!text.stdout.includes(toHex(id.privateKey)));

    const ks2 = `${dir}/ks2`;
    const r2 = await vault(["init", "--import", "--keystore", ks2], {
      stdin: ABOUT,
      env: { ALKNET_MNEMONIC_PASSPHRASE: "TREZOR" },
    });
    assert.equal(r2.code, 0, r2.stderr);
    const j2 = JSON.parse(
      (await vault(["show-keys", "--keystore", ks2, "--format", "json"])).stdout,
    );
    const w = new Vault();
    await w.unlock(ABOUT, "TREZOR");
    assert.equal(j2.identity.public_key, toHex(w.deriveEd25519(IDENTITY_PATH).publicKey));
    assert.notEqual(j2.identity.public_key, json.identity.public_key);

    const bad = await vault(["init", "--import", "--keystore", `${dir}/bad`], {
      stdin: ABOUT.replace("abandon abandon abandon", "abandon abandon abandonn"),
    });
    assert.equal(bad.code, 1);
    oneLineError(
      bad,
      /invalid mnemonic: word 3 \("abandonn"\) is not in the BIP39 English wordlist/,
    );
    const sum = await vault(["init", "--import", "--keystore", `${dir}/bad`], {
      stdin: ABOUT.replace("about", "abandon"),
    });
    assert.equal(sum.code, 1);
    oneLineError(sum, /bad checksum/);
    await assert.rejects(() => Deno.stat(`${dir}/bad`), Deno.errors.NotFound);
  });
});

Deno.test("vault derive: text, json (private only with --private), openssh; errors", async () => {
  await withDir(async (dir) => {
    const ks = `${dir}/ks`;
    assert.equal((await vault(["init", "--import", "--keystore", ks], { stdin: ABOUT })).code, 0);
    const v = new Vault();
    await v.unlock(ABOUT);
    const k = v.deriveEd25519("m/74'/9'");
    const pub = await vault(["derive", "m/74h/9h", "--keystore", ks, "--format", "json"]);
    assert.equal(pub.code, 0, pub.stderr);
    assert.deepEqual(JSON.parse(pub.stdout), {
      path: "m/74'/9'",
      curve: "ed25519",
      public_key: toHex(k.publicKey),
    });
    const priv = await vault([
      "derive",
      "m/74'/9'",
      "--keystore",
      ks,
      "--format",
      "json",
      "--private",
    ]);
    assert.deepEqual(JSON.parse(priv.stdout), {
      path: "m/74'/9'",
      curve: "ed25519",
      public_key: toHex(k.publicKey),
      private_key: toHex(k.privateKey),
    });
    const e = v.deriveSecp256k1(ETHEREUM_PATH);
    const sec = await vault([
      "derive",
      ETHEREUM_PATH,
      "--keystore",
      ks,
      "--curve",
      "secp256k1",
      "--format",
      "json",
    ]);
    assert.deepEqual(JSON.parse(sec.stdout), {
      path: ETHEREUM_PATH,
      curve: "secp256k1",
      public_key: toHex(e.publicKey),
    });
    const text = await vault(["derive", "m/74'/9'", "--keystore", ks]);
    assert.equal(text.code, 0);
    assert.ok(text.stdout.includes(toHex(k.publicKey)));
    assert.ok(!text.stdout.includes(toHex(k.privateKey)));
    const line = await vault(["derive", IDENTITY_PATH, "--keystore", ks, "--format", "openssh"]);
    assert.match(line.stdout, /^ssh-ed25519 AAAA\S+ m\/74'\/0'\/0'\/0'\n$/);
    const pem = await vault([
      "derive",
      IDENTITY_PATH,
      "--keystore",
      ks,
      "--format",
      "openssh",
      "--private",
    ]);
    assert.match(pem.stdout, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    await Deno.writeTextFile(`${dir}/k`, pem.stdout, { mode: 0o600 });
    const y = await run("ssh-keygen", ["-y", "-f", `${dir}/k`]);
    assert.equal(y.code, 0, y.stderr);
    assert.equal(
      y.stdout.trim().split(" ").slice(0, 2).join(" "),
      line.stdout.trim().split(" ").slice(0, 2).join(" "),
    );

    const unhardened = await vault(["derive", "m/74'/0", "--keystore", ks]);
    assert.equal(unhardened.code, 1);
    oneLineError(unhardened, /invalid derivation path "m\/74'\/0": segment 2 is not hardened/);
    const big = await vault(["derive", "m/2147483648'", "--keystore", ks]);
    assert.equal(big.code, 1);
    oneLineError(big, /below 2\^31 before hardening/);
    const usage = [
      ["derive", "--keystore", ks],
      ["derive", IDENTITY_PATH],
      ["derive", ETHEREUM_PATH, "--keystore", ks, "--curve", "secp256k1", "--format", "openssh"],
      ["derive", IDENTITY_PATH, "--keystore", ks, "--curve", "ed448"],
      ["derive", IDENTITY_PATH, "--keystore", ks, "--format", "xml"],
      ["derive", IDENTITY_PATH, "--keystore", ks, "--bogus"],
    ];
    for (const args of usage) {
      const r = await vault(args);
      assert.equal(r.code, 2, args.join(" "));
      oneLineError(r, /^alknet vault derive: .*\(see alknet vault --help\)$/);
    }
  });
});

Deno.test("vault encrypt / decrypt / rotate through pipes", async () => {
  await withDir(async (dir) => {
    const ks = `${dir}/ks`;
    assert.equal((await vault(["init", "--import", "--keystore", ks], { stdin: ABOUT })).code, 0);
    const secret = new Uint8Array(3000).map((_, i) => (i * 31 + 7) & 255);
    const enc = await vault(["encrypt", "--keystore", ks], { stdin: secret });
    assert.equal(enc.code, 0, enc.stderr);
    const blob = JSON.parse(enc.stdout);
    assert.deepEqual(Object.keys(blob), ["key_version", "salt", "iv", "data"]);
    assert.equal(blob.key_version, 2);
    const dec = await vault(["decrypt", "--keystore", ks], { stdin: enc.stdout });
    assert.equal(dec.code, 0, dec.stderr);
    assert.deepEqual(dec.bytes, secret);
    // The library opens what the CLI sealed.
    const v = new Vault();
    await v.unlock(ABOUT);
    assert.deepEqual(await v.decrypt(blob), secret);

    const v7 = await vault(["encrypt", "--keystore", ks, "--key-version", "7"], { stdin: "x" });
    assert.equal(JSON.parse(v7.stdout).key_version, 7);
    const rot = await vault(["rotate", "--keystore", ks, "--to", "3"], { stdin: enc.stdout });
    assert.equal(rot.code, 0, rot.stderr);
    assert.equal(JSON.parse(rot.stdout).key_version, 3);
    assert.deepEqual(
      (await vault(["decrypt", "--keystore", ks], { stdin: rot.stdout })).bytes,
      secret,
    );
    assert.deepEqual(
      (await vault(["decrypt", "--keystore", ks], { stdin: enc.stdout })).bytes,
      secret,
    );

    const tampered = { ...blob, data: (blob.data[0] === "A" ? "B" : "A") + blob.data.slice(1) };
    const bad = await vault(["decrypt", "--keystore", ks], { stdin: JSON.stringify(tampered) });
    assert.equal(bad.code, 1);
    oneLineError(
      bad,
      /^alknet vault decrypt: decryption failed: wrong key, or the data was modified$/,
    );
    const badIv = await vault(["decrypt", "--keystore", ks], {
      stdin: JSON.stringify({ ...blob, iv: "AAAA" }),
    });
    oneLineError(badIv, /iv must be 12 bytes, got 3/);
    const old = await vault(["decrypt", "--keystore", ks], {
      stdin: JSON.stringify({ ...blob, key_version: 1 }),
    });
    assert.equal(old.code, 1);
    oneLineError(old, /unsupported key version 1/);
    for (
      const args of [
        ["encrypt", "--keystore", ks, "--key-version", "1"],
        ["rotate", "--keystore", ks],
        ["rotate", "--keystore", ks, "--to", "x"],
        ["encrypt"],
      ]
    ) {
      const r = await vault(args, { stdin: "x" });
      assert.equal(r.code, 2, args.join(" "));
    }
  });
});

Deno.test("vault export-ssh: ssh-keygen reads the key; fingerprints match show-keys", async () => {
  await withDir(async (dir) => {
    const ks = `${dir}/ks`;
    assert.equal((await vault(["init", "--keystore", ks, "--words", "12"])).code, 0);
    const keys = JSON.parse(
      (await vault(["show-keys", "--keystore", ks, "--format", "json"])).stdout,
    );
    for (const which of ["identity", "host"] as const) {
      const f = `${dir}/id_${which}`;
      const r = await vault(["export-ssh", "--keystore", ks, "--key", which, "-f", f]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), keys[which].fingerprint);
      assert.equal((await Deno.stat(f)).mode! & 0o777, 0o600);
      const lf = await run("ssh-keygen", ["-lf", f]);
      assert.equal(lf.code, 0, lf.stderr);
      assert.equal(lf.stdout.split(" ")[1], keys[which].fingerprint);
      const lfPub = await run("ssh-keygen", ["-lf", `${f}.pub`]);
      assert.equal(lfPub.stdout.split(" ")[1], keys[which].fingerprint);
      const y = await run("ssh-keygen", ["-y", "-f", f]);
      assert.equal(y.code, 0, y.stderr);
      const [type, b64] = y.stdout.trim().split(" ");
      assert.equal(`${type} ${b64}`, keys[which].ssh_public_key.split(" ").slice(0, 2).join(" "));
      assert.equal((await Deno.readTextFile(`${f}.pub`)).trim(), keys[which].ssh_public_key);
    }
    const f = `${dir}/id_identity`;
    const before = await Deno.readTextFile(f);
    const again = await vault(["export-ssh", "--keystore", ks, "--key", "identity", "-f", f]);
    assert.equal(again.code, 1);
    oneLineError(again, /already exists \(use --force to overwrite\)/);
    assert.equal(await Deno.readTextFile(f), before);
    const forced = await vault([
      "export-ssh",
      "--keystore",
      ks,
      "--key",
      "host",
      "-f",
      f,
      "--force",
    ]);
    assert.equal(forced.code, 0);
    assert.equal(forced.stdout.trim(), keys.host.fingerprint);
    assert.equal(
      (await vault(["export-ssh", "--keystore", ks, "--key", "other", "-f", f])).code,
      2,
    );
    assert.equal((await vault(["export-ssh", "--keystore", ks, "--key", "host"])).code, 2);
  });
});

Deno.test("vault passphrase sources: env, --passphrase-fd, none; wrong passphrase; missing keystore", async () => {
  await withDir(async (dir) => {
    const ks = `${dir}/ks`;
    assert.equal(
      (await vault(["init", "--import", "--keystore", ks], {
        stdin: ABOUT,
        passphrase: "right one",
      }))
        .code,
      0,
    );
    const wrong = await vault(["show-keys", "--keystore", ks], { passphrase: "wrong" });
    assert.equal(wrong.code, 1);
    oneLineError(wrong, new RegExp(`^alknet vault show-keys: keystore ${ks}: wrong passphrase$`));
    const none = await vault(["show-keys", "--keystore", ks], { passphrase: null });
    assert.equal(none.code, 1);
    oneLineError(
      none,
      /no passphrase for keystore .*: set ALKNET_VAULT_PASSPHRASE, pass --passphrase-fd N, or run on a terminal/,
    );
    // --passphrase-fd: the first line read from fd 3.
    await Deno.writeTextFile(`${dir}/pass`, "right one\nignored\n");
    const env = { ...baseEnv() };
    const viaFd = await new Deno.Command("bash", {
      args: [
        "-c",
        `exec "$0" run -A "$1" vault show-keys --keystore "$2" --format json --passphrase-fd 3 3<"$3"`,
        Deno.execPath(),
        CLI,
        ks,
        `${dir}/pass`,
      ],
      clearEnv: true,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(viaFd.code, 0, new TextDecoder().decode(viaFd.stderr));
    assert.equal(
      JSON.parse(new TextDecoder().decode(viaFd.stdout)).ethereum.address,
      "0x9858EfFD232B4033E47d90003D41EC34EcaEda94",
    );
    for (const fd of ["200", "5"]) {
      // 200 is not open; 5 is one of the runtime's own descriptors (an event fd or socket).
      const badFd = await vault(["show-keys", "--keystore", ks, "--passphrase-fd", fd], {
        passphrase: null,
      });
      assert.equal(badFd.code, 1);
      oneLineError(
        badFd,
        new RegExp(`cannot read the passphrase from file descriptor ${fd}: it is not`),
      );
    }
    const missing = await vault(["show-keys", "--keystore", `${dir}/nope`]);
    assert.equal(missing.code, 1);
    oneLineError(missing, /keystore .*nope: no such file/);
    await Deno.writeTextFile(`${dir}/garbage`, "{not json");
    const corrupt = await vault(["show-keys", "--keystore", `${dir}/garbage`]);
    assert.equal(corrupt.code, 1);
    oneLineError(corrupt, /not a valid keystore: not JSON/);
    const usage = await vault(["show-keys"]);
    assert.equal(usage.code, 2);
    oneLineError(usage, /--keystore PATH is required/);
    assert.equal((await vault(["frobnicate"])).code, 2);
    assert.equal((await vault([])).code, 2);
    const help = await vault(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /export-ssh/);
  });
});

Deno.test("loadVaultKeys: identity and host seeds for serve/connect", async () => {
  await withDir(async (dir) => {
    const ks = `${dir}/ks`;
    assert.equal((await vault(["init", "--import", "--keystore", ks], { stdin: ABOUT })).code, 0);
    const keys = JSON.parse(
      (await vault(["show-keys", "--keystore", ks, "--format", "json"])).stdout,
    );
    const previous = Deno.env.get("ALKNET_VAULT_PASSPHRASE");
    Deno.env.set("ALKNET_VAULT_PASSPHRASE", "test pass");
    try {
      const { identitySeed, hostSeed } = await loadVaultKeys(ks);
      assert.equal(identitySeed.length, 32);
      assert.equal(toHex(ed25519.getPublicKey(identitySeed)), keys.identity.public_key);
      assert.equal(toHex(ed25519.getPublicKey(hostSeed)), keys.host.public_key);
      identitySeed.fill(0);
      hostSeed.fill(0);
      Deno.env.set("ALKNET_VAULT_PASSPHRASE", "nope");
      await assert.rejects(() => loadVaultKeys(ks), /wrong passphrase/);
    } finally {
      if (previous === undefined) Deno.env.delete("ALKNET_VAULT_PASSPHRASE");
      else Deno.env.set("ALKNET_VAULT_PASSPHRASE", previous);
    }
  });
});

Deno.test("vault prompts for the passphrase on a terminal, without echo (pty via script(1))", async () => {
  await withDir(async (dir) => {
    const ks = `${dir}/ks`;
    assert.equal(
      (await vault(["init", "--import", "--keystore", ks], {
        stdin: ABOUT,
        passphrase: "typed secret",
      }))
        .code,
      0,
    );
    const cmd =
      `"${Deno.execPath()}" run -A "${CLI}" vault show-keys --keystore "${ks}" --format json`;
    const child = new Deno.Command("script", {
      args: ["-qec", cmd, "/dev/null"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      clearEnv: true,
      env: baseEnv(), // no ALKNET_VAULT_PASSPHRASE
    }).spawn();
    const writer = child.stdin.getWriter();
    const reader = child.stdout.getReader();
    const dec = new TextDecoder();
    let seen = "";
    const deadline = setTimeout(() => child.kill("SIGKILL"), 30_000);
    try {
      while (!seen.includes("Passphrase for")) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += dec.decode(value, { stream: true });
      }
      assert.match(seen, /Passphrase for .*ks: /);
      await writer.write(new TextEncoder().encode("typed secret\r"));
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += dec.decode(value, { stream: true });
      }
      await writer.close().catch(() => {});
      const status = await child.status;
      await child.stderr.cancel();
      assert.equal(status.code, 0, seen);
    } finally {
      clearTimeout(deadline);
    }
    assert.ok(!seen.includes("typed secret"), "the passphrase was echoed");
    const json = JSON.parse(seen.slice(seen.indexOf("{")).replaceAll("\r\n", "\n"));
    assert.equal(json.ethereum.address, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
  });
});

Deno.test("vault init --mnemonic-fd and --passphrase-fd (no environment, no terminal)", async () => {
  await withDir(async (dir) => {
    const ks = `${dir}/ks`;
    await Deno.writeTextFile(`${dir}/phrase`, ABOUT + "\n");
    await Deno.writeTextFile(`${dir}/pass`, "fd pass\n");
    const out = await new Deno.Command("bash", {
      args: [
        "-c",
        `exec "$0" run -A "$1" vault init --keystore "$2" --mnemonic-fd 4 --passphrase-fd 3 3<"$3" 4<"$4"`,
        Deno.execPath(),
        CLI,
        ks,
        `${dir}/pass`,
        `${dir}/phrase`,
      ],
      clearEnv: true,
      env: baseEnv(),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout), ""); // an imported phrase is not echoed
    const shown = await vault(["show-keys", "--keystore", ks, "--format", "json"], {
      passphrase: "fd pass",
    });
    assert.equal(
      JSON.parse(shown.stdout).ethereum.address,
      "0x9858EfFD232B4033E47d90003D41EC34EcaEda94",
    );
    const both = await vault([
      "init",
      "--keystore",
      `${dir}/x`,
      "--mnemonic-fd",
      "4",
      "--words",
      "12",
    ]);
    assert.equal(both.code, 2);
  });
});
