// Property-based fuzzing of OpenSSH user certificates: parseCertificate on
// raw, mutated and length-lying blobs; build -> parse round trips; and
// checkCertificate against an oracle written from PROTOCOL.certkeys.
import assert from "node:assert/strict";
import {
  applyByteMutation,
  byteMutations,
  EXTREME_U32,
  fc,
  type FuzzCase,
  fuzzTests,
  lieAboutLength,
  outcome,
  rawBytes,
  reasonOf,
} from "../../tests/fuzz_util.ts";
import { cidrContains, parseCidr } from "../transport/addr.ts";
import {
  type CertificateCheck,
  CertificateError,
  checkCertificate,
  parseCertificate,
  SSH_CERT_TYPE_USER,
  type SshCertificate,
} from "./certificate.ts";
import { ed25519Key } from "./fixtures_test.ts";
import { KEYS } from "./fuzz_fixtures_test.ts";
import { SshReader, SshWriter } from "./ssh_wire.ts";

const CODES = new Set([
  "malformed",
  "unsupported",
  "bad-signature",
  "not-user-cert",
  "not-yet-valid",
  "expired",
  "principal",
  "source-address",
  "critical-option",
]);
const CAS = [ed25519Key(7), ed25519Key(8)];
const T0 = 1_800_000_000n;

interface CertSpec {
  key: number;
  nonce: Uint8Array;
  serial: bigint;
  certType: number;
  keyId: string;
  principals: string[];
  validAfter: bigint;
  validBefore: bigint;
  critical: [string, string][];
  extensions: [string, string][];
  ca: number;
}

/** The certified key's fields: the plain blob without its type string. */
function keyFields(blob: Uint8Array): Uint8Array {
  const r = new SshReader(blob);
  r.readString();
  return blob.subarray(r.offset);
}

function packOptions(
  opts: [string, string][],
  lengths: number[],
  base: number,
): Uint8Array {
  const inner = new SshWriter();
  for (const [name, value] of opts) {
    lengths.push(base + inner.length);
    inner.writeString(name);
    lengths.push(base + inner.length);
    inner.writeString(
      value === "" ? new Uint8Array(0) : new SshWriter().writeString(value).toBytes(),
    );
  }
  return inner.toBytes();
}

/** Builds and signs a certificate; returns the blob and the offsets of its length fields. */
function buildCert(s: CertSpec): { blob: Uint8Array; lengths: number[]; signedEnd: number } {
  const key = KEYS[s.key];
  const w = new SshWriter();
  const lengths: number[] = [];
  const str = (b: Uint8Array | string) => {
    lengths.push(w.length);
    w.writeString(b);
  };
  str(`${key.type}-cert-v01@openssh.com`);
  str(s.nonce);
  w.writeBytes(keyFields(key.blob));
  w.writeUint64(s.serial);
  w.writeUint32(s.certType);
  str(s.keyId);
  const p = new SshWriter();
  for (const name of s.principals) p.writeString(name);
  str(p.toBytes());
  w.writeUint64(s.validAfter);
  w.writeUint64(s.validBefore);
  str(packOptions(s.critical, lengths, w.length + 4));
  str(packOptions(s.extensions, lengths, w.length + 4));
  str(new Uint8Array(0));
  str(CAS[s.ca].blob);
  const signedEnd = w.length;
  const signed = w.toBytes();
  str(CAS[s.ca].signWire(signed));
  return { blob: w.toBytes(), lengths, signedEnd };
}

const optionList = (names: string[], values: fc.Arbitrary<string>) =>
  fc.dictionary(fc.constantFrom(...names), values, { maxKeys: 3 }).map((d) =>
    Object.entries(d).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  );

const sourceAddress = fc.array(
  fc.constantFrom(
    "127.0.0.1",
    "10.0.0.0/8",
    "192.168.1.0/24",
    "::1",
    "fd00::/8",
    "0.0.0.0/0",
    "bogus",
    "10.0.0.0/33",
    "",
    " 127.0.0.1 ",
  ),
  { minLength: 1, maxLength: 3 },
).map((a) => a.join(","));

const certSpec: fc.Arbitrary<CertSpec> = fc.record({
  key: fc.integer({ min: 0, max: KEYS.length - 1 }),
  nonce: fc.uint8Array({ maxLength: 32 }),
  serial: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  certType: fc.oneof(
    { weight: 6, arbitrary: fc.constant(SSH_CERT_TYPE_USER) },
    fc.constantFrom(2, 0, 0xffffffff),
  ),
  keyId: fc.string({ unit: "binary", maxLength: 30 }),
  principals: fc.array(fc.constantFrom("alice", "bob", "root", "ü"), { maxLength: 3 }),
  validAfter: fc.oneof(fc.bigInt({ min: T0 - 1000n, max: T0 + 1000n }), fc.constant(0n)),
  validBefore: fc.oneof(
    fc.bigInt({ min: T0 - 1000n, max: T0 + 1000n }),
    fc.constant(2n ** 64n - 1n),
  ),
  critical: fc.oneof(
    { weight: 3, arbitrary: fc.constant([] as [string, string][]) },
    optionList(["source-address"], sourceAddress),
    optionList(
      ["force-command", "source-address", "verify-required"],
      fc.oneof(sourceAddress, fc.string()),
    ),
  ),
  extensions: optionList(
    ["permit-port-forwarding", "permit-pty", "permit-X11-forwarding", "no-touch-required"],
    fc.constant(""),
  ),
  ca: fc.integer({ min: 0, max: CAS.length - 1 }),
});

const check: fc.Arbitrary<CertificateCheck> = fc.record({
  nowSeconds: fc.oneof(
    fc.integer({ min: Number(T0) - 2000, max: Number(T0) + 2000 }),
    fc.double({ min: 0, max: 2 ** 53, noNaN: true }),
  ),
  remoteAddress: fc.constantFrom(
    "127.0.0.1",
    "10.1.2.3",
    "192.168.1.9",
    "::1",
    "fd00::5",
    "8.8.8.8",
    "junk",
  ),
  principals: fc.option(fc.array(fc.constantFrom("alice", "bob", "carol"), { maxLength: 2 }), {
    nil: undefined,
  }),
  allowEmptyPrincipals: fc.option(fc.boolean(), { nil: undefined }),
}, { requiredKeys: ["nowSeconds", "remoteAddress"] });

/** What checkCertificate must decide for a correctly signed certificate. */
function oracle(s: CertSpec, c: CertificateCheck): string {
  if (s.certType !== SSH_CERT_TYPE_USER) return "not-user-cert";
  const now = BigInt(Math.floor(c.nowSeconds));
  if (now < s.validAfter) return "not-yet-valid";
  if (now >= s.validBefore) return "expired";
  if (s.principals.length === 0) {
    if (c.allowEmptyPrincipals === false) return "principal";
  } else if (c.principals && !s.principals.some((p) => c.principals!.includes(p))) {
    return "principal";
  }
  const crit = new Map(s.critical);
  for (const name of crit.keys()) {
    if (name !== "force-command" && name !== "source-address") return "critical-option";
  }
  const src = crit.get("source-address");
  if (src !== undefined) {
    let ok = false;
    for (const raw of src.split(",")) {
      const item = raw.trim();
      let cidr;
      try {
        cidr = parseCidr(item.includes("/") ? item : `${item}/${item.includes(":") ? 128 : 32}`);
      } catch {
        return "source-address";
      }
      if (cidrContains(cidr, c.remoteAddress)) ok = true;
    }
    if (!ok) return "source-address";
  }
  return "ok";
}

function checkParsed(blob: Uint8Array): SshCertificate | CertificateError {
  const r = outcome(() => parseCertificate(blob), [CertificateError]);
  if (!r.ok) {
    const code = reasonOf(r.error);
    assert.ok(code === "malformed" || code === "unsupported", code);
    return r.error as CertificateError;
  }
  const cert = r.value;
  assert.ok(cert.signedData.length < blob.length);
  assert.deepEqual(cert.signedData, blob.subarray(0, cert.signedData.length));
  return cert;
}

function checkChecked(cert: SshCertificate, c: CertificateCheck) {
  const r = outcome(() => checkCertificate(cert, c), [CertificateError]);
  if (!r.ok) assert.ok(CODES.has(reasonOf(r.error)));
  return r;
}

// Signing costs an Ed25519 operation: sign a pool once for the mutation properties.
const POOL = fc.sample(certSpec, { numRuns: 24, seed: 42 }).map((s) => ({
  spec: s,
  ...buildCert(s),
}));
const pooled = fc.constantFrom(...POOL);

/** A pooled certificate with edits, one length field rewritten, or a bit flipped outside the length fields. */
const mutatedCert = fc.oneof(
  fc.tuple(pooled, fc.nat(), fc.integer({ min: 0, max: 7 })).map(([p, at, bit]) => {
    const inLength = (i: number) => p.lengths.some((o) => i >= o && i < o + 4);
    let i = at % p.blob.length;
    while (inLength(i)) i = (i + 4) % p.blob.length;
    const blob = p.blob.slice();
    blob[i] ^= 1 << bit;
    return { p, blob };
  }),
  fc.tuple(pooled, byteMutations).map(([p, ms]) => ({
    p,
    blob: ms.reduce(applyByteMutation, p.blob),
  })),
  fc.tuple(
    pooled,
    fc.nat(),
    fc.oneof(fc.constantFrom(...EXTREME_U32), fc.integer({ min: -3, max: 3 })),
  )
    .map(([p, i, v]) => {
      const at = p.lengths[i % p.lengths.length];
      const len = new DataView(p.blob.buffer, p.blob.byteOffset + at, 4).getUint32(0);
      return { p, blob: lieAboutLength(p.blob, at, v >= -3 && v <= 3 && v !== 0 ? len + v : v) };
    }),
);

export const cases: FuzzCase[] = [
  {
    name: "certificate: raw bytes give CertificateError (malformed or unsupported)",
    runs: 1400,
    property: fc.property(
      fc.oneof(
        rawBytes,
        rawBytes.map((b) =>
          new SshWriter().writeString("ssh-ed25519-cert-v01@openssh.com").writeBytes(b).toBytes()
        ),
      ),
      (b) => void checkParsed(b),
    ),
  },
  {
    name:
      "certificate: mutated and length-lying certificates parse or fail typed, and never pass the check once altered",
    runs: 850,
    property: fc.property(mutatedCert, check, ({ p, blob }, c) => {
      const cert = checkParsed(blob);
      if (cert instanceof Error) return;
      const r = checkChecked(cert, c);
      if (r.ok) {
        // Accepted: the signed bytes and the signature are the original ones.
        assert.deepEqual(cert.signedData, p.blob.subarray(0, p.signedEnd));
        const orig = parseCertificate(p.blob);
        assert.deepEqual(cert.signature, orig.signature);
      }
    }),
  },
  {
    name: "certificate: build -> parse round trip, and checkCertificate decides as the spec says",
    runs: 200,
    property: fc.property(certSpec, check, (s, c) => {
      const { blob } = buildCert(s);
      const cert = checkParsed(blob);
      assert.ok(!(cert instanceof Error), String(cert));
      assert.deepEqual(cert.key.blob, KEYS[s.key].blob);
      assert.deepEqual(cert.caKey.blob, CAS[s.ca].blob);
      assert.equal(cert.serial, s.serial);
      assert.equal(cert.certType, s.certType);
      assert.equal(cert.keyId, s.keyId);
      assert.deepEqual(cert.principals, s.principals);
      assert.equal(cert.validAfter, s.validAfter);
      assert.equal(cert.validBefore, s.validBefore);
      assert.deepEqual([...cert.criticalOptions], s.critical);
      assert.deepEqual([...cert.extensions], s.extensions);
      const r = checkChecked(cert, c);
      const want = oracle(s, c);
      assert.equal(r.ok ? "ok" : reasonOf(r.error), want);
      if (r.ok) {
        const crit = new Map(s.critical);
        const force = crit.get("force-command");
        assert.equal(r.value.forceCommand, force);
        assert.equal(
          r.value.portForwarding,
          s.extensions.some(([n]) => n === "permit-port-forwarding") && force === undefined,
        );
      }
    }),
  },
];

fuzzTests(cases);
