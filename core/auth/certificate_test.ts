import assert from "node:assert/strict";
import { AuthorizedKeysAuthenticator } from "./authenticator.ts";
import { CertificateError, checkCertificate, parseCertificate } from "./certificate.ts";
import type { SshAuthDecision, SshAuthRequest } from "./identity.ts";
import { fingerprint as fingerprintOf } from "./ssh_keys.ts";
import { ecdsaKey, ed25519Key, prng, type TestKey } from "./fixtures_test.ts";

const DATA = new TextEncoder().encode("userauth data");
const IN_WINDOW = Date.UTC(2030, 0, 15);

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (out.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

interface Setup {
  dir: string;
  caLine: (opts?: string) => string;
  /** Signs `user` with ssh-keygen -s and returns the certificate blob. */
  cert: (user: TestKey, args: string[]) => Promise<Uint8Array>;
}

async function withCa(caType: string, fn: (s: Setup) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "alknet-cert-" });
  try {
    await run("ssh-keygen", ["-q", "-t", caType, "-N", "", "-C", "ca", "-f", `${dir}/ca`]);
    const caPub = (await Deno.readTextFile(`${dir}/ca.pub`)).trim();
    let n = 0;
    await fn({
      dir,
      caLine: (opts) => (opts ? `${opts} ` : "") + caPub,
      cert: async (user, args) => {
        const path = `${dir}/user${n++}`;
        await Deno.writeTextFile(`${path}.pub`, user.line("user") + "\n");
        await run("ssh-keygen", ["-q", "-s", `${dir}/ca`, ...args, `${path}.pub`]);
        const text = (await Deno.readTextFile(`${path}-cert.pub`)).trim().split(/\s+/)[1];
        return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
      },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const VALID = ["-I", "alice-laptop", "-n", "alice,ops", "-V", "20300101:20300201"];

function auth(lines: string, now = IN_WINDOW) {
  return AuthorizedKeysAuthenticator.fromText(lines, "ak", (m) => {
    throw new Error(m);
  }, { now: () => now });
}

function certReq(
  user: TestKey,
  cert: Uint8Array,
  extra: Partial<SshAuthRequest> = {},
): SshAuthRequest {
  return {
    algo: `${user.type}-cert-v01@openssh.com`,
    key: cert,
    username: "alice",
    remoteAddress: "127.0.0.1",
    remotePort: 5555,
    ...extra,
  };
}

function refused(d: SshAuthDecision, why: RegExp): void {
  assert.equal(d.ok, false);
  if (!d.ok) assert.match(d.reason, why);
}

Deno.test("certificate: ssh-keygen -s certificate parses with every field", async () => {
  await withCa("ed25519", async (s) => {
    const user = ed25519Key(21);
    const blob = await s.cert(user, [...VALID, "-z", "77", "-O", "source-address=127.0.0.1/32"]);
    const c = parseCertificate(blob);
    assert.equal(c.type, "ssh-ed25519-cert-v01@openssh.com");
    assert.deepEqual(c.key.blob, user.blob);
    assert.equal(c.serial, 77n);
    assert.equal(c.certType, 1);
    assert.equal(c.keyId, "alice-laptop");
    assert.deepEqual(c.principals, ["alice", "ops"]);
    assert.equal(c.validAfter, BigInt(new Date(2030, 0, 1).getTime() / 1000));
    assert.equal(c.criticalOptions.get("source-address"), "127.0.0.1/32");
    assert.ok(c.extensions.has("permit-port-forwarding"));
    assert.ok(c.extensions.has("permit-pty"));
    const grant = checkCertificate(c, {
      nowSeconds: IN_WINDOW / 1000,
      remoteAddress: "127.0.0.1",
      principals: ["ops"],
    });
    assert.equal(grant.portForwarding, true);
  });
});

Deno.test("certificate: valid certificate authenticates (method cert, certified key id)", async () => {
  await withCa("ed25519", async (s) => {
    const user = ed25519Key(22);
    const blob = await s.cert(user, VALID);
    const a = auth(s.caLine('cert-authority,principals="ops",alknet-scopes="relay:connect,team"'));
    const d = a.authorize(certReq(user, blob));
    assert.ok(d.ok, d.ok ? "" : d.reason);
    assert.equal(d.method, "cert");
    assert.equal(d.certKeyId, "alice-laptop");
    assert.equal(d.fingerprint, fingerprintOf(user.blob));
    assert.equal(d.identity.id, fingerprintOf(user.blob));
    assert.deepEqual(d.identity.scopes, ["relay:connect", "team"]);
    assert.equal(d.restrictions.noPortForwarding, false);
    assert.equal(
      d.verify(DATA, user.signWire(DATA)),
      true,
      "ssh2 passes the wrapped signature for certs",
    );
    assert.equal(d.verify(DATA, user.sign(DATA)), true);
    assert.equal(d.verify(DATA, ed25519Key(23).sign(DATA)), false);
  });
});

Deno.test("certificate: without principals= the user name must be a principal", async () => {
  await withCa("ed25519", async (s) => {
    const user = ed25519Key(24);
    const blob = await s.cert(user, VALID);
    const a = auth(s.caLine("cert-authority"));
    assert.ok(a.authorize(certReq(user, blob, { username: "alice" })).ok);
    refused(a.authorize(certReq(user, blob, { username: "mallory" })), /principals \[alice,ops\]/);
  });
});

Deno.test("certificate: expired and not yet valid (injected clock)", async () => {
  await withCa("ed25519", async (s) => {
    const user = ed25519Key(25);
    const blob = await s.cert(user, VALID);
    const line = s.caLine('cert-authority,principals="alice"');
    refused(auth(line, Date.UTC(2029, 11, 30)).authorize(certReq(user, blob)), /not valid yet/);
    refused(auth(line, Date.UTC(2030, 1, 3)).authorize(certReq(user, blob)), /has expired/);
  });
});

Deno.test("certificate: wrong principal is refused", async () => {
  await withCa("ed25519", async (s) => {
    const user = ed25519Key(26);
    const blob = await s.cert(user, VALID);
    refused(
      auth(s.caLine('cert-authority,principals="root,admin"')).authorize(certReq(user, blob)),
      /do not include an allowed one/,
    );
  });
});

Deno.test("certificate: unknown CA is refused; CA must be a cert-authority line", async () => {
  await withCa("ed25519", async (s) => {
    const user = ed25519Key(27);
    const blob = await s.cert(user, VALID);
    const c = parseCertificate(blob);
    refused(auth(ed25519Key(28).line()).authorize(certReq(user, blob)), /not trusted/);
    // The CA listed as a plain key does not make it a CA.
    refused(
      auth(s.caLine("")).authorize(certReq(user, blob)),
      new RegExp(c.caKey.fingerprint.replace(/[+/]/g, ".")),
    );
  });
});

Deno.test("certificate: without permit-port-forwarding the session may not forward", async () => {
  await withCa("ed25519", async (s) => {
    const user = ed25519Key(29);
    const blob = await s.cert(user, [...VALID, "-O", "clear", "-O", "permit-pty"]);
    const d = auth(s.caLine('cert-authority,principals="alice"')).authorize(certReq(user, blob));
    assert.ok(d.ok);
    assert.equal(d.restrictions.noPortForwarding, true);
  });
});

Deno.test("certificate: force-command grants no tunnel", async () => {
  await withCa("ed25519", async (s) => {
    const user = ed25519Key(30);
    const blob = await s.cert(user, [...VALID, "-O", "force-command=/usr/bin/true"]);
    const d = auth(s.caLine('cert-authority,principals="alice"')).authorize(certReq(user, blob));
    assert.ok(d.ok);
    assert.equal(d.restrictions.noPortForwarding, true);
  });
});

Deno.test("certificate: source-address is enforced", async () => {
  await withCa("ed25519", async (s) => {
    const user = ed25519Key(31);
    const blob = await s.cert(user, [...VALID, "-O", "source-address=10.0.0.0/8,::1"]);
    const a = auth(s.caLine('cert-authority,principals="alice"'));
    refused(a.authorize(certReq(user, blob)), /source-address does not allow 127\.0\.0\.1/);
    assert.ok(a.authorize(certReq(user, blob, { remoteAddress: "10.2.3.4" })).ok);
    assert.ok(a.authorize(certReq(user, blob, { remoteAddress: "::1" })).ok);
  });
});

Deno.test("certificate: CA line options (from=, no-port-forwarding, permitopen) apply", async () => {
  await withCa("ed25519", async (s) => {
    const user = ed25519Key(32);
    const blob = await s.cert(user, VALID);
    const a = auth(
      s.caLine('cert-authority,principals="alice",from="10.0.0.0/8",permitopen="db:5432"'),
    );
    refused(a.authorize(certReq(user, blob)), /from= does not allow/);
    const d = a.authorize(certReq(user, blob, { remoteAddress: "10.0.0.9" }));
    assert.ok(d.ok);
    assert.deepEqual(d.restrictions, { noPortForwarding: false, permitOpen: ["db:5432"] });
    const b = auth(s.caLine('cert-authority,no-port-forwarding,principals="alice"'));
    const d2 = b.authorize(certReq(user, blob));
    assert.ok(d2.ok && d2.restrictions.noPortForwarding);
  });
});

Deno.test("certificate: ECDSA and RSA CAs, ECDSA user certificate", async () => {
  for (const caType of ["ecdsa", "rsa"]) {
    await withCa(caType, async (s) => {
      const user = ed25519Key(33);
      const blob = await s.cert(user, VALID);
      const a = auth(s.caLine('cert-authority,principals="alice"'));
      const d = a.authorize(certReq(user, blob));
      assert.ok(d.ok, `${caType}: ${d.ok ? "" : d.reason}`);
      const ec = ecdsaKey(256);
      const ecBlob = await s.cert(ec, VALID);
      const d2 = a.authorize(certReq(ec, ecBlob));
      assert.ok(d2.ok, `${caType} ecdsa user: ${d2.ok ? "" : d2.reason}`);
      assert.equal(d2.verify(DATA, ec.signWire(DATA)), true);
    });
  }
});

Deno.test("certificate: tampered certificates and host certificates are refused, never throw", async () => {
  await withCa("ed25519", async (s) => {
    const user = ed25519Key(34);
    const blob = await s.cert(user, VALID);
    const a = auth(s.caLine('cert-authority,principals="alice"'));
    const tampered = blob.slice();
    tampered[tampered.length - 70] ^= 1; // inside the CA public key or signature
    assert.equal(a.authorize(certReq(user, tampered)).ok, false);
    const hostCert = await s.cert(user, [...VALID, "-h"]);
    refused(a.authorize(certReq(user, hostCert)), /not a user certificate/);
    refused(a.authorize(certReq(user, blob, { algo: "ssh-ed25519" })), /does not fit/);
    const rand = prng(7);
    for (let i = 0; i < 1500; i++) {
      const b = blob.slice(0, Math.floor(rand() * (blob.length + 1)));
      for (let j = 0; j < 2; j++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      const d = a.authorize(certReq(user, b));
      assert.equal(typeof d.ok, "boolean");
    }
    assert.throws(() => parseCertificate(user.blob), CertificateError);
  });
});
