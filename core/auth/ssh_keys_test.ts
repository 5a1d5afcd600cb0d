import assert from "node:assert/strict";
import {
  ed25519PublicBlob,
  encodeOpenSshPrivateKey,
  fingerprint,
  generateEd25519Key,
  KeyError,
  parsePrivateKey,
  parsePublicKeyLine,
  publicKeyLine,
} from "./ssh_keys.ts";

Deno.test("generated keys round-trip and fingerprints agree", () => {
  const k = generateEd25519Key("me@host");
  const priv = parsePrivateKey(k.privateText, "generated");
  assert.equal(priv.type, "ssh-ed25519");
  assert.equal(priv.comment, "me@host");
  assert.equal(priv.fingerprint, k.fingerprint);
  const pub = parsePublicKeyLine(k.publicLine, "generated.pub");
  assert.equal(fingerprint(pub.blob), k.fingerprint);
  assert.equal(publicKeyLine(pub.blob, "me@host"), k.publicLine);
  assert.equal(
    encodeOpenSshPrivateKey(priv.seed!, "me@host").split("\n")[0],
    "-----BEGIN OPENSSH PRIVATE KEY-----",
  );
});

Deno.test("fingerprint of a known key (RFC 8032 test 1 public key)", () => {
  const hex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  const pub = new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  const blob = ed25519PublicBlob(pub);
  assert.equal(blob.length, 51);
  // The value `ssh-keygen -lf` prints for this key.
  assert.equal(fingerprint(blob), "SHA256:bbXpuKG6zhzdmnxq256TlqzFBzRl2f6OOg722cYNbU8");
});

Deno.test("OpenSSH reads our private keys and we read OpenSSH's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const k = generateEd25519Key("interop");
    await Deno.writeTextFile(`${dir}/ours`, k.privateText, { mode: 0o600 });
    const y = await new Deno.Command("ssh-keygen", { args: ["-y", "-f", `${dir}/ours`] }).output();
    assert.equal(y.code, 0, new TextDecoder().decode(y.stderr));
    assert.equal(new TextDecoder().decode(y.stdout).trim(), k.publicLine);
    const g = await new Deno.Command("ssh-keygen", {
      args: ["-q", "-t", "ed25519", "-N", "", "-C", "theirs", "-f", `${dir}/theirs`],
    }).output();
    assert.equal(g.code, 0);
    const theirs = parsePrivateKey(await Deno.readTextFile(`${dir}/theirs`), "theirs");
    const l = await new Deno.Command("ssh-keygen", { args: ["-lf", `${dir}/theirs`] }).output();
    assert.equal(new TextDecoder().decode(l.stdout).split(" ")[1], theirs.fingerprint);
    assert.equal(theirs.comment, "theirs");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad key text gives a KeyError that says what is wrong", () => {
  const cases: [string, string, RegExp][] = [
    ["", "malformed", /not an OpenSSH private key/],
    ["hello", "malformed", /not an OpenSSH private key/],
    ["ssh-ed25519 AAAA x", "unsupported", /this is a public key/],
    [
      "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----",
      "pem-format",
      /PEM key/,
    ],
    [
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----",
      "encrypted",
      /passphrase-protected/,
    ],
    ["-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n", "malformed", /missing END/],
    [
      "-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n-----END OPENSSH PRIVATE KEY-----",
      "malformed",
      /base64/,
    ],
    [
      "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
      "malformed",
      /header/,
    ],
  ];
  for (const [text, kind, re] of cases) {
    assert.throws(
      () => parsePrivateKey(text, "k"),
      (e: unknown) => e instanceof KeyError && e.kind === kind && re.test(e.message),
      text.slice(0, 30),
    );
  }
  // Truncated body: every prefix of a real key fails cleanly.
  const text = generateEd25519Key().privateText;
  const body = text.split("\n").slice(1, -2).join("");
  for (let n = 20; n < body.length; n += 7) {
    const cut = `-----BEGIN OPENSSH PRIVATE KEY-----\n${
      body.slice(0, n - (n % 4))
    }\n-----END OPENSSH PRIVATE KEY-----`;
    assert.throws(() => parsePrivateKey(cut, "cut"), KeyError);
  }
  assert.throws(
    () => parsePublicKeyLine("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIA==", "p"),
    /does not match/,
  );
  assert.throws(() => parsePublicKeyLine("ssh-ed25519", "p"), KeyError);
});
