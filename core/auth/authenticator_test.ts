import assert from "node:assert/strict";
import { AuthorizedKeysAuthenticator, AuthorizedKeysFileError } from "./authenticator.ts";
import type { SshAuthDecision, SshAuthRequest } from "./identity.ts";
import { fingerprint as fingerprintOf } from "./ssh_keys.ts";
import { ecdsaKey, ed25519Key, prng, rsaKey, type TestKey } from "./fixtures_test.ts";

const DATA = new TextEncoder().encode("session id and userauth request");

function req(k: TestKey | Uint8Array, extra: Partial<SshAuthRequest> = {}): SshAuthRequest {
  const key = k instanceof Uint8Array ? k : k.blob;
  return {
    algo: k instanceof Uint8Array ? "ssh-ed25519" : k.type,
    key,
    username: "anyone",
    remoteAddress: "127.0.0.1",
    remotePort: 40000,
    ...extra,
  };
}

function accepted(d: SshAuthDecision) {
  if (!d.ok) throw new assert.AssertionError({ message: `refused: ${d.reason}` });
  return d;
}

Deno.test("authenticator: listed ed25519 key is accepted and its signature verified", () => {
  const k = ed25519Key(5);
  const auth = AuthorizedKeysAuthenticator.fromText(k.line(), "ak");
  const d = accepted(auth.authorize(req(k)));
  assert.equal(d.method, "publickey");
  assert.equal(d.fingerprint, fingerprintOf(k.blob));
  assert.deepEqual(d.identity, { id: d.fingerprint, scopes: ["relay:connect"], resources: {} });
  assert.deepEqual(d.restrictions, { noPortForwarding: false });
  assert.equal(d.verify(DATA, k.sign(DATA)), true);
  assert.equal(d.verify(DATA, k.signWire(DATA)), true, "SSH signature blob form");
  assert.equal(d.verify(new Uint8Array(3), k.sign(DATA)), false, "other data");
  assert.equal(d.verify(DATA, ed25519Key(6).sign(DATA)), false, "other key");
  assert.equal(d.verify(DATA, new Uint8Array(10)), false, "garbage signature");
  assert.equal(auth.resolveFingerprint(d.fingerprint)?.id, d.fingerprint);
});

Deno.test("authenticator: unknown key is refused with its fingerprint", () => {
  const auth = AuthorizedKeysAuthenticator.fromText(ed25519Key(5).line(), "ak");
  const other = ed25519Key(9);
  const d = auth.authorize(req(other));
  assert.equal(d.ok, false);
  assert.equal(d.fingerprint, fingerprintOf(other.blob));
  assert.equal(auth.resolveFingerprint(d.fingerprint!), null);
});

Deno.test("authenticator: ECDSA keys verify DER (ssh2) and SSH-form signatures", () => {
  for (const bits of [256, 384, 521] as const) {
    const k = ecdsaKey(bits);
    const auth = AuthorizedKeysAuthenticator.fromText(k.line(), "ak");
    const d = accepted(auth.authorize(req(k)));
    assert.equal(d.verify(DATA, k.sign(DATA)), true, `DER p${bits}`);
    assert.equal(d.verify(DATA, k.signWire(DATA)), true, `wire p${bits}`);
    assert.equal(d.verify(DATA.subarray(1), k.sign(DATA)), false);
  }
});

Deno.test("authenticator: RSA with rsa-sha2-256/512; SHA-1 refused", () => {
  const k = rsaKey();
  const auth = AuthorizedKeysAuthenticator.fromText(k.line(), "ak");
  const d256 = accepted(auth.authorize(req(k, { algo: "rsa-sha2-256" })));
  assert.equal(d256.verify(DATA, k.sign(DATA, "sha256"), "sha256"), true);
  assert.equal(d256.verify(DATA, k.sign(DATA, "sha512"), "sha512"), true);
  assert.equal(d256.verify(DATA, k.signWire(DATA, "sha512")), true);
  assert.equal(d256.verify(DATA, k.sign(DATA, "sha256"), "sha512"), false);
  assert.equal(d256.verify(DATA, k.sign(DATA, "sha256")), false, "no hash named = ssh-rsa SHA-1");
  accepted(auth.authorize(req(k, { algo: "rsa-sha2-512" })));
});

Deno.test("authenticator: algorithm must fit the key type", () => {
  const k = ed25519Key(5);
  const auth = AuthorizedKeysAuthenticator.fromText(k.line(), "ak");
  const d = auth.authorize(req(k, { algo: "ssh-rsa" }));
  assert.equal(d.ok, false);
  assert.match(d.ok ? "" : d.reason, /does not fit/);
});

Deno.test("authenticator: from= decides by client address; first fitting line wins", () => {
  const k = ed25519Key(5);
  const auth = AuthorizedKeysAuthenticator.fromText(
    `from="10.0.0.0/8",alknet-scopes="inside" ${k.line()}\nfrom="127.0.0.1,::1" ${k.line()}`,
    "ak",
  );
  assert.deepEqual(
    accepted(auth.authorize(req(k, { remoteAddress: "10.1.1.1" }))).identity.scopes,
    [
      "inside",
    ],
  );
  assert.deepEqual(accepted(auth.authorize(req(k))).identity.scopes, ["relay:connect"]);
  accepted(auth.authorize(req(k, { remoteAddress: "::1" })));
  const d = auth.authorize(req(k, { remoteAddress: "192.0.2.1" }));
  assert.equal(d.ok, false);
  assert.match(d.ok ? "" : d.reason, /from= does not allow 192\.0\.2\.1 \(ak:2\)/);
});

Deno.test("authenticator: expiry-time uses the injected clock", () => {
  const k = ed25519Key(5);
  let now = Date.UTC(2030, 0, 1, 23, 59, 59);
  const auth = AuthorizedKeysAuthenticator.fromText(
    `expiry-time="20300102Z" ${k.line()}`,
    "ak",
    undefined,
    { now: () => now },
  );
  accepted(auth.authorize(req(k)));
  now = Date.UTC(2030, 0, 2);
  const d = auth.authorize(req(k));
  assert.equal(d.ok, false);
  assert.match(d.ok ? "" : d.reason, /expired/);
});

Deno.test("authenticator: scopes and restrictions come from the line", () => {
  const k = ed25519Key(5);
  const auth = AuthorizedKeysAuthenticator.fromText(
    `alknet-scopes="relay:connect,call:admin",permitopen="db:5432",permitlisten="8080",no-port-forwarding ${k.line()}`,
    "ak",
  );
  const d = accepted(auth.authorize(req(k)));
  assert.deepEqual(d.identity.scopes, ["relay:connect", "call:admin"]);
  assert.deepEqual(d.restrictions, {
    noPortForwarding: true,
    permitOpen: ["db:5432"],
    permitListen: ["8080"],
  });
});

Deno.test("authenticator: a CA key offered as a plain key is not accepted", () => {
  const k = ed25519Key(5);
  const auth = AuthorizedKeysAuthenticator.fromText(`cert-authority ${k.line()}`, "ak");
  assert.equal(auth.authorize(req(k)).ok, false);
});

Deno.test("authenticator: fromFile reads a file and names a missing one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const k = ed25519Key(5);
    const warnings: string[] = [];
    await Deno.writeTextFile(`${dir}/ak`, `${k.line()}\nbad-option ${k.line()}\n`);
    const auth = await AuthorizedKeysAuthenticator.fromFile(`${dir}/ak`, (m) => warnings.push(m));
    assert.equal(auth.entries.length, 1);
    assert.deepEqual(warnings, [`${dir}/ak:2: unknown option 'bad-option'; line skipped`]);
    await assert.rejects(
      AuthorizedKeysAuthenticator.fromFile(`${dir}/missing`),
      (e: unknown) =>
        e instanceof AuthorizedKeysFileError && e.path === `${dir}/missing` &&
        /no such file/.test(e.message),
    );
    await assert.rejects(AuthorizedKeysAuthenticator.fromFile(dir), AuthorizedKeysFileError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("authenticator: hostile key blobs never throw", () => {
  const k = ed25519Key(5);
  const auth = AuthorizedKeysAuthenticator.fromText(
    `${k.line()}\ncert-authority ${ed25519Key(6).line()}`,
    "ak",
  );
  const rand = prng(99);
  for (let i = 0; i < 2000; i++) {
    const blob = k.blob.slice(0, Math.floor(rand() * (k.blob.length + 8)));
    for (let j = 0; j < 3; j++) blob[Math.floor(rand() * blob.length)] = Math.floor(rand() * 256);
    const d = auth.authorize(req(blob, { algo: rand() < 0.5 ? "ssh-ed25519" : "x" }));
    assert.equal(typeof d.ok, "boolean");
  }
  assert.equal(auth.authorize(req(new Uint8Array(0))).ok, false);
  assert.equal(
    auth.authorize(req(new TextEncoder().encode("\0\0\0\x20ssh-ed25519-cert-v01@openssh.com")))
      .ok,
    false,
  );
});
