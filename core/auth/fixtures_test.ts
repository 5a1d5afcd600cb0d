// Test helpers shared by the auth tests: key pairs of every supported type
// with their SSH blobs, authorized_keys lines and signers.
import { ed25519 } from "@noble/curves/ed25519.js";
import { generateKeyPairSync, sign as nodeSign } from "node:crypto";
import assert from "node:assert/strict";
import { SshWriter } from "./ssh_wire.ts";

export interface TestKey {
  type: string;
  blob: Uint8Array;
  /** `type base64 comment` */
  line(comment?: string): string;
  /** Raw signature in the form ssh2 hands to `verify` (raw for ed25519/RSA, DER for ECDSA). */
  sign(data: Uint8Array, hash?: "sha256" | "sha512"): Uint8Array;
  /** SSH signature blob `string algo, string sig`. */
  signWire(data: Uint8Array, hash?: "sha256" | "sha512"): Uint8Array;
  seed?: Uint8Array;
}

export function b64(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b));
}

function fromB64url(s: string): Uint8Array {
  const t = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(t + "=".repeat((4 - t.length % 4) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function makeLine(type: string, blob: Uint8Array) {
  return (comment = "test") => `${type} ${b64(blob)} ${comment}`;
}

export function ed25519Key(fill = 1): TestKey {
  const seed = new Uint8Array(32).fill(fill);
  const pub = ed25519.getPublicKey(seed);
  const blob = new SshWriter().writeString("ssh-ed25519").writeString(pub).toBytes();
  const sign = (data: Uint8Array) => ed25519.sign(data, seed);
  return {
    type: "ssh-ed25519",
    blob,
    seed,
    line: makeLine("ssh-ed25519", blob),
    sign,
    signWire: (d) => new SshWriter().writeString("ssh-ed25519").writeString(sign(d)).toBytes(),
  };
}

const CURVES = {
  256: ["P-256", "nistp256"],
  384: ["P-384", "nistp384"],
  521: ["P-521", "nistp521"],
};

export function ecdsaKey(bits: 256 | 384 | 521 = 256): TestKey {
  const [named, ident] = CURVES[bits];
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: named });
  const jwk = publicKey.export({ format: "jwk" });
  const x = fromB64url(jwk.x!);
  const y = fromB64url(jwk.y!);
  const q = new Uint8Array(1 + x.length + y.length);
  q[0] = 4;
  q.set(x, 1);
  q.set(y, 1 + x.length);
  const type = `ecdsa-sha2-${ident}`;
  const blob = new SshWriter().writeString(type).writeString(ident).writeString(q).toBytes();
  const hash = bits === 256 ? "sha256" : bits === 384 ? "sha384" : "sha512";
  const size = bits === 521 ? 66 : bits / 8;
  return {
    type,
    blob,
    line: makeLine(type, blob),
    sign: (d) => new Uint8Array(nodeSign(hash, d, privateKey)),
    signWire: (d) => {
      const p1363 = new Uint8Array(
        nodeSign(hash, d, { key: privateKey, dsaEncoding: "ieee-p1363" }),
      );
      assert.equal(p1363.length, size * 2);
      const inner = new SshWriter().writeMpint(p1363.subarray(0, size)).writeMpint(
        p1363.subarray(size),
      )
        .toBytes();
      return new SshWriter().writeString(type).writeString(inner).toBytes();
    },
  };
}

export function rsaKey(): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = publicKey.export({ format: "jwk" });
  const blob = new SshWriter().writeString("ssh-rsa").writeMpint(fromB64url(jwk.e!))
    .writeMpint(fromB64url(jwk.n!)).toBytes();
  const sign = (d: Uint8Array, h: "sha256" | "sha512" = "sha256") =>
    new Uint8Array(nodeSign(h, d, privateKey));
  return {
    type: "ssh-rsa",
    blob,
    line: makeLine("ssh-rsa", blob),
    sign,
    signWire: (d, h = "sha256") =>
      new SshWriter().writeString(h === "sha256" ? "rsa-sha2-256" : "rsa-sha2-512").writeString(
        sign(d, h),
      ).toBytes(),
  };
}

/** A small deterministic PRNG (mulberry32) for fuzz loops. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
